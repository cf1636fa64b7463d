"""The exam's segments as a recording holds them: its annotations read back into steps per muscle and side.

A guided exam writes each step as an annotation whose text starts with its label (``INS``, ``REST``, ``MIN``,
``MOD``, ``MAX``), then the muscle, the side, the repetition and the flags in brackets (see
:attr:`emgscope.protocol.annotation.Annotation.text`), e.g. ``REST Tibialis anterior L site 2/3 [repeat 2]``. They
are read back here so a report can be made from any recording of an exam, ours or replayed, without the exam
having to run again. A step the operator skipped or aborted, or repeated (its cut-off attempt), holds nothing to
measure and is left out; the attempt that was run to the end is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from emgscope.protocol.annotation import FLAG_ABORTED, FLAG_REPEATED, FLAG_SKIPPED
from emgscope.protocol.model import STANDARD_LABELS

SIDES = ("L", "R")
_SEGMENT = re.compile(r"^(?P<label>" + "|".join(STANDARD_LABELS) + r")\b(?P<rest>.*?)(?:\s+\[(?P<flags>[^\]]*)\])?\s*$")
_REPEAT = re.compile(r"\s+(?P<name>\w+) (?P<n>\d+)/(?P<of>\d+)$")
UNUSABLE = (FLAG_SKIPPED, FLAG_ABORTED, FLAG_REPEATED)
"""Flags of an attempt that holds nothing to measure."""


@dataclass(frozen=True)
class Step:
    """One step of the exam as recorded."""

    label: str
    muscle: str
    side: str
    onset_s: float
    duration_s: float
    repeat: int = 0
    """Which repetition (a rest's site number), 0 for a step that was not repeated."""
    flags: tuple[str, ...] = ()

    @property
    def end_s(self) -> float:
        return self.onset_s + self.duration_s


@dataclass
class MuscleSteps:
    """One muscle and side's usable steps, in time order."""

    muscle: str
    side: str
    steps: list[Step] = field(default_factory=list)

    def of(self, label: str) -> list[Step]:
        return [s for s in self.steps if s.label == label]

    @property
    def key(self) -> tuple[str, str]:
        return self.muscle, self.side

    def movements(self) -> list[tuple[Step, bool]]:
        """Each rest with whether the needle moved as it began: after the insertion, or at a new site."""
        out = []
        previous: Step | None = None
        for step in self.steps:
            if step.label == "REST":
                moved = previous is not None and (
                    previous.label == "INS" or (previous.label == "REST" and step.repeat > previous.repeat > 0)
                )
                out.append((step, moved))
            previous = step
        return out


def parse_step(text: str, onset_s: float, duration_s: float) -> Step | None:
    """A step from one annotation, or None when the text is not an exam segment's."""
    match = _SEGMENT.match(text.strip())
    if match is None or duration_s <= 0:
        return None
    rest = match["rest"]
    repeat = 0
    found = _REPEAT.search(rest)
    if found is not None:
        repeat = int(found["n"])
        rest = rest[: found.start()]
    words = rest.split()
    side = words.pop() if words and words[-1] in SIDES else ""
    flags = tuple(f.strip() for f in (match["flags"] or "").split(",") if f.strip())
    return Step(match["label"], " ".join(words), side, onset_s, duration_s, repeat, flags)


def exam_steps(annotations: list[tuple[float, float, str]]) -> list[MuscleSteps]:
    """The usable steps of ``(onset s, duration s, text)`` annotations, per muscle and side in the order first
    examined."""
    muscles: dict[tuple[str, str], MuscleSteps] = {}
    for onset, duration, text in sorted(annotations):
        step = parse_step(text, onset, duration)
        if step is None or any(flag.split()[0] in UNUSABLE for flag in step.flags if flag):
            continue
        key = (step.muscle, step.side)
        muscles.setdefault(key, MuscleSteps(*key)).steps.append(step)
    return list(muscles.values())
