"""The trigger and delay line: hold one motor unit potential still, sweep after sweep.

Every clinical EMG machine has one (QEMG §1, IFCN instrumentation standards 2020): a level trigger on a chosen
slope starts a sweep, and the delay line shows the part of the signal *before* the trigger too (the pre-trigger),
so the whole potential, its slow initial phase included, sits still on the screen. Successive sweeps are shown
superimposed or rastered and averaged, which shows whether the potential is stable from discharge to discharge.

:class:`TriggerDelayLine` is fed the chunks a ring reader returns, with the absolute index of each chunk's first
sample, and keeps its state across chunks: a crossing near the end of a chunk is completed when the rest of its
sweep arrives in a later chunk. It keeps the last ``keep`` sweeps with the sample index of their trigger, and their
average. Nothing here knows about Qt; the display draws what it holds.

Conventions (the GUI translates them to the screen):

* Levels and slopes are in the signal's own µV: a *rising* slope is the voltage going up. Needle EMG is drawn
  negative up, so a negative spike, which rises on the screen, crosses a negative level on a *falling* slope.
* The trigger sample is the first sample at or beyond the level (``x[i-1] < level <= x[i]`` on a rising slope).
* After a crossing, further crossings are ignored for :attr:`TriggerSettings.holdoff_ms`, so the later phases of
  one potential never start sweeps of their own: one discharge, one sweep.
* The amplitude window (an optional second level beyond the trigger level) locks onto one unit: the excursion past
  the trigger level, from the crossing until the signal comes back across the level (at most to the end of the
  sweep), must not reach beyond the window level. A larger unit crosses the level too but overshoots the window,
  and its sweep is dropped; its crossing still starts a hold-off, so its own later phases cannot trigger.
* A sweep needs its whole pre-trigger part: a crossing too close to the start of the stream, or to a gap in it
  (a ring overrun, a seek), gives no sweep.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from emgscope.core.settings import KEEP_DEFAULT, RISING, TriggerSettings


@dataclass(frozen=True)
class Sweep:
    """One triggered sweep: ``samples`` start ``pre`` samples before ``trigger_index`` (absolute indices)."""

    trigger_index: int
    start_index: int
    samples: np.ndarray


class TriggerDelayLine:
    """A level trigger with a delay line over one channel, fed chunk by chunk (one thread)."""

    def __init__(self, settings: TriggerSettings, sample_rate: float, keep: int = KEEP_DEFAULT) -> None:
        if sample_rate <= 0:
            raise ValueError(f"a sample rate of {sample_rate:g} Hz cannot be triggered on")
        if keep < 1:
            raise ValueError(f"keep at least one sweep, not {keep}")
        settings.check()
        self.sample_rate = float(sample_rate)
        self._settings = settings
        self._sweeps: deque[Sweep] = deque(maxlen=keep)
        self._average: np.ndarray | None = None
        self._buffer = np.empty(0)
        self._buffer_start = 0
        """Absolute index of ``_buffer[0]``; the buffer ends at the next sample expected."""
        self._pending: list[int] = []
        """Trigger samples waiting for the rest of their sweep."""
        self._armed_from = 0
        """No crossing before this absolute index starts a sweep (the hold-off of the last one)."""
        self._fed = False
        self._geometry()

    @property
    def settings(self) -> TriggerSettings:
        return self._settings

    @settings.setter
    def settings(self, settings: TriggerSettings) -> None:
        """New settings apply from the next chunk; a new sweep length or pre-trigger clears the kept sweeps."""
        settings.check()
        old = self._settings
        self._settings = settings
        if (old.ms_per_div, old.pretrigger) != (settings.ms_per_div, settings.pretrigger):
            self._geometry()
            self.clear()

    @property
    def keep(self) -> int:
        return int(self._sweeps.maxlen or 0)

    @property
    def sweeps(self) -> tuple[Sweep, ...]:
        """The kept sweeps, oldest first."""
        return tuple(self._sweeps)

    @property
    def average(self) -> np.ndarray | None:
        """The mean of the kept sweeps (µV, float64), or ``None`` before the first sweep."""
        if self._average is None and self._sweeps:
            self._average = np.mean([s.samples for s in self._sweeps], axis=0, dtype=np.float64)
        return self._average

    def clear(self) -> None:
        """Forget the kept sweeps and any crossing still waiting for its sweep (the stream position is kept)."""
        self._sweeps.clear()
        self._average = None
        self._pending.clear()

    def feed(self, start: int, chunk: np.ndarray) -> list[Sweep]:
        """Take the samples ``chunk`` (one channel, µV) whose first is absolute index ``start``; returns the sweeps
        completed by it, oldest first. A chunk that does not follow the previous one is a gap: what was waiting
        is dropped and the trigger starts afresh there."""
        chunk = np.asarray(chunk, dtype=np.float64).ravel()
        end = self._buffer_start + self._buffer.size
        if not self._fed or start != end:
            self._restart(start)
        self._fed = True
        if chunk.size == 0:
            return []
        first_new = self._buffer.size
        self._buffer = np.concatenate((self._buffer, chunk))
        self._find_crossings(first_new)
        done = self._complete()
        self._trim()
        return done

    def in_progress(self) -> list[Sweep]:
        """The sweeps being captured, oldest first: each crossing still waiting for the rest of its sweep, with the
        samples that have arrived (its pre-trigger part and the start of the rest).

        A display draws them as they come in, as a clinical machine's trace runs on from the trigger, instead of
        showing each sweep only once its last sample is there (75 ms after the crossing at 10 ms/div). With an
        amplitude window a crossing is left out until its excursion has come back across the level and stayed
        inside the window, so a sweep the window will drop is never drawn.
        """
        s = self._settings
        partial: list[Sweep] = []
        for trigger in self._pending:
            first = trigger - self._pre - self._buffer_start
            if first < 0:
                continue
            samples = self._buffer[first : first + self._length]
            after = samples[self._pre :]
            if s.window_uv is not None:
                beyond = after >= s.level_uv if s.slope == RISING else after <= s.level_uv
                if beyond.all() or not self._inside_window(after):
                    continue
            partial.append(Sweep(trigger, trigger - self._pre, samples.astype(np.float32)))
        return partial

    def _geometry(self) -> None:
        s = self._settings
        self._length = s.sweep_samples(self.sample_rate)
        self._pre = s.pre_samples(self.sample_rate)
        self._holdoff = round(s.holdoff_ms * self.sample_rate / 1000.0)

    def _restart(self, start: int) -> None:
        self._buffer = np.empty(0)
        self._buffer_start = start
        self._pending.clear()
        self._armed_from = start

    def _find_crossings(self, first_new: int) -> None:
        """Queue the crossings among the new samples (each needs the sample before it)."""
        x = self._buffer
        begin = max(first_new, 1)
        if begin >= x.size:
            return
        level = self._settings.level_uv
        before, after = x[begin - 1 : -1], x[begin:]
        if self._settings.slope == RISING:
            hits = np.flatnonzero((before < level) & (after >= level))
        else:
            hits = np.flatnonzero((before > level) & (after <= level))
        for hit in (hits + begin + self._buffer_start).tolist():
            if hit >= self._armed_from:
                self._pending.append(hit)
                self._armed_from = hit + self._holdoff

    def _complete(self) -> list[Sweep]:
        """Cut the sweeps whose post-trigger part has now arrived; drop those outside the amplitude window."""
        done: list[Sweep] = []
        end = self._buffer_start + self._buffer.size
        while self._pending and self._pending[0] - self._pre + self._length <= end:
            trigger = self._pending.pop(0)
            first = trigger - self._pre - self._buffer_start
            if first < 0:
                continue  # its pre-trigger part came before the stream (or a gap) began
            samples = self._buffer[first : first + self._length]
            if not self._inside_window(samples[self._pre :]):
                continue
            sweep = Sweep(trigger, trigger - self._pre, samples.astype(np.float32))
            self._sweeps.append(sweep)
            self._average = None
            done.append(sweep)
        return done

    def _inside_window(self, after: np.ndarray) -> bool:
        """Whether the excursion that starts at ``after[0]`` stays inside the amplitude window."""
        s = self._settings
        if s.window_uv is None:
            return True
        beyond = after >= s.level_uv if s.slope == RISING else after <= s.level_uv
        back = np.flatnonzero(~beyond)
        excursion = after[: back[0]] if back.size else after
        if s.slope == RISING:
            return float(excursion.max()) <= s.window_uv
        return float(excursion.min()) >= s.window_uv

    def _trim(self) -> None:
        """Keep what a pending sweep or the next crossing can still need: the pre-trigger part and one sample."""
        end = self._buffer_start + self._buffer.size
        keep_from = end - max(self._pre, 1)
        if self._pending:
            keep_from = min(keep_from, self._pending[0] - self._pre)
        drop = keep_from - self._buffer_start
        if drop > 0:
            self._buffer = self._buffer[drop:]
            self._buffer_start = keep_from
