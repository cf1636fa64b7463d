"""The QEMG §3 measurements on potentials built sample by sample, whose every answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from emgscope.analysis.muap.measure import (
    NEAR_FIELD_RISE_MS,
    ONSET_BAND_UV,
    Markers,
    auto_markers,
    measure,
)

FS = 20_000.0
MS = 20  # samples per ms at FS


def triphasic(baseline: float = 0.0) -> tuple[np.ndarray, dict[str, int]]:
    """20 ms of baseline, then +100 µV for 1 ms, -300 µV for 1 ms, +100 µV for 1 ms (flat lobes), then baseline.

    Flat lobes make every answer exact: the signal leaves the ±40 µV band on the first lobe sample and comes back
    after the last one.
    """
    x = np.full(60 * MS, baseline)
    first = 20 * MS
    x[first : first + MS] += 100.0
    x[first + MS : first + 2 * MS] -= 300.0
    x[first + 2 * MS : first + 3 * MS] += 100.0
    return x, {"first": first, "last": first + 3 * MS - 1}


def test_onset_and_end_are_the_first_and_last_samples_outside_the_band() -> None:
    x, where = triphasic()
    markers = auto_markers(x, FS)
    assert (markers.onset, markers.end) == (where["first"], where["last"])
    assert markers.baseline_uv == 0.0 and markers.found
    m = measure(x, FS, markers)
    assert m.duration_ms == pytest.approx((3 * MS - 1) / MS)
    assert m.amplitude_uv == pytest.approx(400.0)
    assert m.phases == 3
    assert m.turns == 3
    # The rectified area by trapezoids over the 60 samples between the markers (1 ms at 100, 1 ms at 300, 1 ms at
    # 100 µV): every sample counts whole except the two at the ends, which count half.
    dt = 1.0 / MS
    area = (100 * MS + 300 * MS + 100 * MS - 0.5 * 100 - 0.5 * 100) * dt
    assert m.area_uv_ms == pytest.approx(area)
    assert m.thickness_ms == pytest.approx(area / 400.0)
    assert m.size_index == pytest.approx(2 * math.log10(0.4) + area / 400.0)
    # The positive lobe's last sample before the spike to the spike's first sample (the largest deflection).
    assert m.rise_time_ms == pytest.approx(1.0 / MS)


def test_the_baseline_is_the_mean_of_the_3_ms_that_start_6_ms_before_the_onset() -> None:
    x, where = triphasic(baseline=55.0)
    # The band sits around +55 µV, not 0: the markers are the same as on a zero baseline.
    markers = auto_markers(x, FS)
    assert markers.baseline_uv == pytest.approx(55.0)
    assert (markers.onset, markers.end) == (where["first"], where["last"])
    assert measure(x, FS, markers).amplitude_uv == pytest.approx(400.0)


def test_a_quiet_gap_shorter_than_3_ms_stays_inside_the_potential() -> None:
    x, where = triphasic()
    late = where["last"] + 1 + round(2.5 * MS)  # a satellite 2.5 ms after the potential: still part of it
    x[late : late + MS // 2] = -80.0
    markers = auto_markers(x, FS)
    assert markers.end == late + MS // 2 - 1
    x2, _ = triphasic()
    far = where["last"] + 1 + round(3.5 * MS)  # 3.5 ms later: the potential had ended
    x2[far : far + MS // 2] = -80.0
    assert auto_markers(x2, FS).end == where["last"]


def test_small_wiggles_are_neither_phases_nor_turns() -> None:
    x, where = triphasic()
    inside = where["first"] + MS + MS // 2
    x[inside : inside + 4] += np.array([0.0, 20.0, 0.0, 20.0])  # 20 µV ripples on the -300 µV lobe
    m = measure(x, FS, auto_markers(x, FS))
    assert (m.phases, m.turns) == (3, 3)
    x[inside : inside + 4] += np.array([0.0, 30.0, 0.0, 30.0])  # now 50 µV ripples: two more turns each way
    m = measure(x, FS, auto_markers(x, FS))
    assert m.phases == 3 and m.turns == 7


def test_a_crossing_counts_as_a_phase_only_past_25_uv_on_both_sides() -> None:
    x = np.zeros(60 * MS)
    start = 20 * MS
    x[start : start + MS] = -300.0
    x[start + MS : start + 2 * MS] = 20.0  # crosses the baseline but stays within 25 µV
    x[start + 2 * MS : start + 3 * MS] = -200.0
    assert measure(x, FS, auto_markers(x, FS)).phases == 1
    x[start + MS : start + 2 * MS] = 30.0
    assert measure(x, FS, auto_markers(x, FS)).phases == 3


def test_rise_time_over_half_a_millisecond_marks_the_potential_far_field() -> None:
    x = np.zeros(60 * MS)
    start = 20 * MS
    rise = MS  # 1 ms from the positive peak to the negative peak
    x[start : start + rise + 1] = np.linspace(60.0, -90.0, rise + 1)
    m = measure(x, FS, auto_markers(x, FS))
    assert m.rise_time_ms == pytest.approx(1.0)
    assert m.rise_time_ms > NEAR_FIELD_RISE_MS and m.far_field
    x[start : start + rise + 1] = 0.0
    x[start : start + 5] = np.linspace(300.0, -300.0, 5)
    assert not measure(x, FS, auto_markers(x, FS)).far_field


def test_a_potential_inside_the_band_has_no_duration_but_an_amplitude() -> None:
    x = np.zeros(60 * MS)
    x[20 * MS : 20 * MS + 10] = np.linspace(30.0, -30.0, 10)
    markers = auto_markers(x, FS)
    assert markers.onset == markers.end
    m = measure(x, FS, markers)
    assert m.duration_ms == 0.0
    assert m.amplitude_uv == pytest.approx(60.0)
    assert ONSET_BAND_UV > 30.0


def test_markers_moved_by_hand_are_measured_between() -> None:
    x, _ = triphasic()
    auto = auto_markers(x, FS)
    moved = Markers(auto.onset - 2 * MS, auto.end, auto.baseline_uv)
    assert measure(x, FS, moved).duration_ms == pytest.approx(measure(x, FS, auto).duration_ms + 2.0)
    # Over baseline the area grows only by the trapezoid that now reaches the first lobe from zero: half a sample
    # at 100 µV.
    assert measure(x, FS, moved).area_uv_ms == pytest.approx(measure(x, FS, auto).area_uv_ms + 0.5 * 100 / MS)


def test_no_quiet_stretch_inside_the_template_is_said() -> None:
    x, _ = triphasic()
    x[: 20 * MS] = np.where(np.arange(20 * MS) % 2, 100.0, -100.0)  # no 3 ms quiet stretch before the potential
    markers = auto_markers(x, FS)
    assert not markers.found and markers.onset == 0
