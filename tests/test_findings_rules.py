"""The rules the findings table's suggestions rest on, each on a signal or a unit whose answer is known: polyphasia
from a handful of MUPs, recruitment from the trains that fire as voluntary units, what counts as a MUP, and the
shape of a potential too large for a single fibre."""

from __future__ import annotations

import numpy as np
import pytest
from support.exams import examine

from emgscope.acquisition.sim_patients import load_patient
from emgscope.acquisition.sim_shapes import positive_sharp_wave
from emgscope.analysis.findings.polyphasia import judge_polyphasia
from emgscope.analysis.findings.recruitment import fires_as_voluntary, voluntary_recruitment
from emgscope.analysis.findings.suggest import suggest
from emgscope.analysis.muap.firing import firing_stats
from emgscope.analysis.muap.measure import auto_markers, measure
from emgscope.analysis.muap.model import MuapUnit, SiteAnalysis, site_recruitment
from emgscope.analysis.spontaneous.shape import POSITIVE_WAVE, UNIT, measure_shape
from emgscope.core.settings import FILTER_PRESETS
from emgscope.dsp.filters import FilterBank
from emgscope.replay.reader import open_recording

RATE = 20_000.0
SECONDS = 5.0


@pytest.mark.parametrize(
    ("polyphasic", "mups", "limit", "word", "chance"),
    [
        (4, 4, 15.0, "increased", 0.0005),  # 0.15 ** 4
        (2, 3, 15.0, "normal", 0.0607),  # 3 × 0.15² × 0.85 + 0.15³
        (1, 1, 15.0, "normal", 0.15),  # one MUP can show no increase
        (3, 4, 35.0, "normal", 0.1265),  # tibialis anterior's own limit: 35 %
        (4, 4, 35.0, "increased", 0.35**4),
        (0, 5, 15.0, "normal", 1.0),
    ],
)
def test_polyphasia_is_increased_only_when_a_normal_muscle_would_rarely_give_that_count(
    polyphasic: int, mups: int, limit: float, word: str, chance: float
) -> None:
    judged = judge_polyphasia(polyphasic, mups, limit, "the limit")
    assert judged.word == word
    assert judged.evidence.startswith(f"{polyphasic} of {mups} MUP")
    if polyphasic:
        assert f"probability {chance:.2f}" in judged.evidence
    with pytest.raises(ValueError, match="one MUP or more"):
        judge_polyphasia(0, 0, limit, "the limit")


def _template(duration_ms: float, amplitude_uv: float) -> np.ndarray:
    """A near-field potential lasting about ``duration_ms``: a small positive phase, the main negative spike
    0.3 ms later (the rise time), and a low positive tail filling the rest, between 10 ms of quiet baseline."""
    t = np.arange(round((duration_ms + 20.0) * RATE / 1000.0)) * 1000.0 / RATE - 10.0  # ms from the onset

    def bump(centre: float, width: float) -> np.ndarray:
        return np.exp(-0.5 * ((t - centre) / width) ** 2)

    spike = 0.25 * amplitude_uv * bump(0.3, 0.08) - 0.75 * amplitude_uv * bump(0.6, 0.08)
    tail = np.where((t > 0.9) & (t < duration_ms), 0.1 * amplitude_uv, 0.0) if duration_ms > 2.0 else 0.0
    return spike + tail


def _unit(uid: int, times_s: np.ndarray, duration_ms: float = 8.0) -> MuapUnit:
    template = _template(duration_ms, 600.0)
    markers = auto_markers(template, RATE)
    return MuapUnit(
        id=uid,
        template_uv=template,
        template_rate_hz=RATE,
        zero=int(np.argmax(np.abs(template))),
        discharges=np.round(times_s * RATE).astype(np.int64),
        auto_markers=markers,
        markers=markers,
        measures=measure(template, RATE, markers),
        firing=firing_stats(times_s),
    )


