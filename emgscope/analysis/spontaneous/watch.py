"""Spontaneous activity watched during an exam: each rest analysed as it runs and once it has ended.

The exam's monitor (:class:`~emgscope.analysis.monitor.ExamMonitor`) hands a :class:`RestWatcher` the rest's samples
so far every :data:`LIVE_S` of signal, and the whole rest once it has ended. The analysis runs on a worker thread
of its own, because a rest of a profusely fibrillating muscle takes a good part of a second to analyse and the
window's exam timer must not wait for it; :meth:`RestWatcher.poll`, called from the exam's own thread, hands back
what has finished, so every event is still posted from the thread that steps the exam. :meth:`RestWatcher.drain`
waits for the rest (the exam ends, or a headless exam, which must be complete, flushes).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np

from emgscope.analysis.spontaneous import classify as c
from emgscope.analysis.spontaneous.analyse import RestAnalysis, analyse_rest
from emgscope.analysis.spontaneous.grade import SiteGrade, site_grade
from emgscope.core import log
from emgscope.core.units import counted
from emgscope.protocol.annotation import Annotation

LIVE_S = 2.0
"""How often a running rest is analysed again (of signal): often enough to follow, seldom enough to be cheap."""
SPONTANEOUS_LABEL = "SPONT"
"""Label of a train's annotation in the recording."""
DETECTION = "detection"
"""Annotation kind of a train of discharges found at rest."""
ANNOTATED = tuple(k for k in c.CLASSES if k not in (c.UNCLASSIFIED, c.INSERTIONAL))
"""Classes whose trains are annotated in the recording (unclassified and insertional discharges are not findings)."""
MIN_ANNOTATED = 2
"""A train is annotated from this many discharges (a lone one is left to the analysis's counts)."""
_log = log.logger(__name__)


@dataclass(frozen=True)
class RestResult:
    """One analysis of a rest: ``final`` once the rest has ended, live before."""

    segment: Annotation
    """The rest step (its ``duration`` is what had run so far, for a live result)."""
    analysis: RestAnalysis
    grade: SiteGrade
    final: bool

    def annotations(self) -> list[Annotation]:
        """One annotation per train worth noting: its class, rate and count, from its first to its last discharge."""
        out = []
        for train in sorted(self.analysis.trains, key=lambda t: int(t.samples[0])):
            if train.cls not in ANNOTATED or train.count < MIN_ANNOTATED:
                continue
            first, last = int(train.samples[0]), int(train.samples[-1])
            rate = train.pattern.rate_hz
            flags = [c.SHORT_NAMES[train.cls], f"{train.count} discharges"]
            if np.isfinite(rate):
                flags.insert(1, f"{rate:.1f} Hz")
            segment = self.segment
            out.append(
                Annotation(
                    first,
                    max(1, last - first),
                    SPONTANEOUS_LABEL,
                    segment.muscle,
                    segment.side,
                    flags=tuple(flags),
                    kind=DETECTION,
                    repeat=segment.repeat,
                )
            )
        return out


def describe(result: RestResult) -> str:
    """What the prompt panel says: the trains found so far and the grades they suggest, in a line or two."""
    analysis, grade = result.analysis, result.grade
    found = []
    for cls in (c.FIBRILLATION, c.PSW, c.FASCICULATION, *c.OTHER_DISCHARGES, c.ENDPLATE_NOISE, c.ENDPLATE_SPIKE):
        trains = [t for t in analysis.of(cls) if t.count >= MIN_ANNOTATED or cls == c.FASCICULATION]
        if trains:
            count = counted(sum(t.count for t in trains), "discharge")
            many = count if cls == c.FASCICULATION else f"{counted(len(trains), 'train')} ({count})"
            found.append(f"{c.SHORT_NAMES[cls]} {many}")
    head = "At rest" + ("" if result.final else " so far") + f" ({analysis.seconds:.0f} s): "
    if not grade.relaxed:
        return head + "motor units are firing, not relaxed: spontaneous activity is not graded."
    if not found:
        return head + "no spontaneous activity."
    grades = ", ".join(
        f"{c.SHORT_NAMES[cls]} {_grade_text(grade.grades[cls])}" for cls in (c.FIBRILLATION, c.PSW, c.FASCICULATION)
    )
    endplate = "; endplate zone" if grade.endplate else ""
    return head + ", ".join(found) + f". Suggested at this site: {grades}{endplate}."


def _grade_text(grade: int) -> str:
    return "0" if grade == 0 else f"{grade}+"


class RestWatcher:
    """Analyses rests on a worker thread; see the module's docstring."""

    def __init__(self, sample_rate: float) -> None:
        self.sample_rate = sample_rate
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="rest-analysis")
        self._running: list[Future[RestResult]] = []
        self._live: Future[RestResult] | None = None
        self.results: list[RestResult] = []
        """Every final result, in the order the rests ended."""

    def live(self, segment: Annotation, samples: np.ndarray, moved: bool) -> None:
        """Analyse a running rest's samples so far (skipped while the previous live analysis is still busy)."""
        if self._live is not None and not self._live.done():
            return
        self._live = self._pool.submit(self._analyse, segment, np.array(samples), moved, False)
        self._running.append(self._live)

    def final(self, segment: Annotation, samples: np.ndarray, moved: bool) -> None:
        """Analyse a rest that has ended."""
        self._running.append(self._pool.submit(self._analyse, segment, np.array(samples), moved, True))

    def _analyse(self, segment: Annotation, samples: np.ndarray, moved: bool, final: bool) -> RestResult:
        analysis = analyse_rest(
            samples, self.sample_rate, segment.onset, moved, segment.muscle, segment.side, segment.repeat
        )
        return RestResult(segment, analysis, site_grade(analysis), final)

    def poll(self) -> list[RestResult]:
        """The analyses finished since the last call, in the order they were asked for. One that failed is logged
        and left out: a defect in the analysis must not stop the exam."""
        done = []
        while self._running and self._running[0].done():
            try:
                result = self._running.pop(0).result()
            except Exception:
                _log.exception("A rest's spontaneous-activity analysis failed")
                continue
            done.append(result)
            if result.final:
                self.results.append(result)
        return done

    def drain(self) -> list[RestResult]:
        """Wait for every analysis asked for, and hand them back."""
        wait(self._running)
        return self.poll()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
