"""The simulated patient against the physiology of SIMULATION_PARAMETERS.md, and its source against the pump.

Each physiological check measures twice where it can: on the ground-truth templates and firing log the
generator reports, and on the generated signal itself (through the app's real clinical filters where a
clinician would look at it filtered).
"""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pytest
from support.clock import FakeClock
from support.waiting import wait_for_samples

from emgscope.acquisition import sim_shapes
from emgscope.acquisition.pump import AcquisitionPump
from emgscope.acquisition.sim_pool import FAR, FASCICULATION, FIBRILLATION, INSERTION, MUAP, PSW, UnitInfo
from emgscope.acquisition.simulator import MAX_CATCH_UP_S, SimulatedPatient, SimulatedSource
from emgscope.bench.pipeline import measure_simulator
from emgscope.core import events
from emgscope.core.events import Event, EventBus
from emgscope.core.settings import FilterSettings, SimulatorSettings
from emgscope.core.source import MIN_READ_S, SourceError
from emgscope.dsp.filters import FilterBank

pytestmark = pytest.mark.timeout(60)
"""The patient streams through a pump thread: a hang fails its own test."""

FS = 20_000.0

# Clinical ranges (SIMULATION_PARAMETERS §4, with §1 for the normal polyphasic share): duration ms, p-p µV.
MUAP_RANGES = {
    "normal": ((8.0, 10.0), (300.0, 1000.0)),
    "myopathic": ((3.0, 5.0), (100.0, 400.0)),
    "neurogenic": ((15.0, 25.0), (2000.0, 6000.0)),
}


def patient(pathology: str = "normal", effort: float = 0.0, channels: int = 1, seed: int = 1, **kw) -> SimulatedPatient:
    settings = SimulatorSettings(pathology=pathology, effort_percent=effort, channels=channels, seed=seed, **kw)
    return SimulatedPatient(settings, log_firings=True)


def filtered(x: np.ndarray, fs: float = FS) -> np.ndarray:
    """The needle-EMG preset (10 Hz-10 kHz), as the display and the loudspeaker get it."""
    return FilterBank(FilterSettings(), fs, x.shape[0]).process(x).astype(np.float64)


def units_of(p: SimulatedPatient, kind: str) -> list[UnitInfo]:
    return [u for u in p.units if u.kind == kind]


def rates_by_unit(p: SimulatedPatient, seconds: float, kind: str = MUAP) -> dict[int, float]:
    """Discharge rate (Hz) of every unit of ``kind`` that fired during the last ``seconds``."""
    log = p.firing_log()
    ids, counts = np.unique(log.units, return_counts=True)
    return {int(i): c / seconds for i, c in zip(ids, counts, strict=True) if p.units[i].kind == kind}


# --- templates ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pathology", ["normal", "myopathic", "neurogenic"])
def test_muap_templates_match_the_preset(pathology: str) -> None:
    (dur_lo, dur_hi), (amp_lo, amp_hi) = MUAP_RANGES[pathology]
    near = units_of(patient(pathology, channels=16), MUAP)
    durations = np.array([u.duration_ms for u in near])
    amplitudes = np.array([u.amplitude_uv for u in near])
    phases = np.array([u.phases for u in near])
    # The reported figures are the clinical measurements of the templates themselves.
    assert durations == pytest.approx([sim_shapes.duration_ms(u.template, FS) for u in near])
    assert durations.min() >= dur_lo - 0.5 and durations.max() <= dur_hi + 0.5, (durations.min(), durations.max())
    assert np.mean((durations >= dur_lo) & (durations <= dur_hi)) >= 0.9
    assert dur_lo <= np.median(durations) <= dur_hi
    assert amplitudes.min() >= amp_lo * 0.99 and amplitudes.max() <= amp_hi * 1.01
    polyphasic = float(np.mean(phases >= 5))
    if pathology == "normal":
        assert 0.05 <= polyphasic <= 0.25, polyphasic  # "up to 10-15 %" (§1)
        simple = [u for u in near if u.phases < 5]
        assert max(u.rise_time_ms for u in simple) <= 0.5  # near-field rise time (§1)
        assert {u.phases for u in simple} <= {2, 3}
    elif pathology == "myopathic":
        assert polyphasic >= 0.6 and phases.max() <= 8, (polyphasic, phases.max())  # 5-8 phases (§4)
    else:
        assert polyphasic >= 0.4, polyphasic
    # True polarity: the main spike of a MUAP is negative (a polyphasic one may peak on a positive phase).
    negative = [u.template[u.peak_offset] < 0 for u in near]
    assert all(neg for neg, u in zip(negative, near, strict=True) if u.phases < 5)
    assert np.mean(negative) >= 0.6
    assert all(u.template[0] == 0 and u.template[-1] == 0 for u in near)


