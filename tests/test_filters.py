"""The clinical filters, measured two ways: the frequency response of the designed sections, and the gain of sine
waves pushed chunk by chunk through the FilterBank the acquisition pump runs.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, signal

from emgscope.core.settings import FILTER_PRESETS, FilterSettings
from emgscope.dsp import filters
from emgscope.dsp.filters import FilterBank, design

HALF_POWER_DB = -10 * np.log10(2)
"""The "−3 dB" point is where power halves: −3.0103 dB."""
NEEDLE_RATE = 44_100.0
"""10 kHz is below 0.45 × 44.1 kHz, so the needle band is not clamped."""
SURFACE_RATE = 2_000.0


def response_db(sos: np.ndarray, frequency: float, rate: float) -> float:
    _, h = signal.sosfreqz(sos, worN=[frequency], fs=rate)
    return float(20 * np.log10(abs(h[0])))


def half_power_point(sos: np.ndarray, rate: float, low: float, high: float) -> float:
    """The frequency between ``low`` and ``high`` where the designed response crosses −3.01 dB."""
    return optimize.brentq(lambda f: response_db(sos, f, rate) - HALF_POWER_DB, low, high, xtol=1e-6)


def push_in_chunks(bank: FilterBank, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Filter ``x`` (channels, n) in chunks of random size, as the pump delivers them."""
    out = []
    start = 0
    while start < x.shape[1]:
        size = int(rng.integers(1, 700))
        out.append(bank.process(x[:, start : start + size]))
        start += size
    return np.concatenate(out, axis=1)


