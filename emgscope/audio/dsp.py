"""What happens to the needle signal between the ring and the loudspeaker, with no sound card involved.

The chain, in order: optional audio band filter and squelch at the source rate (thresholds are in µV, so they
act before any gain), then resampling to the output rate with a ratio that may change from block to block (the
drift control trims it), then volume and a clip-safe limiter at the output rate. Everything here is pure numpy:
the PortAudio callback runs it on blocks of ~128 frames, and ``emgscope export-audio`` runs the very same chain
on a file, so what the file holds is what the loudspeaker would have played.

Every stage keeps its state between blocks, so processing a stream block by block gives what processing it in
one go would (up to the ratio trims, which a file export does not make).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

from emgscope.core.settings import FilterSettings
from emgscope.dsp.filters import design

FULL_SCALE_UV = 1000.0
"""At 0 dB volume a ±1 mV signal reaches digital full scale: MUAPs of a few hundred µV are loud, bigger ones
are caught by the limiter instead of clipping."""
LIMITER_CEILING = 10 ** (-1 / 20)
"""The limiter keeps every output sample at or below −1 dBFS."""
LIMITER_RELEASE_S = 0.15
"""After a loud MUAP the gain recovers with this time constant: fast enough not to duck the next unit for long,
slow enough not to distort the waveform (which a gain that follows the wave cycle by cycle would)."""
SQUELCH_HOLD_S = 0.010
"""The squelch stays open this long after the last sample above threshold, so a polyphasic MUAP passes whole."""
SQUELCH_FADE_S = 0.0005
"""Time constant of the squelch's fade in and out: short enough to keep MUAP onsets crisp, long enough that
opening and closing do not click."""
RESAMPLER_TAPS = 32
RESAMPLER_PHASES = 1024
"""Fractional delays tabulated; the nearest one is used (error below −75 dB for audible tones)."""
RESAMPLER_CUTOFF = 0.45
"""Pass band edge as a fraction of the lower of the two sample rates (anti-imaging and anti-aliasing)."""


def _interpolation_table(scale: float, taps: int, phases: int) -> np.ndarray:
    """Kaiser-windowed sinc for every fractional delay, each row summing to one (exact DC gain).

    ``scale`` is output rate / input rate when below one (downsampling), which narrows the pass band so nothing
    above the output's Nyquist frequency folds back; upsampling uses the input's band.
    """
    half = taps // 2
    offsets = np.arange(taps) - (half - 1)
    frac = np.arange(phases) / phases
    distance = offsets[np.newaxis, :] - frac[:, np.newaxis]
    cutoff = RESAMPLER_CUTOFF * scale
    window = np.kaiser(2 * half * 64 + 1, 8.0)
    # Evaluate the window at each tap's continuous distance from the interpolation point.
    window_pos = np.clip(np.round((distance + half) / (2 * half) * (window.size - 1)).astype(int), 0, window.size - 1)
    table = 2 * cutoff * np.sinc(2 * cutoff * distance) * window[window_pos]
    table /= table.sum(axis=1, keepdims=True)
    return table.astype(np.float32)


class Resampler:
    """Band-limited interpolation from ``input_rate`` to ``output_rate`` with a ratio trimmed per block.

    Input is appended with :meth:`push`; :meth:`render` produces output samples as long as enough input is held.
    The read position is fractional, in input samples, so a trim of the ratio never jumps or repeats a sample.
    """

    def __init__(self, input_rate: float, output_rate: float, max_block: int) -> None:
        self.input_rate = input_rate
        self.output_rate = output_rate
        self.nominal_step = input_rate / output_rate
        """Input samples advanced per output sample at the nominal ratio."""
        self.trim = 1.0
        """Multiplies the step: above one consumes input faster (drains the buffer), below one slower."""
        scale = min(1.0, output_rate / input_rate)
        self.taps = max(RESAMPLER_TAPS, 2 * math.ceil(RESAMPLER_TAPS / scale / 2))
        self._half = self.taps // 2
        self._table = _interpolation_table(scale, self.taps, RESAMPLER_PHASES)
        self._offsets = np.arange(self.taps) - (self._half - 1)
        self._ramp = np.arange(max_block, dtype=np.float64)
        max_input = math.ceil(max_block * self.nominal_step * 1.1) + self.taps + 4
        self._buffer = np.zeros(4 * max_input + self.taps, dtype=np.float32)
        # Start with half a kernel of silence behind the read position so the first sample is interpolated too.
        self._length = self._half
        self._position = float(self._half - 1)

    @property
    def step(self) -> float:
        return self.nominal_step * self.trim

    @property
    def held(self) -> float:
        """Input samples held at or after the read position (part of the audio latency, with the kernel's delay)."""
        return self._length - self._position

    def min_held(self, n_out: int) -> float:
        """Input samples that must be held at the read position to render ``n_out`` samples: the block's own
        and the half kernel the last one reaches ahead (at a 512 Hz source that alone is 16 ms)."""
        return self.step * (n_out - 1) + self._half + 1

    def input_needed(self, n_out: int) -> int:
        """How many more input samples :meth:`render` needs to produce ``n_out`` samples at the current step."""
        last = self._position + self.step * (n_out - 1)
        return max(0, math.floor(last) + self._half + 1 - self._length)

    def push(self, samples: np.ndarray) -> None:
        """Append input samples (discarding the input no future output depends on)."""
        n = samples.shape[0]
        keep_from = max(0, math.floor(self._position) - self._half + 1)
        if self._length + n > self._buffer.size and keep_from > 0:
            kept = self._length - keep_from
            self._buffer[:kept] = self._buffer[keep_from : self._length]
            self._length = kept
            self._position -= keep_from
        if self._length + n > self._buffer.size:
            raise ValueError(f"pushed {n} samples into a resampler that holds {self._buffer.size}")
        self._buffer[self._length : self._length + n] = samples
        self._length += n

    def render(self, out: np.ndarray) -> int:
        """Fill ``out`` as far as the input held allows; returns how many samples were produced."""
        n = min(out.shape[0], self._max_renderable())
        if n <= 0:
            return 0
        positions = self._position + self.step * self._ramp[:n]
        whole = np.floor(positions)
        phase = ((positions - whole) * RESAMPLER_PHASES).astype(np.intp)
        np.minimum(phase, RESAMPLER_PHASES - 1, out=phase)
        index = whole.astype(np.intp)[:, np.newaxis] + self._offsets[np.newaxis, :]
        np.einsum("ij,ij->i", self._table[phase], self._buffer[index], out=out[:n])
        self._position += self.step * n
        return n

    def _max_renderable(self) -> int:
        # Output k is computable while floor(position + k * step) + half < length.
        room = self._length - self._half - self._position
        if room <= 0:
            return 0
        return math.ceil(room / self.step)


class Squelch:
    """The "noise slicer": silences the signal while its magnitude stays below a threshold in µV.

    The gate opens at the first sample over the threshold, stays open for :data:`SQUELCH_HOLD_S` after the last
    one, and fades in and out with a one-pole smoother so its edges do not click.
    """

    def __init__(self, sample_rate: float) -> None:
        self.threshold_uv = 0.0
        self._hold = max(1, round(SQUELCH_HOLD_S * sample_rate))
        alpha = 1.0 - math.exp(-1.0 / max(SQUELCH_FADE_S * sample_rate, 1e-9))
        self._b = np.array([alpha])
        self._a = np.array([1.0, alpha - 1.0])
        self._zi = np.zeros(1)
        self._since_above = self._hold + 1
        """Samples since the last one above threshold, carried across blocks."""

    def process(self, x: np.ndarray) -> np.ndarray:
        """Gate ``x`` in place and return it."""
        n = x.shape[0]
        if n == 0 or (self.threshold_uv <= 0 and self._zi[0] >= 1.0 - 1e-6):
            return x
        above = np.abs(x) >= self.threshold_uv
        index = np.arange(n)
        last_above = np.where(above, index, -1 - self._since_above)
        np.maximum.accumulate(last_above, out=last_above)
        target = ((index - last_above) <= self._hold).astype(np.float64)
        gain, self._zi = signal.lfilter(self._b, self._a, target, zi=self._zi)
        self._since_above = int(n - 1 - last_above[-1])
        x *= gain
        return x


class BandFilter:
    """The optional audio band filter (e.g. 100 Hz – 5 kHz to take the rumble and hiss out of the sound).

    Designed by the clinical filter code, so slow devices get the same clamping below Nyquist.
    """

    def __init__(self, sample_rate: float) -> None:
        self.sample_rate = sample_rate
        self._sos = np.empty((0, 6))
        self._zi: np.ndarray | None = None
        self._request: tuple[bool, float, float] = (False, 0.0, 0.0)
        self.warnings: tuple[str, ...] = ()

    def configure(self, enabled: bool, low_hz: float, high_hz: float) -> None:
        """Switch the filter on with a new band, or off (any thread; an unchanged band keeps its state)."""
        request = (enabled, low_hz, high_hz)
        if request == self._request:
            return
        self._request = request
        if not enabled:
            self._sos, self.warnings = np.empty((0, 6)), ()
            return
        result = design(FilterSettings("audio", low_hz, high_hz, 0.0), self.sample_rate)
        self._sos, self.warnings = result.sos, result.warnings

    def process(self, x: np.ndarray) -> np.ndarray:
        sos = self._sos  # read once: another thread may swap in a new design meanwhile
        if sos.shape[0] == 0 or x.shape[0] == 0:
            return x
        zi = self._zi
        if zi is None or zi.shape[0] != sos.shape[0]:
            zi = np.zeros((sos.shape[0], 2))  # a new design starts from rest
        y, self._zi = signal.sosfilt(sos, x, zi=zi)
        x[:] = y
        return x


class Limiter:
    """Clip-safe output: volume, then a gain reduction that holds every block's peak at the ceiling.

    The gain is set per block from that block's own peak before any of it is played, which makes the block a
    look-ahead window: the waveform is scaled, never flattened, so a MUAP 10× over range keeps its shape and
    only gets quieter. The gain then recovers smoothly. Volume and mute changes ramp over one block.
    """

    def __init__(self, sample_rate: float, max_block: int) -> None:
        self._release = math.exp(-1.0 / (LIMITER_RELEASE_S * sample_rate))
        self._decay = self._release ** np.arange(1, max_block + 1)
        self._steps = np.arange(1, max_block + 1, dtype=np.float64)
        self._gain_reduction = 1.0
        self._volume = 0.0
        self.target_volume = 1.0
        """Linear gain from µV to full scale (volume and mute folded in); set from any thread."""
        self.reduction_events = 0
        """Blocks in which the limiter had to pull the gain down (the operator may want to lower the volume)."""

    def settle(self) -> None:
        """Start at the target volume without the fade-in (a file export has no earlier sound to fade from)."""
        self._volume = self.target_volume

    def process(self, x: np.ndarray) -> None:
        """Scale ``x`` (µV) to full-scale units in place."""
        n = x.shape[0]
        if n == 0:
            return
        start, target = self._volume, self.target_volume
        if target != start:
            x *= (start + (target - start) * self._steps[:n] / n) / FULL_SCALE_UV
        else:
            x *= target / FULL_SCALE_UV
        self._volume = target
        recovering = 1.0 - (1.0 - self._gain_reduction) * self._decay[:n]
        peak = float(np.max(np.abs(x)))
        allowed = LIMITER_CEILING / peak if peak > LIMITER_CEILING else 1.0
        if allowed < recovering[-1]:
            self.reduction_events += 1
        gain = np.minimum(recovering, allowed)
        x *= gain
        self._gain_reduction = float(gain[-1])


def volume_gain(volume_db: float, muted: bool) -> float:
    """The linear gain the limiter ramps to for a volume in dB and the mute switch."""
    return 0.0 if muted else 10 ** (volume_db / 20)


class AudioChain:
    """The whole chain for one channel: band filter, squelch, resampler, volume and limiter.

    ``feed`` takes new source samples in µV; ``render`` writes output samples in full-scale units.
    """

    def __init__(self, input_rate: float, output_rate: float, max_block: int) -> None:
        self.band = BandFilter(input_rate)
        self.squelch = Squelch(input_rate)
        self.resampler = Resampler(input_rate, output_rate, max_block)
        self.limiter = Limiter(output_rate, max_block)

    def feed(self, samples: np.ndarray) -> None:
        """Condition ``samples`` (float64 scratch, modified in place) and queue them for resampling."""
        self.resampler.push(self.squelch.process(self.band.process(samples)))

    def render(self, out: np.ndarray) -> int:
        n = self.resampler.render(out)
        self.limiter.process(out[:n])
        return n