def test_spontaneous_templates_are_fibrillations_and_positive_sharp_waves() -> None:
    p = patient("neurogenic", channels=16)
    fibs, psws, fascs = units_of(p, FIBRILLATION), units_of(p, PSW), units_of(p, FASCICULATION)
    assert fibs and psws and len(fascs) == 16
    for u in fibs + psws:
        first = u.template[np.abs(u.template) > 0.05 * u.amplitude_uv][0]
        assert first > 0, "fibrillations and PSWs start positive"
        assert 20 * 0.99 <= u.amplitude_uv <= 200 * 1.01
        assert 0.5 <= u.rate_hz <= 15
    assert all(0.9 <= u.duration_ms <= 5.0 for u in fibs), [u.duration_ms for u in fibs]
    assert all(9.0 <= u.duration_ms <= 30.0 for u in psws), [u.duration_ms for u in psws]
    for u in psws:  # a sharp positive deflection, then a long low negative phase: no negative spike
        assert -u.template.min() < 0.5 * u.template.max()
    assert all(200 * 0.99 <= u.amplitude_uv <= 1500 * 1.01 and 0.1 <= u.rate_hz <= 0.5 for u in fascs)
    for pathology in ("normal", "myopathic"):
        kinds = {u.kind for u in patient(pathology, channels=4).units}
        assert kinds == {MUAP, FAR, INSERTION}


# --- the generated signal -------------------------------------------------------------------------------------


@pytest.mark.parametrize("pathology", ["normal", "myopathic", "neurogenic"])
def test_isolated_muaps_in_the_signal_match_their_templates(pathology: str) -> None:
    """At low effort, cut out each MUAP that no sizeable potential overlaps and measure it on the raw signal:
    its peak to peak one by one, its duration on the average of a unit's occurrences (as a delay line does)."""
    (dur_lo, dur_hi), (amp_lo, amp_hi) = MUAP_RANGES[pathology]
    p = patient(pathology, effort=5.0)
    x = p.generate(int(8 * FS))[0]
    log = p.firing_log()
    sizes = np.array([p.units[u].template.size for u in log.units])
    starts = log.samples - np.array([p.units[u].peak_offset for u in log.units])
    ends = starts + sizes
    heights = np.array([p.units[u].amplitude_uv for u in log.units]) * log.gains
    margin = int(0.002 * FS)
    windows: dict[int, list[np.ndarray]] = {}
    for i, uid in enumerate(log.units):
        unit = p.units[uid]
        if unit.kind != MUAP or starts[i] < margin or ends[i] + margin > x.size:
            continue
        overlap = (starts < ends[i] + margin) & (ends > starts[i] - margin)
        overlap[i] = False
        if np.any(heights[overlap] > 0.1 * unit.amplitude_uv):
            continue  # small overlapping potentials (fibrillations on a neurogenic MUAP) are allowed for
        window = x[starts[i] - margin : ends[i] + margin]
        pp = sim_shapes.peak_to_peak(window)
        slack = 0.02 * unit.amplitude_uv + heights[overlap].sum() + 8 * p.noise_rms_uv[0]
        assert abs(pp - unit.amplitude_uv) <= slack, (pp, unit.amplitude_uv, slack)
        windows.setdefault(int(uid), []).append(window)
    averaged = {uid: np.mean(w, axis=0) for uid, w in windows.items() if len(w) >= 8}
    assert averaged, {uid: len(w) for uid, w in windows.items()}
    for uid, average in averaged.items():
        pp = sim_shapes.peak_to_peak(average)
        assert pp == pytest.approx(p.units[uid].amplitude_uv, rel=0.05)
        assert amp_lo * 0.95 <= pp <= amp_hi * 1.05
        measured = sim_shapes.duration_ms(average, FS)
        assert measured == pytest.approx(p.units[uid].duration_ms, abs=0.6)
        assert dur_lo - 0.6 <= measured <= dur_hi + 0.6


