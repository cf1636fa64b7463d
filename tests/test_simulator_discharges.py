"""Every discharge a trainee must learn, against the figures of SIMULATION_PARAMETERS §2 (shape, size, pattern).

The teaching patients that carry each discharge are simulated at rest, and the ground truth (templates and the
firing log) is measured: rates, intervals, runs, amplitudes and the signal the discharges leave above the noise.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from emgscope.acquisition import sim_profiles as profiles
from emgscope.acquisition.sim_pool import Site
from emgscope.acquisition.simulator import SETTLE_PER_CHANNEL_S, SETTLE_S, SimulatedPatient
from emgscope.core.discharges import (
    CRD,
    ENDPLATE_NOISE,
    ENDPLATE_SPIKE,
    FIBRILLATION,
    MYOKYMIC,
    MYOTONIC,
    NEUROMYOTONIC,
    PSW,
)
from emgscope.core.settings import SimulatorSettings

FS = 20_000.0


def at_rest(patient: str, seconds: float, channels: int = 1, seed: int = 1) -> SimulatedPatient:
    p = SimulatedPatient(SimulatorSettings(channels=channels, seed=seed, patient=patient), log_firings=True)
    p.generate(int(seconds * FS))
    return p


def times_of(p: SimulatedPatient, kind: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(peak samples, gains)`` of each generator of ``kind``."""
    log = p.firing_log()
    return [(log.samples[log.units == u.id], log.gains[log.units == u.id]) for u in p.units if u.kind == kind]


def runs(times: np.ndarray, gap: float) -> list[np.ndarray]:
    """``times`` split where an interval exceeds ``gap`` samples."""
    cuts = np.flatnonzero(np.diff(times) > gap) + 1
    return [r for r in np.split(times, cuts) if r.size >= 3]


@pytest.mark.parametrize("grade", [0, 1, 2, 3, 4])
def test_fibrillation_grades_set_the_trains_per_site(grade: int) -> None:
    """QEMG §6: 0 none ... 4+ profuse, filling the baseline; per site the rule of TRAINS_PER_GRADE."""
    profile = profiles.MuscleProfile(f"grade {grade}", spontaneous=profiles.Spontaneous(fibrillations=grade))
    counts = [
        sum(kind == FIBRILLATION for kind, _, _ in Site(profile, seed, 0, FS).fibre_templates()) for seed in range(12)
    ]
    low, high = profiles.TRAINS_PER_GRADE[grade]
    assert all(low <= c <= high for c in counts), counts
    assert np.mean(counts) >= (low + high) / 2 - 1.0