def sine_gain_db(settings: FilterSettings, rate: float, frequency: float, seconds: float) -> float:
    """Gain of a sine at ``frequency`` through a FilterBank, measured on the settled second half of the signal."""
    rng = np.random.default_rng(int(frequency))
    n = round(seconds * rate)
    t = np.arange(n) / rate
    x = (100.0 * np.sin(2 * np.pi * frequency * t))[np.newaxis, :]
    y = push_in_chunks(FilterBank(settings, rate, 1), x, rng)[0].astype(np.float64)
    half = slice(n // 2, n)
    # Least-squares amplitude of the sine (sin and cos parts), immune to a leftover offset.
    basis = np.column_stack(
        [np.sin(2 * np.pi * frequency * t[half]), np.cos(2 * np.pi * frequency * t[half]), np.ones(n - n // 2)]
    )
    coefficients, *_ = np.linalg.lstsq(basis, y[half], rcond=None)
    return float(20 * np.log10(np.hypot(coefficients[0], coefficients[1]) / 100.0))


@pytest.mark.parametrize(
    ("preset", "rate", "cutoff", "bracket"),
    [
        ("needle", NEEDLE_RATE, 10.0, (3.0, 40.0)),
        ("needle", NEEDLE_RATE, 10_000.0, (3_000.0, 20_000.0)),
        ("surface", SURFACE_RATE, 20.0, (5.0, 60.0)),
        ("surface", SURFACE_RATE, 450.0, (200.0, 900.0)),
    ],
)
def test_designed_half_power_points_sit_on_the_clinical_cutoffs(preset, rate, cutoff, bracket) -> None:
    result = design(FILTER_PRESETS[preset], rate)
    assert result.warnings == ()
    measured = half_power_point(result.sos, rate, *bracket)
    assert measured == pytest.approx(cutoff, rel=0.02)


@pytest.mark.parametrize(
    ("preset", "rate", "cutoff", "seconds", "rising"),
    [
        ("needle", NEEDLE_RATE, 10.0, 1.2, True),
        ("needle", NEEDLE_RATE, 10_000.0, 0.05, False),
        ("surface", SURFACE_RATE, 20.0, 1.0, True),
        ("surface", SURFACE_RATE, 450.0, 0.2, False),
    ],
)
def test_sines_through_the_filter_bank_halve_their_power_within_2_percent_of_the_cutoff(
    preset, rate, cutoff, seconds, rising
) -> None:
    """The −3 dB point lies between 0.98 and 1.02 × the cut-off: the gain crosses −3.01 dB inside that band."""
    settings = FILTER_PRESETS[preset]
    below = sine_gain_db(settings, rate, 0.98 * cutoff, seconds)
    at = sine_gain_db(settings, rate, cutoff, seconds)
    above = sine_gain_db(settings, rate, 1.02 * cutoff, seconds)
    assert at == pytest.approx(HALF_POWER_DB, abs=0.1)
    if rising:
        assert below < HALF_POWER_DB < above
    else:
        assert below > HALF_POWER_DB > above


def test_pass_band_is_flat_for_muaps() -> None:
    """A MUAP's main energy (100 Hz–2 kHz) passes the needle preset within 0.2 dB."""
    sos = design(FILTER_PRESETS["needle"], NEEDLE_RATE).sos
    for frequency in (100.0, 500.0, 1_000.0, 2_000.0):
        assert abs(response_db(sos, frequency, NEEDLE_RATE)) < 0.2


@pytest.mark.parametrize("mains", [50.0, 60.0])
def test_mains_notch_and_harmonics_attenuate_at_least_30_db(mains: float) -> None:
    rate = 5_000.0
    settings = FilterSettings("custom", 10.0, 1_000.0, mains, notch_harmonics=3)
    result = design(settings, rate)
    assert result.notch_hz == (mains, 2 * mains, 3 * mains)
    for harmonic in result.notch_hz:
        assert response_db(result.sos, harmonic, rate) < -30.0
        assert sine_gain_db(settings, rate, harmonic, 4.0) < -30.0
    # Between the harmonics the signal passes (Q = 30: the notch is narrow).
    assert sine_gain_db(settings, rate, 1.5 * mains, 4.0) > -1.0


def test_notch_harmonics_stop_below_nyquist() -> None:
    result = design(FilterSettings("custom", 0.0, 0.0, 50.0, notch_harmonics=5), 250.0)
    assert result.notch_hz == (50.0, 100.0)


def test_chunked_filtering_equals_whole_signal_filtering() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(0, 50, size=(4, 20_000))
    settings = FilterSettings("custom", 10.0, 3_000.0, 50.0, 3)
    chunked = push_in_chunks(FilterBank(settings, 10_000.0, 4), x, rng)
    whole = FilterBank(settings, 10_000.0, 4).process(x)
    np.testing.assert_array_equal(chunked, whole)
    # And both equal SciPy's reference sosfilt started from the same steady state.
    sos = design(settings, 10_000.0).sos
    zi = signal.sosfilt_zi(sos)[:, np.newaxis, :] * x[:, 0][np.newaxis, :, np.newaxis]
    reference, _ = signal.sosfilt(sos, x, axis=1, zi=zi)
    np.testing.assert_allclose(whole, reference, rtol=1e-5, atol=1e-3)


def test_compiled_kernel_and_public_sosfilt_agree() -> None:
    rng = np.random.default_rng(3)
    sos = design(FILTER_PRESETS["needle"], NEEDLE_RATE).sos
    x = rng.normal(size=(3, 5_000))
    zi = rng.normal(size=(3, sos.shape[0], 2))
    fast_x, fast_zi = x.copy(), zi.copy()
    slow_x, slow_zi = x.copy(), zi.copy()
    filters._sosfilt_in_place(sos, fast_x, fast_zi)
    filters._public_sosfilt_in_place(sos, slow_x, slow_zi)
    np.testing.assert_allclose(fast_x, slow_x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fast_zi, slow_zi, rtol=1e-12, atol=1e-12)


def test_a_250_hz_device_clamps_the_filters_below_nyquist_and_says_so() -> None:
    needle = design(FILTER_PRESETS["needle"], 250.0)
    assert needle.high_cut_hz == pytest.approx(0.45 * 250.0)
    assert needle.low_cut_hz == 10.0
    ((level, note),) = needle.notes(recorded=False)
    assert level == "warning" and "This device samples at 250 Hz" in note
    ((level, note),) = needle.notes(recorded=True)  # a file made at 250 Hz is a fact, said without alarm
    assert level == "info" and note.startswith("This recording was sampled at 250 Hz, so it holds frequencies up to")
    assert half_power_point(needle.sos, 250.0, 50.0, 124.0) == pytest.approx(112.5, rel=0.02)
    surface = design(FILTER_PRESETS["surface"], 250.0)
    assert surface.high_cut_hz == pytest.approx(112.5) and surface.notes(recorded=False)
    too_high_lff = design(FilterSettings("custom", 200.0, 0.0, 0.0), 250.0)
    assert too_high_lff.low_cut_hz == 0.0 and "off" in too_high_lff.warnings[0]
    bank = FilterBank(FILTER_PRESETS["needle"], 250.0, 16)
    out = bank.process(np.random.default_rng(1).normal(size=(16, 1000)))
    assert out.dtype == np.float32 and np.all(np.isfinite(out))


def test_no_start_up_transient_on_an_electrode_offset() -> None:
    """A large DC offset (electrode polarisation) does not kick the trace when streaming starts."""
    bank = FilterBank(FILTER_PRESETS["needle"], NEEDLE_RATE, 2)
    out = bank.process(np.full((2, 2_000), 5_000.0))
    assert np.max(np.abs(out)) < 1.0


def test_new_settings_are_reported_at_once_and_filter_from_the_next_chunk() -> None:
    rate = SURFACE_RATE
    t = np.arange(4_000) / rate
    x = (100.0 * np.sin(2 * np.pi * 15.0 * t))[np.newaxis, :]
    bank = FilterBank(FILTER_PRESETS["needle"], rate, 1)
    bank.process(x[:, :2_000])
    pending = bank.update(FILTER_PRESETS["surface"])
    assert bank.design is pending and bank.design.low_cut_hz == 20.0
    surface = bank.process(x[:, 2_000:])
    fresh = FilterBank(FILTER_PRESETS["surface"], rate, 1).process(x[:, 2_000:])
    # From the next chunk on it filters exactly as a bank built with the new settings (15 Hz is now attenuated).
    np.testing.assert_array_equal(surface, fresh)
    assert np.abs(surface[0, 1_000:]).max() < 0.8 * 100.0


def test_filters_off_pass_the_signal_unchanged() -> None:
    bank = FilterBank(FilterSettings("off", 0.0, 0.0, 0.0), 1_000.0, 2)
    x = np.random.default_rng(2).normal(size=(2, 300)).astype(np.float32)
    np.testing.assert_array_equal(bank.process(x), x)


def test_a_20_khz_amplifier_clamps_the_needle_hff_to_9_khz_without_a_warning() -> None:
    """9 kHz instead of 10 kHz removes nothing a clinician sees or hears; only a clamp into the band warns."""
    clamped = design(FILTER_PRESETS["needle"], 20_000.0)
    assert clamped.high_cut_hz == pytest.approx(9_000.0)
    assert clamped.notes(recorded=False) == []
    assert half_power_point(clamped.sos, 20_000.0, 3_000.0, 9_999.0) == pytest.approx(9_000.0, rel=0.02)
    slow = design(FILTER_PRESETS["needle"], 8_000.0)
    assert slow.high_cut_hz == pytest.approx(3_600.0) and len(slow.notes(recorded=False)) == 1