def test_recruitment_rates_and_units_rise_with_effort() -> None:
    p = patient("normal")
    near = units_of(p, MUAP)
    active, first_rate = [], []
    for effort in (3, 15, 35, 60, 100):
        p.effort_percent = effort
        p.generate(int(0.1 * FS))  # let the blocks rendered at the previous effort pass
        p.clear_firing_log()
        p.generate(int(4 * FS))
        rates = rates_by_unit(p, 4.0)
        active.append(len(rates))
        first_rate.append(rates[near[0].id])
    assert active == sorted(active) and active[0] < active[-1], active
    assert first_rate == sorted(first_rate), first_rate
    assert first_rate[0] == pytest.approx(5.0 + 25.0 * (1 - np.exp(-1 / 35)), abs=1.5)  # onset ~5 Hz
    assert 24 <= first_rate[-1] <= 36, first_rate  # 20-30+ Hz at maximal effort
    assert active[-1] >= 10  # interference pattern: every near unit of the site

    # The next unit joins when the first fires at ~10 Hz (recruitment ratio ~5).
    p.effort_percent = near[1].threshold_percent + 0.5
    p.generate(int(0.1 * FS))
    p.clear_firing_log()
    p.generate(int(6 * FS))
    rates = rates_by_unit(p, 6.0)
    assert near[1].id in rates and 8.0 <= rates[near[0].id] <= 12.5, rates


def test_isi_variability_of_voluntary_units() -> None:
    p = patient("normal", effort=50.0)
    p.generate(int(6 * FS))
    log = p.firing_log()
    cvs = []
    for unit in units_of(p, MUAP)[:4]:
        isi = np.diff(log.samples[log.units == unit.id])
        cvs.append(isi.std() / isi.mean())
    assert all(0.07 <= cv <= 0.24 for cv in cvs), cvs  # 10-20 % (§4)


def test_myopathic_recruits_early_and_neurogenic_late() -> None:
    def active_units(pathology: str, effort: float, seconds: float = 4.0) -> dict[int, float]:
        p = patient(pathology, effort=effort)
        p.generate(int(seconds * FS))
        return rates_by_unit(p, seconds)

    normal, myopathic = active_units("normal", 12.0), active_units("myopathic", 12.0)
    assert len(myopathic) >= 2 * len(normal), (normal, myopathic)  # many small units at low effort
    neurogenic = active_units("neurogenic", 15.0)
    assert len(neurogenic) == 1 and min(neurogenic.values()) >= 15, neurogenic  # one unit, already fast
    neurogenic = active_units("neurogenic", 100.0, 3.0)
    assert 1 <= len(neurogenic) <= 3 and min(neurogenic.values()) >= 25, neurogenic  # reduced recruitment


@pytest.mark.parametrize("pathology", ["normal", "myopathic", "neurogenic"])
def test_rms_rises_monotonically_with_effort(pathology: str) -> None:
    p = patient(pathology)
    rms = []
    for effort in range(0, 101, 25):
        p.effort_percent = effort
        p.generate(int(0.1 * FS))
        rms.append(float(np.sqrt(np.mean(filtered(p.generate(int(2 * FS))) ** 2))))
    assert all(b > a for a, b in itertools.pairwise(rms)), [round(r, 1) for r in rms]
    assert rms[-1] > 5 * rms[0]


