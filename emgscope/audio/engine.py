"""The body of the audio callback: ring → chain → output block, with drift control and honest figures.

:class:`AudioEngine` has no sound-card code, so the same object runs inside the PortAudio callback and in tests
that drive it with a simulated clock. Per block it only copies the new samples of one channel out of the ring,
runs :class:`~emgscope.audio.dsp.AudioChain` on them and updates a few numbers: its work is proportional to the
block, and nothing in it blocks or logs.

Two clocks: the amplifier's and the sound card's never agree exactly, so a fixed resampling ratio would make
the buffer between them grow (latency creeping up) or drain (periodic underruns). :class:`DriftControl` measures
how many source samples wait between the ring and the output and trims the ratio to hold that at a target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from emgscope.audio.dsp import AudioChain, volume_gain
from emgscope.core.ring import SampleRing
from emgscope.core.settings import AudioSettings

DRIFT_TRIM_LIMIT = 0.01
"""Largest ratio trim (±1 %, a sixth of a semitone): twice the worst crystal error expected (±0.5 %), small
enough that the pitch of a MUAP does not audibly bend while the control settles."""
RESYNC_EXCESS_S = 0.03
"""A buffer this far over target (the sound server stalled, or the source delivered a burst) is skipped ahead
rather than played out slowly: draining 30 ms at a 1 % trim would take 3 s of audible lag, a skip is one click."""
MARGIN_STEP_S = 0.001
"""How much the buffer target grows each time the buffer runs dry, and shrinks after a clean spell."""
MARGIN_MAX_S = 0.02
"""The most the target grows over the operator's setting: past that the machine is too busy for live sound,
and the underrun count says so."""
MARGIN_RELAX_S = 60.0
"""Clean playing time after which the learnt margin shrinks by a step, towards the setting."""
LATE_WRITE_S = 0.25
"""A buffer that ran dry and refilled within this long was fed late, and teaches the target a margin; one that
stayed dry longer had a source that paused or stopped (replay paused, a lost device), which teaches nothing."""
SAFETY_S = 0.0045
"""Signal held beyond what rendering the next block needs, at the least. The operator's target covers it at high
source rates (8 ms at 20 kHz leaves 4.9 ms over the 3.1 ms a block and the resampler's kernel need); at low ones
the kernel's reach dominates (a 512 Hz source needs 20 ms held), and the target grows by what it lacks."""
LATENCY_HISTORY = 1 << 16
"""Latency figures kept for the benchmark (~3 minutes of 2.7 ms blocks)."""


class DriftControl:
    """A PI controller that holds the buffered source time at a target by trimming the resampling ratio.

    The measured fill jumps by a whole source chunk each time one arrives, so it is smoothed first; the
    proportional term settles an error within about half a second and the integral term absorbs a constant clock
    difference, so in steady state the fill sits on the target whatever the two clocks do.
    """

    def __init__(self, target_s: float, smoothing_s: float = 0.2, kp: float = 2.0, integral_s: float = 4.0) -> None:
        self.target_s = target_s
        self.smoothing_s = smoothing_s
        self.kp = kp
        self.ki = kp / integral_s
        self.smoothed_s = target_s
        self.integral = 0.0
        self.trim = 1.0

    def restart(self) -> None:
        """Forget the fill history after a gap (priming, a skip); the clock difference learnt is kept."""
        self.smoothed_s = self.target_s

    def update(self, fill_s: float, dt: float) -> float:
        """Take one fill measurement ``dt`` seconds after the previous one; returns the new ratio trim."""
        self.smoothed_s += (fill_s - self.smoothed_s) * min(1.0, dt / self.smoothing_s)
        error = self.smoothed_s - self.target_s
        integral = self.integral + error * dt
        trim = 1.0 + self.kp * error + self.ki * integral
        if abs(trim - 1.0) < DRIFT_TRIM_LIMIT:
            self.integral = integral  # no wind-up while saturated
        self.trim = min(1.0 + DRIFT_TRIM_LIMIT, max(1.0 - DRIFT_TRIM_LIMIT, trim))
        return self.trim


class BufferTarget:
    """The buffer target: the operator's setting plus a margin learnt from the buffer running dry.

    The setting suits the machine it was measured on; a busier one (other programs, a slower CPU) delays the
    writes to the ring more, and a fixed target would click again and again. Each time the buffer runs dry the
    margin grows by :data:`MARGIN_STEP_S`, and after :data:`MARGIN_RELAX_S` without that it shrinks by a step:
    a busy machine settles at the latency it can play without clicks, a quiet one returns to the setting.
    """

    def __init__(self, setting_s: float) -> None:
        self.setting_s = setting_s
        self.margin_s = 0.0
        self._clean_s = 0.0

    @property
    def target_s(self) -> float:
        return self.setting_s + self.margin_s

    def ran_dry(self) -> None:
        self.margin_s = min(MARGIN_MAX_S, self.margin_s + MARGIN_STEP_S)
        self._clean_s = 0.0

    def played(self, seconds: float) -> None:
        self._clean_s += seconds
        if self._clean_s >= MARGIN_RELAX_S:
            self._clean_s = 0.0
            self.margin_s = max(0.0, self.margin_s - MARGIN_STEP_S)


@dataclass
class AudioStats:
    """What the UI shows live, read from any thread."""

    latency_ms: float = math.nan
    """Sample written into the ring → sample leaving the sound card, for the newest block: the time the newest
    chunk has sat in the ring, plus the source time buffered before the block's first sample, plus the stream's
    own output latency. Every sample of a block has the same latency, as the resampler consumes source time at
    the rate it plays it."""
    underruns: int = 0
    """Blocks that ran out of source samples (played partly or wholly as silence)."""
    device_underruns: int = 0
    """Underflows PortAudio itself reported (the callback was late)."""
    resyncs: int = 0
    """Times the buffer was skipped ahead after growing far over target."""
    output_delay_ms: float = math.nan
    """The stream's own share of the latency (PortAudio's DAC time minus its current time)."""
    target_ms: float = math.nan
    """The buffer target in force: the setting plus what underruns taught (see :class:`BufferTarget`)."""
    trim: float = 1.0
    processors_awake: bool = False
    """Whether the processors are kept from sleeping while this stream plays (``keep_processors_awake``)."""
    running: bool = False


class AudioEngine:
    """Fills output blocks from one channel of a :class:`SampleRing`."""

    def __init__(
        self,
        ring: SampleRing,
        input_rate: float,
        settings: AudioSettings,
        channel: int = 0,
        reader_name: str = "audio",
        max_block: int = 4096,
    ) -> None:
        self.ring = ring
        self.input_rate = input_rate
        self.output_rate = settings.sample_rate
        self.max_block = max_block
        self.chain = AudioChain(input_rate, settings.sample_rate, max_block)
        self.target = BufferTarget(settings.target_buffer_ms / 1000)
        self.drift = DriftControl(self.target.target_s)
        self.stats = AudioStats()
        self.channel = channel
        self.apply(settings)
        self._reader_name = reader_name
        self.reader = ring.reader(reader_name)
        max_input = math.ceil(max_block * input_rate / settings.sample_rate * (1 + DRIFT_TRIM_LIMIT)) + 8
        self._scratch = np.zeros((ring.n_channels, max_input), dtype=np.float32)
        self._primed = False
        self._dry_since = -math.inf
        self.latency_history = np.full(LATENCY_HISTORY, np.nan)
        self.callback_history = np.full(LATENCY_HISTORY, np.nan)
        """When each block was asked for (the ``now`` given to :meth:`fill`): the callback's scheduling jitter."""
        self.delay_history = np.full(LATENCY_HISTORY, np.nan)
        """Each block's stream delay (ms): the sound server's share of :attr:`latency_history`."""
        self.blocks = 0

    def apply(self, settings: AudioSettings) -> None:
        """Take the operator's settings (any thread; takes effect from the next block)."""
        self.chain.limiter.target_volume = volume_gain(settings.volume_db, settings.muted)
        self.chain.squelch.threshold_uv = max(0.0, settings.squelch_uv)
        self.chain.band.configure(settings.band_filter, settings.band_low_hz, settings.band_high_hz)
        self.target.setting_s = settings.target_buffer_ms / 1000

    def set_channel(self, channel: int) -> None:
        if not 0 <= channel < self.ring.n_channels:
            raise ValueError(f"channel {channel} does not exist (the source has {self.ring.n_channels})")
        self.channel = channel

    def close(self) -> None:
        self.ring.remove_reader(self._reader_name)

    def buffered_s(self) -> float:
        """Source time waiting between the ring and the output: in the ring and inside the resampler."""
        return (self.reader.available + self.chain.resampler.held) / self.input_rate

    def _write_age_s(self, now: float) -> float:
        """How long ago the newest chunk entered the ring (the writer stamps each write in the ring itself)."""
        written = self.ring.written_at_s
        return max(0.0, now - written) if written else 0.0

    def fill(self, out: np.ndarray, output_delay_s: float, now: float) -> None:
        """Fill ``out`` (one output block, float32) with sound.

        ``output_delay_s`` is the stream's own latency for this block (PortAudio's DAC time minus its current
        time) and ``now`` the callback's time on the clock the ring's writes are stamped with (``time.monotonic``).
        """
        n_out = out.shape[0]
        dt = n_out / self.output_rate
        write_age = self._write_age_s(now)
        buffered = self.buffered_s()
        resampler = self.chain.resampler
        self.drift.target_s = max(self.target.target_s, resampler.min_held(n_out) / self.input_rate + SAFETY_S)
        if not self._primed:
            # The target is never below what rendering a block needs, so a primed engine always renders one.
            if buffered < self.drift.target_s:
                # Waiting for samples: a source that paused or ended has no latency to show.
                if now - self._dry_since > LATE_WRITE_S:
                    self.stats.latency_ms = math.nan
                out[:] = 0
                return
            self._primed = True
            self.drift.restart()
            if now - self._dry_since < LATE_WRITE_S:
                self.target.ran_dry()  # the samples came late, not to an end: buffer more of them
        elif buffered > self.drift.target_s + RESYNC_EXCESS_S:
            skip = round((buffered - self.drift.target_s) * self.input_rate) - math.ceil(resampler.held)
            if skip > 0:
                self.reader.skip_to(self.reader.position + skip)
                buffered = self.buffered_s()
                self.stats.resyncs += 1
                self.drift.restart()
        resampler.trim = self.drift.update(buffered, dt)
        needed = min(resampler.input_needed(n_out), self._scratch.shape[1])
        if needed:
            data = self.reader.read(needed, out=self._scratch)
            if data.shape[1]:
                self.chain.feed(data[self.channel])
        produced = self.chain.render(out)
        if produced < n_out:
            out[produced:] = 0
            self.stats.underruns += 1
            self._primed = False
            self._dry_since = now
        else:
            self.target.played(dt)
        self.stats.target_ms = self.drift.target_s * 1000
        latency_ms = (buffered + write_age + output_delay_s) * 1000
        self.stats.latency_ms = latency_ms
        self.stats.output_delay_ms = output_delay_s * 1000
        self.stats.trim = self.drift.trim
        self.latency_history[self.blocks % LATENCY_HISTORY] = latency_ms
        self.callback_history[self.blocks % LATENCY_HISTORY] = now
        self.delay_history[self.blocks % LATENCY_HISTORY] = output_delay_s * 1000
        self.blocks += 1
