"""The exam checked live: the detector, the per-step checks and the summary, driven by the runner's events.

:class:`ExamMonitor` subscribes to an :class:`~emgscope.protocol.runner.ExamRunner`'s bus and is fed the selected
channel (from a ring reader named ``detect``). It posts what it finds on the same bus, as the runner does:

* ``activity_onset``: an onset of activity was confirmed (the scope can open a band at once);
* ``annotation_added`` with an :class:`~emgscope.protocol.annotation.Annotation` of kind ``activity`` (a
  stretch of activity, once it ended) or ``flag`` (a check's finding: activity at rest, no contraction, a
  reaction time);
* ``segment_summary`` with a :class:`~emgscope.analysis.summary.SegmentSummary` for each step;
* ``muscle_summary`` with the rows of a muscle once all its steps are summarised (the table at the end of
  each muscle; :func:`~emgscope.analysis.summary.write_csv` exports them);
* ``spontaneous`` with a :class:`~emgscope.analysis.spontaneous.watch.RestResult`: the spontaneous activity of a
  rest step, live while it runs and final once it has ended (:mod:`emgscope.analysis.spontaneous.watch`), and with
  the final one an ``annotation_added`` of kind ``detection`` for each train of discharges found.

A segment is checked once the detector has seen enough samples after its end for activity there to be
settled (confirmed or ended). Rest segments set the detector's baseline: the quietest rest so far wins, so a
first rest where the patient was not relaxed is replaced by a better one. The first baseline exists only once
the first rest has ended, so at that moment the detector looks back over its remembered envelope from the exam's
start (:meth:`~emgscope.analysis.detector.ActivityDetector.rescan`) and the segments before it wait to be checked
until it has: the first site's fibrillations and the insertion are found like the later ones. After that the
detector is causal again; later, quieter baselines only change what comes next. Call :meth:`feed` and the runner's
``advance_to`` from the same thread; operator actions may come from another thread.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

from emgscope.analysis.checks import CheckSettings, Interval, check_segment
from emgscope.analysis.detector import ActivityDetector, DetectorSettings, Transition
from emgscope.analysis.spontaneous.watch import LIVE_S, RestResult, RestWatcher
from emgscope.analysis.summary import SegmentSummary, summarize
from emgscope.core.events import Event
from emgscope.protocol.annotation import ACTIVITY, SEGMENT, Annotation
from emgscope.protocol.model import PlannedStep
from emgscope.protocol.runner import ANNOTATION_ADDED, MUSCLE_FINISHED, STEP_CHANGED, ExamRunner, RunnerStatus

ACTIVITY_ONSET = "activity_onset"
SEGMENT_SUMMARY = "segment_summary"
MUSCLE_SUMMARY = "muscle_summary"
SPONTANEOUS = "spontaneous"
ACTIVITY_LABEL = "ACT"
READ_INTERVAL_MS = 20.0
"""How often an exam feeds the monitor from its reader (the window's exam timer, the headless engine's blocks):
the detector's speed in ``emgscope bench`` is measured at this chunk size."""
MAX_SEGMENT_S = 300.0
"""Samples kept for the summary of one segment; a longer segment is summarised over its last 300 s."""


@dataclass
class _Pending:
    segment: Annotation | None
    expects_activity: bool | None
    muscle_done: dict | None = None