def test_background_noise_at_rest_in_normal() -> None:
    p = patient("normal", channels=4)
    x = p.generate(int(2 * FS))
    raw = x.std(axis=1)
    assert np.all((raw >= 2.0) & (raw <= 5.0)), raw
    assert raw == pytest.approx(p.noise_rms_uv, rel=0.02)
    assert np.all(filtered(x).std(axis=1) <= 5.0)
    assert len(p.firing_log()) == 0


def count_spikes(y: np.ndarray, level: float, dead_ms: float = 30.0) -> int:
    """Excursions beyond ``level`` µV, merging those closer than ``dead_ms`` (the longest PSW)."""
    above = np.flatnonzero(np.abs(y) > level)
    if above.size == 0:
        return 0
    return 1 + int(np.count_nonzero(np.diff(above) > dead_ms * FS / 1000))


def test_spontaneous_activity_at_rest_only_in_neurogenic() -> None:
    counts = {}
    for pathology in ("normal", "myopathic", "neurogenic"):
        p = patient(pathology, seed=4)
        y = filtered(p.generate(int(10 * FS)))[0]
        counts[pathology] = (count_spikes(y, 8 * p.noise_rms_uv[0]), len(p.firing_log()))
    assert counts["normal"] == (0, 0) and counts["myopathic"] == (0, 0), counts
    detected, truth = counts["neurogenic"]
    assert detected >= 20 and truth >= 20, counts
    assert detected <= truth, counts


def test_fibrillation_trains_regular_and_fasciculations_rare() -> None:
    p = patient("neurogenic", channels=16)
    p.generate(int(10 * FS))
    log = p.firing_log()
    cvs = []
    for unit in units_of(p, FIBRILLATION) + units_of(p, PSW):
        times = log.samples[log.units == unit.id]
        isi = np.diff(times)
        cv = isi.std() / isi.mean() if isi.size >= 5 else 1.0
        expected = unit.rate_hz * 10
        assert len(times) == pytest.approx(expected, abs=3 + 4 * max(cv, 0.05) * np.sqrt(expected))
        if isi.size >= 5:
            cvs.append(cv)
    cvs_arr = np.array(cvs)
    assert np.mean(cvs_arr < 0.06) >= 0.4, cvs  # most trains are regular (jitter < 5 %)
    assert np.any(cvs_arr > 0.2), cvs  # some are irregular (§2: ~43 %)
    fasc = sum(int(np.count_nonzero(log.units == u.id)) for u in units_of(p, FASCICULATION))
    assert 0.1 <= fasc / (16 * 10) <= 0.5, fasc


def test_mains_hum_is_optional() -> None:
    for mains in (0.0, 50.0, 60.0):
        x = patient("normal", mains_hz=mains).generate(int(FS))[0]
        spectrum = np.abs(np.fft.rfft(x)) * 2 / x.size  # 1 Hz bins: amplitude per bin
        if mains:
            assert 5.0 <= spectrum[int(mains)] <= 11.0, spectrum[int(mains)]
            assert spectrum[int(3 * mains)] == pytest.approx(spectrum[int(mains)] / 4, rel=0.3)
        else:
            assert spectrum[50] < 1.0 and spectrum[60] < 1.0


