"""The simulated patient follows the prompts, the way a person does: late, variable, and not always as asked.

:class:`SimPatientDriver` listens to the runner's step changes and, after a human reaction time (a few hundred
ms, random but seeded), sets the patient's effort to the step's target. With configurable probabilities the
patient does not comply: reacts late, contracts weakly, or does not relax. Every change it makes is recorded
with the sample it took effect on: the ground truth the activity detector is measured against.

The driver owns no thread and reads no clock. Whoever advances the sample clock calls :meth:`apply_due` with
the index of the next sample the patient will generate; a headless loop can generate exactly up to
:meth:`next_change` so each change lands on its scheduled sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from emgscope.core.events import Event
from emgscope.protocol.runner import STEP_CHANGED, RunnerStatus

COMPLIANT = "compliant"
LATE = "late"
WEAK = "weak"
NOT_RELAXING = "not relaxing"


@dataclass(frozen=True)
class Compliance:
    """How the simulated patient reacts to a prompt."""

    reaction_median_s: float = 0.3
    reaction_spread: float = 0.25
    """Log-normal spread of the reaction time (0.25: most reactions between 0.2 and 0.5 s)."""
    reaction_range_s: tuple[float, float] = (0.15, 0.8)
    late_probability: float = 0.0
    late_extra_s: tuple[float, float] = (1.0, 2.5)
    weak_probability: float = 0.0
    weak_factor: tuple[float, float] = (0.15, 0.4)
    """A weak contraction reaches this fraction of the target effort."""
    not_relaxing_probability: float = 0.0
    not_relaxing_effort: tuple[float, float] = (8.0, 20.0)
    """Effort (%) a patient who does not relax keeps during a rest step."""


@dataclass(frozen=True)
class EffortChange:
    """One change of the patient's effort: ground truth."""

    sample: int
    """The first sample generated at the new effort."""
    effort_percent: float
    previous_percent: float
    target_percent: float
    """What the step asked for."""
    label: str
    prompt_sample: int
    """The onset of the step that prompted the change (``sample - prompt_sample`` is the reaction time)."""
    behaviour: str


class SimPatientDriver:
    """Turns step changes into effort changes of the simulated patient, after a reaction time."""

    def __init__(
        self,
        sample_rate: float,
        set_effort: Callable[[float], None],
        compliance: Compliance | None = None,
        seed: int = 0,
        effort_percent: float = 0.0,
    ) -> None:
        """``effort_percent``: where the patient is when the exam starts (one still contracting relaxes at the
        first rest prompt like any other)."""
        self.sample_rate = sample_rate
        self._set_effort = set_effort
        self.compliance = compliance or Compliance()
        self._rng = np.random.default_rng(seed)
        self.effort_percent = effort_percent
        self._pending: EffortChange | None = None
        self.truth: list[EffortChange] = []

    def on_event(self, event: Event) -> None:
        """Subscribe this to the runner's bus."""
        if event.kind == STEP_CHANGED:
            status: RunnerStatus = event.data["status"]
            if status.planned is not None:
                self.step_changed(status.onset, status.planned.step.effort_percent, status.planned.label)

    def step_changed(self, onset: int, target_percent: float, label: str) -> None:
        """A new step began on sample ``onset``: decide how and when the patient responds."""
        c = self.compliance
        rng = self._rng
        reaction = math.exp(math.log(c.reaction_median_s) + c.reaction_spread * rng.standard_normal())
        reaction = min(max(reaction, c.reaction_range_s[0]), c.reaction_range_s[1])
        effort = target_percent
        behaviour = COMPLIANT
        if target_percent > 0 and rng.random() < c.weak_probability:
            effort = target_percent * rng.uniform(*c.weak_factor)
            behaviour = WEAK
        elif target_percent == 0 and self._target_after_pending() > 0 and rng.random() < c.not_relaxing_probability:
            effort = rng.uniform(*c.not_relaxing_effort)
            behaviour = NOT_RELAXING
        if rng.random() < c.late_probability:
            reaction += rng.uniform(*c.late_extra_s)
            behaviour = LATE if behaviour == COMPLIANT else f"{behaviour}, {LATE}"
        self._pending = None
        if effort == self.effort_percent:
            return
        sample = onset + round(reaction * self.sample_rate)
        self._pending = EffortChange(sample, effort, self.effort_percent, target_percent, label, onset, behaviour)

    def next_change(self) -> int | None:
        """The sample the next effort change is due on, if one is scheduled."""
        return None if self._pending is None else self._pending.sample

    def apply_due(self, sample_index: int) -> None:
        """Apply a change due at or before ``sample_index`` (the next sample the patient generates)."""
        pending = self._pending
        if pending is None or pending.sample > sample_index:
            return
        self._pending = None
        change = EffortChange(
            sample_index,
            pending.effort_percent,
            self.effort_percent,
            pending.target_percent,
            pending.label,
            pending.prompt_sample,
            pending.behaviour,
        )
        self._set_effort(change.effort_percent)
        self.effort_percent = change.effort_percent
        self.truth.append(change)

    def _target_after_pending(self) -> float:
        """The effort the patient is at or heading for (a rest right after a contraction prompt counts)."""
        return self._pending.effort_percent if self._pending is not None else self.effort_percent


COMPLIANCE_PRESETS: dict[str, Compliance] = {
    "compliant": Compliance(),
    "late": Compliance(late_probability=0.5),
    "weak": Compliance(weak_probability=0.5),
    "not relaxing": Compliance(not_relaxing_probability=0.5),
    "mixed": Compliance(late_probability=0.2, weak_probability=0.2, not_relaxing_probability=0.2),
}
"""How the simulated patient follows the prompts (offered by the exam's start dialog and ``record --compliance``)."""
