"""Annotations as plain data: what the runner and the detectors produce and the recorder stores.

Everything is stamped in samples (the app's clock), never in wall-clock time, so a segment drawn on the scope,
written to the session file and listed in replay all agree to the sample. Seconds are derived only where a
file format or a person needs them.
"""

from __future__ import annotations

from dataclasses import dataclass

SEGMENT = "segment"
"""A protocol step as it was run (``REST``, ``MAX``, ...)."""
ACTIVITY = "activity"
"""A stretch of muscle activity found by the detector."""
FLAG = "flag"
"""Something the operator should look at: activity at rest, no contraction, a reaction time."""

# Flags a segment or check may carry (kept as short words: they go into EDF+ annotation text).
FLAG_SKIPPED = "skipped"
FLAG_REPEATED = "repeated"
"""The operator asked for this step again: this attempt was cut off and another follows."""
FLAG_REPEAT = "repeat"
"""This attempt is a repetition the operator asked for."""
FLAG_CUT_SHORT = "cut short"
"""A timed step the operator advanced before its time was up."""
FLAG_ABORTED = "aborted"
FLAG_ACTIVITY_AT_REST = "activity at rest"
FLAG_NO_CONTRACTION = "no contraction"


LABEL_COLOURS: dict[str, str] = {
    "INS": "#8e6c8a",
    "REST": "#4a7fb0",
    "MIN": "#6aa84f",
    "MOD": "#e0a030",
    "MAX": "#cc4125",
    "ACT": "#f1c232",
    "CHECK": "#ff00ff",
    "SPONT": "#9fc5e8",
}
"""One colour per label for the scope's bands, the replay list and the prompt panel (same colour everywhere);
a protocol's own labels and reaction-time annotations use :data:`OTHER_COLOUR`."""
OTHER_COLOUR = "#999999"


def label_colour(label: str) -> str:
    return LABEL_COLOURS.get(label, OTHER_COLOUR)


@dataclass(frozen=True)
class Annotation:
    """One annotation: a segment of the exam, a detected activity, or a flag."""

    onset: int
    """First sample (absolute index)."""
    duration: int
    """Length in samples (0 for an instant)."""
    label: str
    muscle: str = ""
    side: str = ""
    flags: tuple[str, ...] = ()
    kind: str = SEGMENT
    attempt: int = 1
    """1 for the first run of a step, 2 for the first repetition the operator asked for, ..."""
    value_ms: float | None = None
    """A time the annotation reports (a reaction time), or ``None``."""
    repeat: str = ""
    """Which repetition of a repeated step, e.g. ``site 2/3`` (so site 1 and site 3 differ in the file)."""

    @property
    def end(self) -> int:
        """The sample after the last one covered."""
        return self.onset + self.duration

    def onset_s(self, sample_rate: float) -> float:
        return self.onset / sample_rate

    def duration_s(self, sample_rate: float) -> float:
        return self.duration / sample_rate

    @property
    def text(self) -> str:
        """One line for an EDF+ annotation, a scope band or a list row, e.g. ``REST Deltoid L site 2/3 [repeat 2]``.

        The label is always the first word: replay colours a file's annotations by it.
        """
        parts = [p for p in (self.label, self.muscle, self.side, self.repeat) if p]
        notes = list(self.flags)
        if self.attempt > 1 and FLAG_REPEAT not in notes:
            notes.append(f"attempt {self.attempt}")
        elif self.attempt > 1:
            notes[notes.index(FLAG_REPEAT)] = f"{FLAG_REPEAT} {self.attempt}"
        if self.value_ms is not None:
            notes.append(f"{self.value_ms:.0f} ms")
        if notes:
            parts.append("[" + ", ".join(notes) + "]")
        return " ".join(parts)
