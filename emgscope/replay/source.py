"""Replay as a source like any other: a recording delivered at the pace it was recorded, times a speed factor.

The pump cannot tell replay from a device: :meth:`ReplaySource.read` returns the samples the clock says are due.
Pacing follows a monotonic clock (``time.monotonic`` unless a test passes its own): the file position is an
*anchor* (position, time) plus elapsed time × rate × speed, so pause, speed changes and seeks only move the anchor
and no rounding error accumulates.

The ring's sample index is the app's clock and only ever grows, but the file position jumps on a seek or a loop.
:attr:`ReplaySource.segments` records each jump as ``(ring_index, file_sample)``: from that ring index on, ring
samples continue from that file sample. :func:`~emgscope.core.controls.file_time_at` turns a ring index into a
file time, so the display and the annotation list can speak of file time.

Threads: the controls (pause/seek/speed/loop) come from another thread than the pump's ``read``: the GUI's, or
in the acquisition process the one that receives the GUI's commands. A lock guards only a handful of
attribute reads and writes; file access happens outside it, so the GUI never waits on the disk.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from emgscope.core.controls import RecordingFacts, ReplayState, Segments
from emgscope.core.source import MIN_READ_S, REPLAY_DEVICE, Source, SourceEnded, SourceError, StreamInfo
from emgscope.replay.reader import Recording, RecordingError, open_recording

MIN_SPEED = 0.25
MAX_SPEED = 4.0
MIN_REPLAY_RATE_HZ = 1.0
"""Slower signals are described by ``info`` but not replayed: the slowest sweep (10 × 1 s) would show fewer than
ten samples, and the 30 s ring would hold fewer than thirty."""
MAX_CHUNK_S = 0.25
"""At most this much per read; a pump that stalled catches up over a few reads instead of one huge chunk."""


class ReplaySource(Source):
    """Plays data signals of one recording (all at one sample rate) in µV, paced by the clock.

    Implements :class:`~emgscope.core.controls.ReplayControl`.
    """

    silence_timeout_s = math.inf
    """A paused replay is quiet on purpose: never report it as a lost connection."""
    settled = True
    """Controls take effect at once here (a replay in the acquisition process is seen through a proxy)."""

    def __init__(
        self,
        recording: Recording | str | Path,
        signals: Sequence[int] | None = None,
        brainflow_board: str | None = None,
        speed: float = 1.0,
        start_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``recording``: an open Recording or a path (opened by :meth:`open`, on the pump's thread).

        ``signals``: indices of data signals sharing one rate (default :meth:`Recording.replay_signals`, the
        highest-rate group); ``brainflow_board``: the board that wrote a BrainFlow file; ``speed``: 0.25–4;
        ``start_s``: where to begin (a replay restarted after its end starts where the user asked); ``clock``:
        seconds, monotonic (a test passes its own to make samples due without waiting).
        """
        self._clock = clock
        self._recording = recording if isinstance(recording, Recording) else None
        self._path = Path(recording.path if isinstance(recording, Recording) else recording)
        self._requested = list(signals) if signals is not None else None
        self._board = brainflow_board
        self.signals: list[int] = []
        self.sample_rate = 0.0
        self.n_samples = 0
        self._lock = threading.Lock()
        self._speed = clamp_speed(speed)
        self._paused = False
        self._anchor_pos = 0.0
        self._anchor_time = 0.0
        self._next_sample = 0
        self._loop: tuple[int, int] | None = None
        self._ring_index = 0
        self._expected_sample = 0
        self._segments: tuple[tuple[int, int], ...] = ((0, 0),)
        self._ended = False
        self._start_s = start_s

    @property
    def recording(self) -> Recording | None:
        """The recording, once opened (``open`` opens it on the pump's thread when given a path)."""
        return self._recording

    @property
    def facts(self) -> RecordingFacts | None:
        """What the GUI shows of the recording (its path and annotations), once opened."""
        rec = self._recording
        if rec is None:
            return None
        about = f"{rec.format}, {len(self.signals)} signal(s) at {self.sample_rate:g} Hz, {self.duration_s:.1f} s."
        notes = [f"{key}: {value}" for key, value in rec.recording_info.items() if value and key != "record"]
        return RecordingFacts(rec.path, tuple(rec.annotations), " ".join([about, *notes]))

    def state(self) -> ReplayState:
        return ReplayState(
            self.skipped_samples,
            self.position_s,
            self._paused,
            self._speed,
            self.loop,
            self._ended,
            self._segments,
            self.duration_s,
            self.sample_rate,
            self.n_samples,
        )

    def open(self) -> StreamInfo:
        """Open the file (may take a moment for a large one: the pump calls this off the GUI thread)."""
        if self._recording is None:
            try:
                self._recording = open_recording(self._path, self._board)
            except RecordingError as exc:
                raise SourceError(str(exc)) from None
        rec = self._recording
        try:
            chosen = self._requested if self._requested is not None else rec.replay_signals()
        except RecordingError as exc:
            raise SourceError(str(exc)) from None
        if not chosen:
            raise SourceError(f"{self._path.name}: no signal was chosen to replay")
        data = set(rec.data_signals)
        if any(i not in data for i in chosen):
            raise SourceError(f"{self._path.name}: signal numbers {sorted(set(chosen) - data)} are not data signals")
        rates = {rec.signals[i].sample_rate for i in chosen}
        if len(rates) != 1:
            raise SourceError(f"{self._path.name}: the signals chosen have different sample rates {sorted(rates)}")
        rate = rates.pop()
        if rate < MIN_REPLAY_RATE_HZ:
            raise SourceError(
                f"{self._path.name}: its signals are sampled at {rate:g} Hz; replay plays signals sampled at least "
                f"{MIN_REPLAY_RATE_HZ:g} times a second (`emgscope info` describes the file)"
            )
        self.signals = list(chosen)
        self.sample_rate = rate
        self.n_samples = min(rec.signals[i].n_samples for i in chosen)
        if self.n_samples == 0:
            raise SourceError(f"{self._path.name}: the recording holds no samples")
        with self._lock:
            self._next_sample = self._clamp_sample(self._start_s)
            self._expected_sample = self._next_sample
            self._segments = ((0, self._next_sample),)
            self._anchor_pos = float(self._next_sample)
            self._anchor_time = self._clock()
        return StreamInfo(
            sample_rate=self.sample_rate,
            channel_labels=tuple(rec.signals[i].label for i in chosen),
            description=f"Replay of {self._path.name} ({rec.format})",
            device=f"{REPLAY_DEVICE}{rec.format}",
            units="uV",
            details={
                "file": str(self._path),
                "format": rec.format,
                "start": rec.start.isoformat() if rec.start else "",
            },
            warnings=tuple(f"{self._path.name}: {warning}" for warning in rec.warnings),
        )

    def read(self) -> np.ndarray:
        rec = self._recording
        if rec is None:
            raise SourceError("replay read before open")
        now = self._clock()
        with self._lock:
            first, stop, ended = self._take(now)
            if ended:
                self._ended = True
        if ended and stop <= first:
            raise SourceEnded
        if stop <= first:
            return np.empty((len(self.signals), 0), dtype=np.float64)
        chunk = rec.read_signals(self.signals, first, stop)
        np.nan_to_num(chunk, copy=False)
        if first != self._expected_sample:
            self._segments = (*self._segments, (self._ring_index, first))
        self._ring_index += stop - first
        self._expected_sample = stop
        return chunk

    def _take(self, now: float) -> tuple[int, int, bool]:
        """Under the lock: which file samples ``[first, stop)`` are due now, and whether the end was reached."""
        rate = self.sample_rate
        target = self._anchor_pos if self._paused else self._anchor_pos + (now - self._anchor_time) * rate * self._speed
        first = self._next_sample
        end = self._loop[1] if self._loop else self.n_samples
        if first >= end:
            if self._loop is None:
                return first, first, True
            first = self._loop[0]
            self._anchor_pos = first + max(0.0, target - end)
            self._anchor_time = now
            target = self._anchor_pos
        due = min(math.floor(target), end) - first
        if due <= 0 or (due < MIN_READ_S * rate and first + due < end):
            self._next_sample = first
            return first, first, False
        stop = first + min(due, max(1, round(MAX_CHUNK_S * rate)))
        self._next_sample = stop
        return first, stop, False

    def close(self) -> None:
        """Nothing to release: the memory map goes with the recording."""

    # --- controls (any thread) ---------------------------------------------------------------------------

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, speed: float) -> None:
        """Play ``speed`` times faster than recorded (clamped to 0.25–4); the position does not jump."""
        with self._lock:
            self._reanchor()
            self._speed = clamp_speed(speed)

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        with self._lock:
            self._reanchor()
            self._paused = True

    def resume(self) -> None:
        with self._lock:
            self._reanchor()
            self._paused = False

    def seek(self, seconds: float) -> None:
        """Continue from ``seconds`` into the recording (clamped to it); the ring index keeps counting on."""
        with self._lock:
            sample = self._clamp_sample(seconds)
            self._next_sample = sample
            self._anchor_pos = float(sample)
            self._anchor_time = self._clock()

    def set_loop(self, start_s: float, end_s: float) -> None:
        """Repeat ``[start_s, end_s)``; jumps to its start when playing outside it."""
        first, stop = loop_samples(start_s, end_s, self.sample_rate, self.n_samples)
        with self._lock:
            self._loop = (first, stop)
            if not first <= self._next_sample < stop:
                self._next_sample = first
                self._anchor_pos = float(first)
                self._anchor_time = self._clock()

    def clear_loop(self) -> None:
        with self._lock:
            self._loop = None

    @property
    def loop(self) -> tuple[float, float] | None:
        """The loop range in seconds, or ``None``."""
        loop = self._loop
        return (loop[0] / self.sample_rate, loop[1] / self.sample_rate) if loop else None

    @property
    def ended(self) -> bool:
        return self._ended

    # --- where are we ------------------------------------------------------------------------------------

    @property
    def position_s(self) -> float:
        """File time of the next sample to be delivered (what a position slider shows)."""
        return self._next_sample / self.sample_rate if self.sample_rate else 0.0

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sample_rate if self.sample_rate else 0.0

    @property
    def segments(self) -> Segments:
        """``(ring_index, file_sample)`` at the start of each continuous stretch, oldest first."""
        return self._segments

    def _reanchor(self) -> None:
        """Caller holds the lock: make 'now' the anchor, so a speed or pause change does not move the position."""
        now = self._clock()
        if not self._paused:
            self._anchor_pos += (now - self._anchor_time) * self.sample_rate * self._speed
        self._anchor_pos = min(self._anchor_pos, float(self.n_samples))
        self._anchor_time = now

    def _clamp_sample(self, seconds: float) -> int:
        return clamp_sample(seconds, self.sample_rate, self.n_samples)


def clamp_sample(seconds: float, sample_rate: float, n_samples: int, inclusive: bool = False) -> int:
    """The file sample at ``seconds``, within the recording (``inclusive``: the end itself is allowed)."""
    last = n_samples if inclusive else max(n_samples - 1, 0)
    return min(max(round(seconds * sample_rate), 0), last)


def loop_samples(start_s: float, end_s: float, sample_rate: float, n_samples: int) -> tuple[int, int]:
    """The file samples ``[first, stop)`` a loop over ``[start_s, end_s)`` covers, clamped to the recording;
    ``ValueError`` when that holds no sample."""
    first = clamp_sample(start_s, sample_rate, n_samples)
    stop = clamp_sample(end_s, sample_rate, n_samples, inclusive=True)
    if stop - first < 1:
        raise ValueError("the loop must hold at least one sample")
    return first, stop


def clamp_speed(speed: float) -> float:
    """A speed within what replay offers (0.25–4)."""
    return min(max(float(speed), MIN_SPEED), MAX_SPEED)