def _site(*units: MuapUnit) -> SiteAnalysis:
    samples = round(SECONDS * RATE)
    return SiteAnalysis(RATE, 0, samples, units, site_recruitment(units, RATE, 0), 5.0, 0, 0)


def _steady(rate_hz: float, start_s: float = 0.02) -> np.ndarray:
    return np.arange(start_s, SECONDS, 1.0 / rate_hz)


def _runs(rate_hz: float) -> np.ndarray:
    """Runs of 0.6 s at ``rate_hz`` with 0.8 s of silence between them (a myokymic or repetitive discharge)."""
    return np.concatenate([np.arange(a, a + 0.6, 1.0 / rate_hz) for a in np.arange(0.05, SECONDS - 0.6, 1.4)])


def test_fast_trains_that_fire_in_runs_or_above_the_primary_range_are_left_out_of_recruitment() -> None:
    assert fires_as_voluntary(_unit(1, _steady(20.0)), RATE)  # a fast voluntary unit: reduced recruitment
    assert not fires_as_voluntary(_unit(2, _runs(30.0)), RATE)  # fast, but falls silent between runs
    assert not fires_as_voluntary(_unit(3, _steady(80.0)), RATE)  # above 50 Hz at minimal effort
    assert fires_as_voluntary(_unit(4, _runs(8.0)), RATE)  # slow trains all count, as in the MUP analysis
    site = _site(_unit(1, _steady(9.0)), _unit(2, _runs(30.0)), _unit(3, _steady(80.0)))
    assert site.recruitment.fastest_rate_hz == pytest.approx(80.0, rel=0.01) and site.recruitment.flags
    judged = voluntary_recruitment(site)
    assert judged.left_out == 2
    assert judged.recruitment.fastest_rate_hz == pytest.approx(9.0, rel=0.01)
    assert judged.recruitment.flags == ()
    reduced = voluntary_recruitment(_site(_unit(1, _steady(9.0)), _unit(2, _steady(22.0))))
    assert reduced.left_out == 0
    assert any("fastest unit 22.0 Hz" in flag for flag in reduced.recruitment.flags)


def test_a_potential_under_2_ms_is_not_a_mup_in_the_muscles_means() -> None:
    long, short = _unit(1, _steady(9.0), 8.0), _unit(2, _steady(10.0), 1.0)
    assert long.measures.duration_ms >= 2.0 and short.measures.duration_ms < 2.0
    site = _site(long, short)
    assert site.accepted(long) and not site.accepted(short)
    assert site.muscle_summary().mups == 1


def test_a_positive_wave_over_300_uv_is_a_motor_units_potential_not_a_positive_sharp_wave() -> None:
    rng = np.random.default_rng(4)
    template = positive_sharp_wave(rng, RATE, 20.0, 1.0)
    kinds = {}
    for amplitude in (120.0, 900.0):
        x = np.concatenate((np.zeros(400), amplitude * template / np.ptp(template), np.zeros(800)))
        x = FilterBank(FILTER_PRESETS["needle"], RATE, 1).process(x[np.newaxis])[0].astype(np.float64)
        kinds[amplitude] = measure_shape(x, int(np.argmax(np.abs(x))), RATE, 3.0).kind
    assert kinds == {120.0: POSITIVE_WAVE, 900.0: UNIT}


def test_the_endplate_zone_of_a_denervated_muscle_gives_no_myotonic_discharge(tmp_path) -> None:
    """ALS's first dorsal interosseous, second rest site (seed 1): the needle at the endplate zone among
    fibrillations; superimposed fibrillations and endplate spikes merged into one group swung in rate and size and
    were called myotonic (196 discharges), a discharge the case does not have. A myotonic discharge is one fibre's:
    its discharges repeat one potential, which begins positive."""
    path = examine(tmp_path, "als", "needle_multi_muscle", seed=1)
    case = load_patient("als")
    rows = suggest(open_recording(path)).rows
    assert len(rows) == 3
    for row in rows:
        assert row.value("other") == list(case.muscle(row.label).findings.other), row.label