# --- insertion --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pathology", ["normal", "neurogenic"])
def test_insertion_burst_has_the_right_length(pathology: str) -> None:
    p = patient(pathology, seed=7)
    p.generate(int(0.2 * FS) + 37)
    p.insertion()
    y = p.generate(int(1.2 * FS))[0]
    start, end = p.insertions[-1]
    assert start == int(0.2 * FS) + 37
    length_s = (end - start) / FS
    lo, hi = p.profile.insertion_s
    assert lo <= length_s <= hi
    burst = p.firing_log()
    burst_units = [p.units[u].kind for u in burst.units]
    assert burst_units.count(INSERTION) >= 0.5 * 250 * length_s
    if pathology == "normal":  # nothing else at rest: the burst is all there is above the noise
        above = np.flatnonzero(np.abs(y) > 6 * p.noise_rms_uv[0])
        assert above[0] / FS < 0.002
        assert (above[-1] - above[0]) / FS == pytest.approx(length_s, abs=0.01)
        assert 60 <= np.abs(y).max() <= 2 * 400  # single waveforms of 60-400 µV, at times overlapping


# --- determinism, validation, cost ---------------------------------------------------------------------------


def test_same_seed_same_samples_whatever_the_chunking() -> None:
    a, b = patient("neurogenic", 40.0, channels=2), patient("neurogenic", 40.0, channels=2)
    whole = np.hstack([a.generate(4000), a.generate(0), a.generate(16000)])
    rng = np.random.default_rng(0)
    parts = []
    while sum(x.shape[1] for x in parts) < 20000:
        parts.append(b.generate(min(int(rng.integers(1, 1500)), 20000 - sum(x.shape[1] for x in parts))))
    assert np.array_equal(whole, np.hstack(parts))
    assert np.array_equal(a.firing_log().samples, b.firing_log().samples)

    def session(seed: int) -> np.ndarray:
        p = patient("normal", 10.0, seed=seed)
        out = [p.generate(3000)]
        p.effort_percent = 80
        p.insertion()
        out.append(p.generate(5000))
        return np.hstack(out)

    assert np.array_equal(session(3), session(3))
    assert not np.allclose(session(3), session(4))
    # Each site is fixed by (seed, channel), whatever the number of sites.
    one, four = patient("normal", channels=1), patient("normal", channels=4)
    assert all(np.array_equal(u.template, v.template) for u, v in zip(one.units, four.units, strict=False))


def test_bad_settings_are_refused_clearly() -> None:
    for bad, word in (
        (SimulatorSettings(pathology="tired"), "pathology"),
        (SimulatorSettings(sample_rate=100.0), "sample rate"),
        (SimulatorSettings(channels=0), "channels"),
        (SimulatorSettings(seed=-1), "seed"),
        (SimulatorSettings(mains_hz=-50.0), "mains"),
        (SimulatorSettings(effort_percent=float("nan")), "effort"),
    ):
        with pytest.raises(ValueError, match=word):
            SimulatedPatient(bad)
        with pytest.raises(SourceError, match="simulated patient cannot start"):
            SimulatedSource(bad).open()
    p = patient()
    p.effort_percent = 150
    assert p.effort_percent == 100
    p.effort_percent = -3
    assert p.effort_percent == 0
    with pytest.raises(ValueError):
        p.effort_percent = float("nan")
    with pytest.raises(RuntimeError):
        SimulatedPatient(SimulatorSettings()).firing_log()


def test_generation_cost_is_measured() -> None:
    """The bar (16 channels at 20 kHz at maximal effort >= 5x real time) is ``emgscope bench``'s
    ``sim_x_realtime``, measured on a machine left to it; here only that the figure is there."""
    figure = measure_simulator(0.2)["sim_x_realtime"]
    assert np.isfinite(figure) and figure > 0


def test_lower_sample_rates_keep_the_shapes() -> None:
    for rate in (4_000.0, 48_000.0):
        p = patient("normal", channels=4, sample_rate=rate)
        near = units_of(p, MUAP)
        assert all(7.5 <= u.duration_ms <= 10.5 for u in near)
        assert all(300 * 0.99 <= u.amplitude_uv <= 1000 * 1.01 for u in near)
        assert p.generate(int(rate * 0.05)).shape == (4, int(rate * 0.05))


# --- the source ---------------------------------------------------------------------------------------------------


