"""Per-step checks of the exam against the detected activity: what the operator should look at.

* A rest step with activity after the patient had time to relax: not relaxed, or spontaneous activity (the
  operator decides which; the flag only says where).
* A contraction step (target effort above zero) with no onset of activity: no contraction detected.
* The patient's reaction time to each prompt: from the step's onset to the first onset of activity (a
  contraction prompt) or to the end of activity (a rest prompt after a contraction).

Each finding is an :class:`~emgscope.protocol.annotation.Annotation` of kind ``flag``, stamped in samples.
"""

from __future__ import annotations

from dataclasses import dataclass

from emgscope.protocol.annotation import (
    FLAG,
    FLAG_ACTIVITY_AT_REST,
    FLAG_NO_CONTRACTION,
    Annotation,
)

REACTION_LABEL = "RT"
"""Label of a reaction-time annotation (onset of contraction after a contraction prompt)."""
RELAX_LABEL = "RELAX"
"""Label of a relaxation-time annotation (end of activity after a rest prompt)."""
CHECK_LABEL = "CHECK"


@dataclass(frozen=True)
class CheckSettings:
    relax_grace_s: float = 1.5
    """Time a patient gets to relax after a rest prompt before activity counts against the rest."""
    rest_activity_s: float = 0.3
    """Activity at rest shorter than this in total is not flagged (a stray potential)."""
    reaction_window_s: float = 3.0
    """A reaction later than this is not counted as a reaction to the prompt."""


Interval = tuple[int, int]
"""Activity ``[onset, offset)`` in absolute samples."""


def overlap(intervals: list[Interval], start: int, stop: int) -> int:
    """Samples of ``[start, stop)`` covered by ``intervals``."""
    return sum(max(0, min(b, stop) - max(a, start)) for a, b in intervals)


def check_segment(
    segment: Annotation,
    expects_activity: bool | None,
    activity: list[Interval],
    sample_rate: float,
    settings: CheckSettings | None = None,
) -> list[Annotation]:
    """Flags for one finished segment. ``expects_activity``: True for a contraction, False for rest, None: no check.

    ``activity`` holds every activity interval that touches the segment (an interval still open ends at the
    segment's end).
    """
    if expects_activity is None or segment.duration <= 0:
        return []
    settings = settings or CheckSettings()
    start, stop = segment.onset, segment.end
    found: list[Annotation] = []
    place = {"muscle": segment.muscle, "side": segment.side, "repeat": segment.repeat}
    onsets = [a for a, _ in activity if start <= a < stop]
    active_at_start = any(a < start < b for a, b in activity)
    window = round(settings.reaction_window_s * sample_rate)
    if expects_activity:
        if not onsets and not active_at_start:
            flags = (FLAG_NO_CONTRACTION,)
            found.append(Annotation(start, segment.duration, CHECK_LABEL, flags=flags, kind=FLAG, **place))
        elif onsets and not active_at_start and onsets[0] - start <= window:
            found.append(_timed(REACTION_LABEL, start, onsets[0], sample_rate, place))
        return found
    if active_at_start:
        offsets = [b for a, b in activity if a < start < b and b < stop]
        if offsets and offsets[0] - start <= window:
            found.append(_timed(RELAX_LABEL, start, offsets[0], sample_rate, place))
    settled = min(stop, start + round(settings.relax_grace_s * sample_rate))
    busy = [(max(a, settled), min(b, stop)) for a, b in activity if b > settled and a < stop]
    if overlap(busy, settled, stop) >= settings.rest_activity_s * sample_rate:
        first, last = busy[0][0], busy[-1][1]
        found.append(Annotation(first, last - first, CHECK_LABEL, flags=(FLAG_ACTIVITY_AT_REST,), kind=FLAG, **place))
    return found


def _timed(label: str, start: int, when: int, sample_rate: float, place: dict[str, str]) -> Annotation:
    return Annotation(start, when - start, label, kind=FLAG, value_ms=(when - start) * 1000 / sample_rate, **place)