def test_profuse_fibrillations_fill_the_baseline() -> None:
    """4+ fills the baseline: a 10 ms window without a potential above the noise is rare."""
    quiet = SimulatedPatient(SimulatorSettings(pathology="normal")).generate(int(4 * FS))[0]
    profile = profiles.MuscleProfile("4+", spontaneous=profiles.Spontaneous(fibrillations=4, positive_sharp_waves=4))
    p = SimulatedPatient(SimulatorSettings(), profile=profile)
    busy = p.generate(int(4 * FS))[0]
    level = 6 * p.noise_rms_uv[0]

    def filled(x: np.ndarray) -> float:
        windows = np.abs(x[: x.size // 200 * 200]).reshape(-1, 200).max(axis=1)
        return float(np.mean(windows > level))

    assert filled(quiet) == 0.0 and filled(busy) >= 0.7, (filled(quiet), filled(busy))


def test_complex_repetitive_discharges_repeat_identically_and_start_and_stop_abruptly() -> None:
    """§2: a time-locked complex repeating identically, 5-150 Hz (most often 30-40), abrupt onset and end."""
    p = at_rest("chronic_neuropathy_crd:Tibialis anterior", 20.0)
    ((times, gains),) = times_of(p, CRD)
    unit = next(u for u in p.units if u.kind == CRD)
    assert 100 <= unit.amplitude_uv <= 1000 and unit.phases >= 3
    assert np.all(gains == 1.0)  # the same complex every time, full size from the first
    found = runs(times, gap=0.2 * FS)
    assert len(found) >= 2
    for run in found:
        intervals = np.diff(run)
        rate = FS / intervals.mean()
        assert 25 <= rate <= 45
        assert intervals.max() - intervals.min() <= 1  # zero jitter (a sample of rounding)
        assert 2.0 * rate * 0.9 <= run.size <= 6.0 * rate * 1.1
    pauses = [(b[0] - a[-1]) / FS for a, b in itertools.pairwise(found)]
    assert all(1.0 <= s <= 3.2 for s in pauses), pauses


def test_myotonic_discharges_wax_and_wane_in_rate_and_amplitude() -> None:
    """§2: 20-80 Hz, both amplitude and frequency wax and wane (the "dive bomber"); runs of 0.5-3 s (§4)."""
    p = at_rest("myotonic_dystrophy:Deltoid", 25.0)
    ((times, gains),) = times_of(p, MYOTONIC)
    found = runs(times, gap=0.3 * FS)
    assert len(found) >= 3
    for run in found:
        mask = np.isin(times, run)
        rate = FS / np.diff(run)
        size = gains[mask][1:]
        assert rate.min() >= 19.5 and rate.max() <= 80.5
        assert rate.max() >= 2 * rate.min() and size.max() >= 2 * size.min()
        peak = int(np.argmax(rate))
        assert 0 < peak < rate.size - 1  # rises, then falls
        assert np.corrcoef(rate, size)[0, 1] > 0.9  # amplitude follows the rate
        assert 0.5 <= (run[-1] - run[0]) / FS <= 3.1


def test_myokymic_discharges_come_in_recurring_bursts() -> None:
    """§2: one unit firing in regularly recurring bursts ("grouped fasciculations", "marching soldiers")."""
    p = at_rest("radiation_plexopathy:Deltoid", 20.0)
    ((times, _),) = times_of(p, MYOKYMIC)
    unit = next(u for u in p.units if u.kind == MYOKYMIC)
    assert unit.motor_unit >= 0 and unit.amplitude_uv >= 100  # a whole motor unit the needle sees
    bursts = runs(times, gap=0.1 * FS)
    assert len(bursts) >= 10
    sizes = [b.size for b in bursts]
    assert min(sizes) >= 3 and max(sizes) <= 8
    inside = np.concatenate([np.diff(b) for b in bursts]) / FS
    assert inside.min() >= 1 / 60.5 and inside.max() <= 1 / 29.5
    period = np.diff([b[0] for b in bursts]) / FS
    assert 1 / 2.6 <= np.median(period) <= 1 / 0.75 and np.std(period) / np.mean(period) < 0.2


def test_neuromyotonic_discharges_fire_at_high_rates_and_decrement() -> None:
    """§2: one unit firing at 150-250 Hz [T] (200-300 Hz in one case), decrementing in amplitude."""
    p = at_rest("neuromyotonia:Tibialis anterior", 15.0)
    ((times, gains),) = times_of(p, NEUROMYOTONIC)
    trains = runs(times, gap=0.05 * FS)
    assert len(trains) >= 3
    for train in trains:
        mask = np.isin(times, train)
        rate = FS / np.diff(train)
        assert rate.min() >= 149 and rate.max() <= 251 and np.ptp(np.diff(train)) <= 1  # steady, to a sample
        size = gains[mask]
        assert size[0] == 1.0 and 0.29 <= size[-1] <= 0.55 and np.all(np.diff(size) <= 0)


def test_endplate_noise_and_spikes_only_at_the_endplate() -> None:
    """§2: endplate noise (monophasic negative, 10-40 µV, 0.5-3 ms, irregular) and endplate spikes (biphasic,
    initially negative, 100-200 µV, 3-5 ms, irregular up to 50 Hz) appear where the needle sits at the endplate."""
    p = SimulatedPatient(SimulatorSettings(pathology="normal"), log_firings=True)
    p.generate(int(2 * FS))
    assert not [u for u in p.units if u.kind in (ENDPLATE_NOISE, ENDPLATE_SPIKE)]
    p.move_needle(new_site=True, endplate=True)
    p.generate(int((SETTLE_S + SETTLE_PER_CHANNEL_S + 0.1) * FS))
    assert p.needle[-1].at_endplate
    p.clear_firing_log()
    p.generate(int(10 * FS))
    noise = [u for u in p.units if u.kind == ENDPLATE_NOISE]
    spikes = [u for u in p.units if u.kind == ENDPLATE_SPIKE]
    assert 4 <= len(noise) <= 8 and 2 <= len(spikes) <= 4
    for u in noise:
        assert 10 * 0.99 <= u.amplitude_uv <= 40 * 1.01 and u.template.max() <= 0 and u.duration_ms <= 3.0
    for u in spikes:
        first = u.template[np.abs(u.template) > 0.05 * u.amplitude_uv][0]
        assert first < 0 and 100 * 0.99 <= u.amplitude_uv <= 200 * 1.01 and u.phases == 2
        assert 2.5 <= u.duration_ms <= 5.0
    log = p.firing_log()
    for u in noise + spikes:
        isi = np.diff(log.samples[log.units == u.id]) / FS
        assert isi.std() / isi.mean() > 0.5  # irregular: the mark that tells them from fibrillations
    rates = [np.count_nonzero(log.units == u.id) / 10 for u in spikes]
    assert all(3 <= r <= 55 for r in rates), rates
    # A new site away from the endplate leaves them behind.
    p.move_needle(new_site=True, endplate=False)
    p.generate(int((SETTLE_S + SETTLE_PER_CHANNEL_S + 0.1) * FS))
    assert not [u for u in p.current_units() if u.kind in (ENDPLATE_NOISE, ENDPLATE_SPIKE)]


def test_positive_sharp_waves_and_fibrillations_of_a_denervated_muscle_fill_its_rests() -> None:
    p = at_rest("acute_radiculopathy:Tibialis anterior", 10.0, channels=8)
    kinds = [u.kind for u in p.units]
    assert FIBRILLATION in kinds and PSW in kinds
    log = p.firing_log()
    assert len(log) >= 8 * 10 * 1.0  # grade 2+: 1-3 trains per site at 0.5-15 Hz


def test_insertional_activity_by_grade() -> None:
    """§2: normal insertional activity is over within about 300 ms [T]; increased is prolonged (in denervated
    muscle ending in positive waves); decreased is brief and small (fibrotic or atrophic muscle)."""
    seconds: dict[str, list[float]] = {}
    sizes: dict[str, list[float]] = {}
    for grade in ("normal", "increased", "decreased"):
        profile = profiles.MuscleProfile(grade, spontaneous=profiles.Spontaneous(insertional=grade))
        for seed in range(1, 6):
            p = SimulatedPatient(SimulatorSettings(seed=seed), log_firings=True, profile=profile)
            p.generate(2000)
            p.insertion()
            y = p.generate(int(3 * FS))[0]
            above = np.flatnonzero(np.abs(y) > 6 * p.noise_rms_uv[0])
            seconds.setdefault(grade, []).append((above[-1] - above[0]) / FS if above.size else 0.0)
            sizes.setdefault(grade, []).append(float(np.abs(y).max()))
    assert max(seconds["normal"]) <= 0.3 and min(seconds["increased"]) >= 0.5, seconds
    assert max(seconds["decreased"]) <= 0.1 and max(sizes["decreased"]) < np.median(sizes["normal"]), (seconds, sizes)