def test_source_paces_by_its_clock_and_caps_catch_up() -> None:
    clock = FakeClock()
    source = SimulatedSource(SimulatorSettings(pathology="neurogenic", channels=3), clock=clock)
    info = source.open()
    assert info.sample_rate == FS and info.channel_labels == ("Needle 1", "Needle 2", "Needle 3")
    assert info.description == "Simulated patient (neurogenic)" and info.device == "emgscope simulated patient"
    assert source.read().shape == (3, 0)  # nothing due yet
    # One second read a sixteenth at a time: exactly the samples due, none skipped.
    delivered = 0
    for _ in range(16):
        clock.advance(1 / 16)
        delivered += source.read().shape[1]
    assert delivered == FS and source.skipped_samples == 0
    # Under MIN_READ_S due: nothing yet, and nothing lost (the samples wait for a later read).
    tick = 2**-12
    assert 2 * tick * FS < MIN_READ_S * FS <= 3 * tick * FS
    clock.advance(tick)
    assert source.read().shape == (3, 0)  # 4 due
    clock.advance(tick)
    assert source.read().shape == (3, 0)  # 9 due
    clock.advance(tick)
    assert source.read().shape == (3, int(3 * tick * FS))  # 14 due, all three ticks' worth
    # A 5 s stall: one read delivers MAX_CATCH_UP_S, the rest is skipped and counted, and pacing goes on from now.
    clock.advance(5.0)
    chunk = source.read()
    assert chunk.shape == (3, round(MAX_CATCH_UP_S * FS))
    assert source.skipped_samples == 5 * FS - round(MAX_CATCH_UP_S * FS)
    assert source.read().shape == (3, 0)
    clock.advance(1 / 16)
    assert source.read().shape == (3, FS / 16)
    source.effort_percent = 70
    source.insertion()
    assert source.patient is not None and source.patient.effort_percent == 70
    source.close()
    source.close()
    with pytest.raises(SourceError):
        source.read()


def test_source_through_the_pump_delivers_what_its_clock_makes_due() -> None:
    """Through the real pump, paced by a clock moved here: exact counts. The real-time rate is a benchmark
    figure (``sim_rate_error_pct``)."""
    clock = FakeClock()
    source = SimulatedSource(SimulatorSettings(channels=2, effort_percent=20.0), clock=clock)
    bus = EventBus()
    connected = threading.Event()
    received: list[Event] = []

    def on_event(event: Event) -> None:
        received.append(event)
        if event.kind == events.CONNECTED:
            connected.set()

    bus.subscribe(on_event)
    pump = AcquisitionPump(source, FilterSettings(), bus)
    pump.start()
    try:
        assert connected.wait(15.0)
        assert pump.pipeline is not None
        raw, filt = pump.pipeline.raw, pump.pipeline.filtered
        reader = filt.reader("test")
        for sixteenth in range(1, 17):  # never more than MAX_CATCH_UP_S at once: nothing is skipped
            clock.advance(1 / 16)
            wait_for_samples(filt, sixteenth * round(FS / 16))
        assert raw.write_index == filt.write_index == FS  # the clock stands still: nothing more is due
        source.effort_percent = 100
        data = reader.read()
        assert reader.overrun_samples == 0 and data.shape == (2, FS)
        assert 5 <= float(np.std(data[:, -int(0.5 * FS) :])) <= 2000
    finally:
        pump.stop()
    assert source.skipped_samples == 0
    assert [e.kind for e in received if e.kind != events.WARNING][:1] == [events.CONNECTED]
    assert received[0].message == "Simulated patient (normal)"


def test_pump_reports_bad_simulator_settings() -> None:
    bus = EventBus()
    received: list[Event] = []
    bus.subscribe(received.append)
    pump = AcquisitionPump(SimulatedSource(SimulatorSettings(channels=0)), FilterSettings(), bus)
    pump.start()
    pump.stop()
    assert [e.kind for e in received] == [events.CONNECT_FAILED]
    assert "channels" in received[0].message