class ExamMonitor:
    """Detector + checks + summary for one exam on one channel."""

    def __init__(
        self,
        runner: ExamRunner,
        detector_settings: DetectorSettings | None = None,
        check_settings: CheckSettings | None = None,
    ) -> None:
        self.runner = runner
        self.bus = runner.bus
        self.sample_rate = runner.sample_rate
        self.detector = ActivityDetector(self.sample_rate, detector_settings)
        self.check_settings = check_settings or CheckSettings()
        self.activity: list[list[int | None]] = []
        """Detected activity ``[onset, offset]``; the last may be open (``None``)."""
        self.annotations: list[Annotation] = []
        """Activity and flags found so far."""
        self.summaries: list[SegmentSummary] = []
        self._lock = threading.Lock()
        self._pending: deque[_Pending] = deque()
        self._expects: bool | None = None
        self._place = ("", "")
        self._activity_place = ("", "")
        """Muscle and side where the open activity began: an annotation belongs to where it started."""
        self._chunks: deque[tuple[int, np.ndarray]] = deque()
        self._kept = 0
        self._muscle_rows: list[SegmentSummary] = []
        self._exam_onset = 0
        self._looked_back = False
        """The first baseline's look back over the exam so far has been done."""
        self._rest_ahead = any(expects_activity(planned) is False for planned in runner.plan)
        """A rest still to come may give the first baseline: segments wait for it before they are checked."""
        settings = self.detector.settings
        self._settle_samples = round((settings.off_hold_ms + settings.confirm_ms) * self.sample_rate / 1000) + (
            2 * self.detector.delay_samples
        )
        self.rests = RestWatcher(self.sample_rate)
        """The spontaneous activity of each rest step (:attr:`RestWatcher.results` once final)."""
        self._rest: tuple[Annotation, bool] | None = None
        """The running rest (its onset, place and site) and whether the needle moved as it began."""
        self._moved: dict[int, bool] = {}
        self._previous: PlannedStep | None = None
        self._live_at = 0
        self.bus.subscribe(self._on_event)

    def feed(self, start: int, chunk: np.ndarray) -> None:
        """The selected channel's samples ``chunk`` ``(n,)`` (µV), the first at absolute index ``start``."""
        if chunk.size == 0:
            return
        self._keep(start, np.array(chunk, dtype=np.float32))
        events = self._look_back()
        transitions = self.detector.process(start, chunk)
        events += [event for transition in transitions if (event := self._transition(transition)) is not None]
        for event in events:
            self.bus.post(event)
        self._settle_pending()
        self._watch_rest()
        self._post_rests(self.rests.poll())

    def flush(self) -> None:
        """The stream has ended: close open activity and settle every pending segment with what there is."""
        for event in self._look_back():
            self.bus.post(event)
        end = self.detector.position
        if self.activity and self.activity[-1][1] is None:
            event = self._transition(Transition(end, False))
            if event is not None:
                self.bus.post(event)
        self._settle_pending(force=True)
        self._post_rests(self.rests.drain())

    def close(self) -> None:
        """Stop listening to the runner's bus (the exam is over and the bus lives on)."""
        self.bus.unsubscribe(self._on_event)
        self.rests.close()

    def _watch_rest(self) -> None:
        """Every :data:`~emgscope.analysis.spontaneous.watch.LIVE_S` of a running rest, analyse it so far."""
        if self._rest is None:
            return
        segment, moved = self._rest
        position = self.detector.position
        if position - self._live_at < round(LIVE_S * self.sample_rate):
            return
        self._live_at = position
        so_far = Annotation(
            segment.onset, position - segment.onset, segment.label, segment.muscle, segment.side, repeat=segment.repeat
        )
        self.rests.live(so_far, self._samples(segment.onset, position), moved)

    def _post_rests(self, results: list[RestResult]) -> None:
        for result in results:
            if result.final:
                for annotation in result.annotations():
                    self.annotations.append(annotation)
                    self.bus.post(
                        Event(ANNOTATION_ADDED, annotation.text, annotation.onset, {"annotation": annotation})
                    )
            self.bus.post(Event(SPONTANEOUS, result.segment.text, result.segment.onset, {"result": result}))

    def intervals(self, start: int, stop: int) -> list[Interval]:
        """Activity touching ``[start, stop)``; an interval still open ends at ``stop``."""
        found = []
        for onset, offset in self.activity:
            end = stop if offset is None else offset
            if end > start and onset < stop:
                found.append((onset, end))
        return found

    def _on_event(self, event: Event) -> None:
        if event.kind == STEP_CHANGED:
            status: RunnerStatus = event.data["status"]
            planned = status.planned
            if status.index == 0 and status.attempt == 1:
                self._exam_onset = status.onset
            self._rest_ahead = any(expects_activity(p) is False for p in self.runner.plan[status.index :])
            if planned is not None:
                self._place = (planned.muscle, planned.side)
                self._expects = expects_activity(planned)
            self._follow_rest(status)
        elif event.kind == ANNOTATION_ADDED and event.data["annotation"].kind == SEGMENT:
            segment = event.data["annotation"]
            if self._expects is False:
                self._update_baseline(segment)
            with self._lock:
                self._pending.append(_Pending(segment, self._expects))
        elif event.kind == MUSCLE_FINISHED:
            with self._lock:
                self._pending.append(_Pending(None, None, dict(event.data)))

    def _follow_rest(self, status: RunnerStatus) -> None:
        """Note a rest as it begins (and whether the needle moved with it: after the insertion, or to a new site)."""
        planned, previous = status.planned, self._previous
        self._rest = None
        if planned is not None and planned.label == "REST":
            moved = previous is not None and (
                previous.label == "INS" or (previous.label == "REST" and planned.repeat > previous.repeat)
            )
            self._moved[status.onset] = moved
            segment = Annotation(
                status.onset, 0, planned.label, planned.muscle, planned.side, repeat=planned.repeat_text
            )
            self._rest = (segment, moved)
            self._live_at = status.onset
        self._previous = planned

    def _update_baseline(self, segment: Annotation) -> None:
        """A rest has ended: it becomes the baseline if it is the quietest rest so far."""
        grace = round(self.check_settings.relax_grace_s * self.sample_rate)
        start = segment.onset + min(grace, segment.duration // 2)
        level = self.detector.baseline_level(start, segment.end)
        if level is None:
            return
        current = self.detector.baseline
        if current is None or level < current[0]:
            self.detector.set_baseline(start, segment.end)

    def _look_back(self) -> list[Event]:
        """Once the first baseline is known: the activity of everything before it, placed where it began."""
        if self._looked_back or self.detector.baseline is None:
            return []
        self._looked_back = True
        segments = self.runner.annotations
        events = []
        for transition in self.detector.rescan(self._exam_onset):
            where = next((a for a in segments if a.onset <= transition.sample < a.end), None)
            place = self._place if where is None else (where.muscle, where.side)
            if (event := self._transition(transition, place)) is not None:
                events.append(event)
        return events

    def _transition(self, transition: Transition, place: tuple[str, str] | None = None) -> Event | None:
        """Record an onset or offset; ``place``: where it happened if not the current step."""
        if transition.onset:
            self._activity_place = place or self._place
            muscle, side = self._activity_place
            self.activity.append([transition.sample, None])
            return Event(ACTIVITY_ONSET, "activity", transition.sample, {"muscle": muscle, "side": side})
        if not self.activity or self.activity[-1][1] is not None:
            return None
        muscle, side = self._activity_place
        self.activity[-1][1] = transition.sample
        onset = self.activity[-1][0]
        annotation = Annotation(onset, transition.sample - onset, ACTIVITY_LABEL, muscle, side, kind=ACTIVITY)
        self.annotations.append(annotation)
        return Event(ANNOTATION_ADDED, annotation.text, onset, {"annotation": annotation})

    def _settle_pending(self, force: bool = False) -> None:
        if not force and not self._looked_back and self._rest_ahead:
            return
        position = self.detector.position
        while True:
            with self._lock:
                if not self._pending:
                    return
                item = self._pending[0]
                if item.segment is not None and not force and position < item.segment.end + self._settle_samples:
                    return
                self._pending.popleft()
            for event in self._settle(item):
                self.bus.post(event)

    def _settle(self, item: _Pending) -> list[Event]:
        if item.segment is None:
            rows, self._muscle_rows = self._muscle_rows, []
            data = dict(item.muscle_done or {}, rows=rows)
            return [Event(MUSCLE_SUMMARY, f"{data.get('muscle', '')} {data.get('side', '')}".strip(), None, data)]
        segment = item.segment
        intervals = self.intervals(segment.onset, segment.end)
        checks = check_segment(segment, item.expects_activity, intervals, self.sample_rate, self.check_settings)
        self.annotations += checks
        samples = self._samples(segment.onset, segment.end)
        if segment.label == "REST" and segment.duration > 0:
            self.rests.final(segment, samples, self._moved.get(segment.onset, False))
        row = summarize(segment, samples, self.sample_rate, intervals, checks)
        self.summaries.append(row)
        self._muscle_rows.append(row)
        self._trim()
        events = [Event(ANNOTATION_ADDED, check.text, check.onset, {"annotation": check}) for check in checks]
        events.append(Event(SEGMENT_SUMMARY, segment.text, segment.onset, {"summary": row, "segment": segment}))
        return events

    def _keep(self, start: int, chunk: np.ndarray) -> None:
        self._chunks.append((start, chunk))
        self._kept += chunk.size
        limit = round(MAX_SEGMENT_S * self.sample_rate)
        while self._kept - self._chunks[0][1].size > limit:
            self._kept -= self._chunks.popleft()[1].size

    def _trim(self) -> None:
        """Forget samples no pending or running segment needs."""
        with self._lock:
            onsets = [item.segment.onset for item in self._pending if item.segment is not None]
        oldest = min([*onsets, self.runner.status.onset])
        while self._chunks and self._chunks[0][0] + self._chunks[0][1].size <= oldest:
            self._kept -= self._chunks.popleft()[1].size

    def _samples(self, start: int, stop: int) -> np.ndarray:
        parts = []
        for first, chunk in self._chunks:
            a, b = max(start, first), min(stop, first + chunk.size)
            if b > a:
                parts.append(chunk[a - first : b - first])
        return np.concatenate(parts) if parts else np.empty(0, np.float32)


def expects_activity(planned: PlannedStep) -> bool | None:
    """What a step asks of the muscle: True a contraction, False rest, ``None`` nothing checked (insertion)."""
    return None if planned.label == "INS" else planned.step.effort_percent > 0
