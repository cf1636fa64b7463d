"""Clinical EMG filters: causal, stateful across chunks, for every channel at once.

The low-frequency filter (high-pass), the high-frequency filter (low-pass) and the mains notch are one
cascade of second-order sections run by ``scipy.signal.sosfilt`` with its state ``zi`` carried from chunk to
chunk, so filtering a stream chunk by chunk gives exactly what filtering it whole would. Butterworth
sections put the −3 dB point exactly at the clinical cut-off.

A device too slow for the requested band gets its cut-offs clamped below Nyquist; :func:`design` says so in
``FilterDesign.warnings`` so the GUI can show it without blocking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from emgscope.core.settings import FilterSettings

FILTER_ORDER = 2
"""Second order per edge (12 dB/octave), as clinical EMG machines use: steep enough, little ringing."""
NYQUIST_FRACTION = 0.45
"""The highest cut-off allowed, as a fraction of the sample rate."""
NOTCH_Q = 30.0
CLINICAL_CONTENT_HZ = 5_000.0
"""Needle potentials carry little energy above this. Clamping a 10 kHz filter to 9 kHz on a 20 kHz amplifier
changes nothing a clinician sees or hears, so only a clamp below this (or below the requested cut-off, if
lower) earns a warning; the band shown on screen always says what is actually applied."""


@dataclass(frozen=True)
class FilterDesign:
    """The sections actually used, the cut-offs after clamping, and why they differ from the request."""

    sos: np.ndarray
    low_cut_hz: float
    high_cut_hz: float
    notch_hz: tuple[float, ...]
    warnings: tuple[str, ...]
    high_asked_hz: float = 0.0
    """The high-frequency filter asked for, where the sample rate forced a lower one (0: applied as asked)."""
    sample_rate: float = 0.0

    def notes(self, recorded: bool) -> list[tuple[str, str]]:
        """What the operator is told of this design, as ``(level, sentence)``: a live device too slow for the
        needle band is a warning; a recording made at a lower rate is a fact about the file, said without alarm,
        with what it means for what is seen and heard."""
        notes = [("warning", warning) for warning in self.warnings]
        if self.high_asked_hz and self.high_asked_hz > self.high_cut_hz:
            rate, high = self.sample_rate, self.high_cut_hz
            if recorded:
                notes.append(
                    (
                        "info",
                        f"This recording was sampled at {rate:g} Hz, so it holds frequencies up to {rate / 2:g} Hz "
                        f"and the high-frequency filter is {high:g} Hz instead of {self.high_asked_hz:g} Hz: "
                        "fibrillations and the sharpest spikes look a little blunter and sound duller than in a "
                        "live 20 kHz needle recording.",
                    )
                )
            elif rate / 2 < CLINICAL_CONTENT_HZ:
                notes.append(
                    (
                        "warning",
                        f"This device samples at {rate:g} Hz, too slow for a {self.high_asked_hz:g} Hz "
                        f"high-frequency filter: it is clamped to {high:g} Hz. Needle EMG needs about 20 kHz "
                        "sampling.",
                    )
                )
        return notes


def design(settings: FilterSettings, sample_rate: float) -> FilterDesign:
    """Design the cascade for ``settings`` at ``sample_rate``, clamping what the rate cannot carry."""
    limit = NYQUIST_FRACTION * sample_rate
    warnings: list[str] = []
    sections: list[np.ndarray] = []

    low = settings.low_cut_hz if settings.low_cut_hz > 0 else 0.0
    if low >= limit:
        warnings.append(
            f"The low-frequency filter ({low:g} Hz) is above what {sample_rate:g} Hz sampling carries; it is off."
        )
        low = 0.0
    if low > 0:
        sections.append(signal.butter(FILTER_ORDER, low, "highpass", fs=sample_rate, output="sos"))

    high = settings.high_cut_hz if settings.high_cut_hz > 0 else 0.0
    asked = 0.0
    if high > limit:
        asked = high if limit < min(high, CLINICAL_CONTENT_HZ) else 0.0
        high = limit
    if high > 0 and high <= low:
        warnings.append(f"The high-frequency filter ({high:g} Hz) is below the low-frequency filter; it is off.")
        high = 0.0
    if high > 0:
        sections.append(signal.butter(FILTER_ORDER, high, "lowpass", fs=sample_rate, output="sos"))

    notches: list[float] = []
    if settings.notch_hz > 0:
        for harmonic in range(1, max(1, settings.notch_harmonics) + 1):
            f0 = settings.notch_hz * harmonic
            if f0 >= limit:
                break
            b, a = signal.iirnotch(f0, NOTCH_Q, fs=sample_rate)
            sections.append(signal.tf2sos(b, a))
            notches.append(f0)

    sos = np.vstack(sections) if sections else np.empty((0, 6))
    return FilterDesign(sos, low, high, tuple(notches), tuple(warnings), asked, sample_rate)


class FilterBank:
    """Runs one :class:`FilterDesign` over every channel of a stream, carrying state between chunks.

    Changing the settings while streaming swaps in a new design with fresh state, settled on the next chunk's
    first sample so the trace does not jump.
    """

    def __init__(self, settings: FilterSettings, sample_rate: float, n_channels: int) -> None:
        self.sample_rate = sample_rate
        self.n_channels = n_channels
        self._pending: FilterDesign | None = None
        self.design = design(settings, sample_rate)
        """The design last asked for: what the display and the recording header report. It is in force from the
        next :meth:`process` on, so a reader on another thread sees a change as soon as it is requested."""
        self._active = self.design
        self._zi: np.ndarray | None = None

    def update(self, settings: FilterSettings) -> FilterDesign:
        """Request new settings (any thread); they take effect at the next :meth:`process`."""
        new_design = design(settings, self.sample_rate)
        self.design = new_design
        self._pending = new_design
        return new_design

    def process(self, chunk: np.ndarray) -> np.ndarray:
        """Filter ``chunk`` ``(n_channels, n)``; returns float32 of the same shape."""
        pending, self._pending = self._pending, None
        if pending is not None:
            # Swapped here, on the filtering thread, so a chunk is never run with one design's state and another's
            # sections.
            self._active = pending
            self._zi = None
        sos = self._active.sos
        if chunk.shape[1] == 0 or sos.shape[0] == 0:
            return chunk.astype(np.float32, copy=False)
        work = np.array(chunk, dtype=np.float64, order="C")
        if self._zi is None:
            # Start each section at steady state for the first sample, so there is no start-up transient.
            self._zi = signal.sosfilt_zi(sos)[np.newaxis, :, :] * work[:, :1, np.newaxis]
        _sosfilt_in_place(sos, work, self._zi)
        return work.astype(np.float32)


def _public_sosfilt_in_place(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> None:
    """``sosfilt`` along the last axis of ``x`` ``(channels, n)`` with state ``zi`` ``(channels, sections, 2)``."""
    y, zf = signal.sosfilt(sos, x, axis=1, zi=zi.transpose(1, 0, 2))
    x[...] = y
    zi[...] = zf.transpose(1, 0, 2)


try:
    # SciPy's compiled kernel behind sosfilt, filtering in place. The public function spends ~50 µs per call
    # validating and reshaping, which at a few hundred chunks a second for 16 channels is most of the
    # acquisition thread's budget. tests/test_filters.py checks both paths give the same result.
    from scipy.signal._sosfilt import _sosfilt as _sosfilt_in_place
except ImportError:  # a SciPy that moved it: the public path is slower but identical
    _sosfilt_in_place = _public_sosfilt_in_place
