"""What a protocol is once its file has been read: steps, and the plan of steps for the chosen muscles.

A :class:`Protocol` is the file's content, validated. A plan (:func:`build_plan`) is what the runner walks
through: every step of the protocol with its repeats unrolled, for each muscle and side chosen at the start.
"""

from __future__ import annotations

from dataclasses import dataclass

STANDARD_LABELS: tuple[str, ...] = ("INS", "REST", "MIN", "MOD", "MAX")
"""The needle exam's segment labels (DESIGN §3); a protocol may add its own."""

DEFAULT_EFFORT_PERCENT: dict[str, float] = {"INS": 0.0, "REST": 0.0, "MIN": 10.0, "MOD": 40.0, "MAX": 100.0}
"""Target effort of the simulated patient for a standard label when the protocol does not give one."""
DEFAULT_REPEAT_NAME = "trial"
"""What a repetition is called when the protocol does not say (the needle protocols' rests say ``site``)."""


@dataclass(frozen=True)
class Step:
    """One step as the protocol file defines it."""

    label: str
    prompt: str
    """What the patient hears (read out by the operator, or spoken by the app)."""
    instruction: str
    """What the operator does (not read out)."""
    duration_s: float | None
    """How long the step lasts; ``None``: until the operator advances."""
    effort_percent: float
    """How hard the simulated patient contracts during this step (0-100 % of maximal)."""
    repeat_name: str = DEFAULT_REPEAT_NAME
    """What one repetition of a repeated step (or block) is called in the file: ``site`` for a needle rest, where
    the needle moves to a new site each time."""


@dataclass(frozen=True)
class Protocol:
    """A validated protocol file."""

    name: str
    """The file's stem, e.g. ``needle_one_muscle``."""
    title: str
    description: str
    filter_preset: str
    """``needle`` or ``surface``: the filter preset the exam expects."""
    per_muscle: bool
    """True when the steps run once for each muscle and side chosen at the start."""
    muscles: tuple[str, ...]
    """Muscles offered at the start (the operator may type others)."""
    sides: tuple[str, ...]
    steps: tuple[tuple[Step, int, int], ...]
    """Every step in order with repeats unrolled: ``(step, repeat number, of how many)``."""


@dataclass(frozen=True)
class PlannedStep:
    """One step of the plan the runner walks through."""

    step: Step
    muscle: str
    side: str
    repeat: int
    """Which repetition of a repeated step or block this is (1-based)."""
    repeats: int
    muscle_index: int
    """Which muscle of the exam (0-based); the runner reports a muscle as finished when this changes."""

    @property
    def label(self) -> str:
        return self.step.label

    @property
    def repeat_text(self) -> str:
        """Which repetition this is, e.g. ``site 2/3``; empty for a step that is not repeated."""
        return f"{self.step.repeat_name} {self.repeat}/{self.repeats}" if self.repeats > 1 else ""


def build_plan(protocol: Protocol, muscles: list[tuple[str, str]]) -> list[PlannedStep]:
    """The runner's plan for ``muscles`` (``(name, side)`` pairs in exam order).

    A protocol that is not per-muscle runs once, on the first muscle given (or none).
    """
    if not protocol.per_muscle:
        muscles = muscles[:1]
    if not muscles:
        muscles = [("", "")]
    return [
        PlannedStep(step, muscle, side, repeat, repeats, index)
        for index, (muscle, side) in enumerate(muscles)
        for step, repeat, repeats in protocol.steps
    ]
