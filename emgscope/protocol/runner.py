"""The step machine: walks a plan of protocol steps on the sample clock and stamps each step as an annotation.

Time comes only from :meth:`ExamRunner.advance_to`, called by whoever reads the ring (the GUI's timer or a
headless loop) with the newest sample index. A timed step therefore ends exactly ``round(duration × rate)``
samples after it began, however coarsely the clock is advanced, and the next step begins on that same sample.
Operator actions (next, repeat, skip, abort) take effect at the newest sample the runner has been given.

The runner posts events on an :class:`~emgscope.core.events.EventBus` (step changed, annotation added, muscle
finished, exam finished) after releasing its lock, so subscribers may call back into it. Its state is a frozen
:class:`RunnerStatus` swapped whole, so a widget may read :attr:`ExamRunner.status` from any thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from emgscope.core.events import Event, EventBus
from emgscope.protocol.annotation import (
    FLAG_ABORTED,
    FLAG_CUT_SHORT,
    FLAG_REPEAT,
    FLAG_REPEATED,
    FLAG_SKIPPED,
    Annotation,
)
from emgscope.protocol.model import PlannedStep

STEP_CHANGED = "protocol_step_changed"
ANNOTATION_ADDED = "annotation_added"
MUSCLE_FINISHED = "muscle_finished"
EXAM_FINISHED = "exam_finished"


@dataclass(frozen=True)
class RunnerStatus:
    """Where the exam is: what the prompt panel shows and the simulated patient follows."""

    index: int
    """Position in the plan (0-based); equals ``total`` once finished."""
    total: int
    planned: PlannedStep | None
    """The current step, ``None`` before the start and after the end."""
    onset: int
    """Sample the current step began on."""
    end: int | None
    """Sample a timed step will end on; ``None`` for a step that waits for the operator."""
    attempt: int
    sample_index: int
    """The newest sample the runner has been given."""
    started: bool = False
    finished: bool = False
    aborted: bool = False

    @property
    def running(self) -> bool:
        return self.started and not self.finished

    def remaining_s(self, sample_rate: float) -> float | None:
        """Seconds left in a timed step (``None`` when it waits for the operator or nothing runs)."""
        if self.end is None or not self.running:
            return None
        return max(0, self.end - self.sample_index) / sample_rate


class ExamRunner:
    """Runs one plan once, from :meth:`start` to its last step or :meth:`abort`."""

    def __init__(self, plan: list[PlannedStep], sample_rate: float, bus: EventBus | None = None) -> None:
        if not plan:
            raise ValueError("an exam needs at least one step")
        if sample_rate <= 0:
            raise ValueError("the sample rate must be positive")
        self.plan = plan
        self.sample_rate = sample_rate
        self.bus = bus or EventBus()
        self._lock = threading.Lock()
        self._annotations: list[Annotation] = []
        self._status = RunnerStatus(0, len(plan), None, 0, None, 1, 0)

    @property
    def status(self) -> RunnerStatus:
        return self._status

    @property
    def annotations(self) -> list[Annotation]:
        """The segments so far, in order (a copy)."""
        with self._lock:
            return list(self._annotations)

    def step_samples(self, planned: PlannedStep) -> int | None:
        """A step's length in samples, ``None`` if it waits for the operator."""
        if planned.step.duration_s is None:
            return None
        return max(1, round(planned.step.duration_s * self.sample_rate))

    def start(self, sample_index: int) -> None:
        """Begin the first step on ``sample_index``."""
        with self._lock:
            if self._status.started:
                raise RuntimeError("this exam has already started")
            events = self._enter(0, sample_index, attempt=1)
        self._post(events)

    def advance_to(self, sample_index: int) -> None:
        """Move the clock to ``sample_index``, ending every timed step whose time is up on its exact end sample."""
        with self._lock:
            events: list[Event] = []
            status = self._status
            if sample_index > status.sample_index:
                status = self._status = replace(status, sample_index=sample_index)
            while status.running and status.end is not None and status.sample_index >= status.end:
                events += self._close(status.end, ())
                events += self._enter(status.index + 1, status.end, attempt=1)
                status = self._status
        self._post(events)

    def next(self) -> bool:
        """The operator advances: the current step ends now (flagged if its time was not up)."""
        return self._act(lambda s: (FLAG_CUT_SHORT,) if s.end is not None and s.sample_index < s.end else ())

    def skip(self) -> bool:
        """The operator skips the current step: it ends now, flagged as skipped."""
        return self._act(lambda s: (FLAG_SKIPPED,))

    def repeat(self) -> bool:
        """The operator restarts the current step: this attempt ends now (flagged) and a new one begins."""
        return self._act(lambda s: (FLAG_REPEATED,), repeat=True)

    def abort(self) -> bool:
        """The operator stops the exam: the current step ends now, flagged, and no other step follows."""
        return self._act(lambda s: (FLAG_ABORTED,), abort=True)

    def _act(self, flags_for, repeat: bool = False, abort: bool = False) -> bool:
        with self._lock:
            status = self._status
            if not status.running:
                return False
            now = status.sample_index
            events = self._close(now, flags_for(status))
            if abort:
                events += self._finish(now, aborted=True)
            elif repeat:
                events += self._enter(status.index, now, attempt=status.attempt + 1)
            else:
                events += self._enter(status.index + 1, now, attempt=1)
        self._post(events)
        return True

    def _close(self, end: int, flags: tuple[str, ...]) -> list[Event]:
        """Stamp the current step as a segment ending on ``end`` (lock held)."""
        status = self._status
        planned = status.planned
        assert planned is not None
        if status.attempt > 1:
            flags = (FLAG_REPEAT, *flags)
        annotation = Annotation(
            status.onset,
            end - status.onset,
            planned.label,
            planned.muscle,
            planned.side,
            flags,
            attempt=status.attempt,
            repeat=planned.repeat_text,
        )
        self._annotations.append(annotation)
        return [Event(ANNOTATION_ADDED, annotation.text, status.onset, {"annotation": annotation})]

    def _enter(self, index: int, onset: int, attempt: int) -> list[Event]:
        """Begin plan step ``index`` on ``onset`` (lock held); past the end, finish the exam."""
        previous = self._status.planned
        events: list[Event] = []
        if previous is not None and (index >= len(self.plan) or self.plan[index].muscle_index != previous.muscle_index):
            events.append(_muscle_finished(previous, onset, aborted=False))
        if index >= len(self.plan):
            return events + self._finish(onset, aborted=False, muscle_reported=True)
        planned = self.plan[index]
        length = self.step_samples(planned)
        self._status = RunnerStatus(
            index,
            len(self.plan),
            planned,
            onset,
            None if length is None else onset + length,
            attempt,
            max(onset, self._status.sample_index),
            started=True,
        )
        events.append(Event(STEP_CHANGED, planned.step.prompt, onset, {"status": self._status}))
        return events

    def _finish(self, end: int, aborted: bool, muscle_reported: bool = False) -> list[Event]:
        previous = self._status.planned
        events = []
        if previous is not None and not muscle_reported:
            events.append(_muscle_finished(previous, end, aborted))
        self._status = RunnerStatus(
            len(self.plan) if not aborted else self._status.index,
            len(self.plan),
            None,
            end,
            None,
            1,
            self._status.sample_index,
            started=True,
            finished=True,
            aborted=aborted,
        )
        message = "Exam aborted." if aborted else "Exam finished."
        events.append(Event(EXAM_FINISHED, message, end, {"status": self._status, "aborted": aborted}))
        return events

    def _post(self, events: list[Event]) -> None:
        for event in events:
            self.bus.post(event)


def _muscle_finished(planned: PlannedStep, end: int, aborted: bool) -> Event:
    message = f"{planned.muscle} {planned.side}".strip()
    data = {"muscle": planned.muscle, "side": planned.side, "muscle_index": planned.muscle_index, "aborted": aborted}
    return Event(MUSCLE_FINISHED, message, end, data)
