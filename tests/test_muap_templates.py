"""The stages that make MUP analysis hold on dense needle EMG, on signals built sample by sample whose answers are
known: spikes found under a slow background, the filters run without a tail, templates with the other units taken
away."""

from __future__ import annotations

import numpy as np
import pytest

from emgscope.analysis.muap.analyse import zero_phase
from emgscope.analysis.muap.detect import DETECT_THRESHOLD_SD, background_sd, detect_spikes, spike_band
from emgscope.analysis.muap.measure import ONSET_BAND_UV, auto_markers, measure
from emgscope.analysis.muap.templates import Segment, robust_mean
from emgscope.core.settings import FILTER_PRESETS
from emgscope.dsp.filters import FilterBank, design

FS = 20_000.0
MS = 20  # samples per ms


def spike(peak_to_peak: float) -> np.ndarray:
    """A sharp biphasic spike, 0.6 ms from peak to trough (a near-field MUP's), 4 ms long."""
    t = np.arange(-2 * MS, 2 * MS) / MS
    wave = -t * np.exp(-(t**2) / (2 * 0.3**2))
    return peak_to_peak * wave / np.ptp(wave)


def test_sharp_spikes_are_found_under_a_slow_background_ten_times_their_size() -> None:
    rng = np.random.default_rng(5)
    n = 5 * round(FS)
    t = np.arange(n) / FS
    # Distant units' blunt potentials, 60-200 Hz and 2 mV in all, and 3 µV of amplifier noise.
    slow = sum(500.0 * np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f in (60.0, 97.0, 141.0, 200.0))
    x = slow + rng.normal(0.0, 3.0, n)
    times = np.arange(2_000, n - 2_000, 1_733)
    for at in times:
        x[at - 2 * MS : at + 2 * MS] += spike(200.0)
    # In the clinical band the spikes are lost in the background: 5 SD of it is far above them.
    assert DETECT_THRESHOLD_SD * background_sd(x) > 4 * 200.0
    band = spike_band(x, FS)
    found = detect_spikes(band, FS, DETECT_THRESHOLD_SD * background_sd(band))
    # Every spike is found on itself (its two lobes may each be an event: sorting keeps one discharge per 10 ms),
    # and nothing else is.
    assert all(np.min(np.abs(found - at)) <= MS // 2 for at in times)
    assert all(np.min(np.abs(times - event)) <= MS for event in found)


def test_the_filters_run_both_ways_leave_no_tail_for_the_duration_rule() -> None:
    # A monophasic 1 mV, 2 ms potential (net area 1300 µV·ms, a reinnervated unit's) in 0.3 s of silence.
    x = np.zeros(round(0.3 * FS))
    first = round(0.1 * FS)
    x[first : first + 2 * MS] = -1000.0 * np.sin(np.pi * np.arange(2 * MS) / (2 * MS))
    causal = FilterBank(FILTER_PRESETS["needle"], FS, 1).process(x[np.newaxis])[0].astype(np.float64)
    both = zero_phase(design(FILTER_PRESETS["needle"], FS), x)
    after = slice(first + 2 * MS, None)
    assert np.max(np.abs(causal[after])) > 2 * ONSET_BAND_UV  # the display's filter swings back after it
    assert np.max(np.abs(both[after])) < ONSET_BAND_UV
    assert measure(both, FS, auto_markers(both, FS)).duration_ms == pytest.approx((2 * MS - 1) / MS, abs=0.3)
    assert measure(causal, FS, auto_markers(causal, FS)).duration_ms > 10.0


def test_a_template_is_found_with_the_other_units_taken_away() -> None:
    rng = np.random.default_rng(9)
    n = 5 * round(FS)
    a = np.zeros(12 * MS)
    a[4 * MS : 8 * MS] = spike(900.0)
    a[8 * MS : 11 * MS] = 60.0 * np.sin(np.pi * np.arange(3 * MS) / (3 * MS))  # a slow phase past ±40 µV
    b = np.zeros(12 * MS)
    b[4 * MS : 8 * MS] = spike(2700.0)
    b[8 * MS : 11 * MS] = -200.0 * np.sin(np.pi * np.arange(3 * MS) / (3 * MS))
    # Unit A at 10 Hz; unit B, three times larger, fires 3-15 ms after each of A's discharges (its potential lands on
    # A's span in every one of A's windows, at a latency that varies).
    a_times = np.arange(3_000, n - 3_000, 2_000)
    b_times = a_times + rng.integers(3 * MS, 15 * MS, a_times.size)
    x = rng.normal(0.0, 3.0, n)
    for at in a_times:
        x[at - 6 * MS : at + 6 * MS] += a
    for at in b_times:
        x[at - 6 * MS : at + 6 * MS] += b
    segment = Segment(x, FS, 20 * MS, 40 * MS)
    truth = np.zeros(segment.span.size)
    truth[14 * MS : 26 * MS] = a  # the template's alignment point is sample 20 ms
    plain = robust_mean(segment.windows(segment.padded, a_times))
    a_template, b_template = segment.templates([a_times, b_times], [a_times, b_times])
    assert np.max(np.abs(plain - truth)) > ONSET_BAND_UV  # B stays in A's plain average, beyond the duration's band
    assert np.max(np.abs(a_template - truth)) < 5.0
    assert measure(a_template, FS, auto_markers(a_template, FS)).amplitude_uv == pytest.approx(900.0, rel=0.01)
    assert np.ptp(b_template) == pytest.approx(2700.0, rel=0.01)
