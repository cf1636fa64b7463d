"""Reference values per muscle and the judgement of a muscle's MUPs against them (QEMG §4).

The table ships as ``resources/muap_reference.toml`` with its sources. For each muscle it holds the mean and SD of
healthy controls' mean amplitude and duration and, where the source gives them, the outlier limits for single
MUPs. Two judgements follow ("Classic" rule, Norwegian guideline ch. 5, QEMG §4 [V]):

* **the mean**: a muscle's mean amplitude and duration against the limits of the mean, mean ± :data:`MEAN_LIMIT_SD`
  SD (the inner box of the duration-amplitude plot); the source's upper limits for phases and turns where it
  gives them;
* **outliers**: single MUPs outside the outlier limits of amplitude or duration (the outer box); a muscle with
  more than :data:`ABNORMAL_OUTLIERS` outliers is abnormal. The rule was made on 20 MUPs, and fewer find less
  (sensitivity 26 / 44 / 67 % at 10 / 20 / 40 MUPs, Podnar 2004): a summary of fewer says so.

Only near-field MUPs that the clinician has not rejected are judged: far-field potentials (rise time over
0.5 ms) are not accepted for measurement (SIMULATION_PARAMETERS §1). A muscle that is not in the table gets its
means and the sentence that there are no reference values for it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from emgscope.analysis.muap.measure import MupMeasures
from emgscope.core.paths import resource

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

MEAN_LIMIT_SD = 2.0
"""Limits of a muscle's mean: the controls' mean ± 2 SD (checked against the tibialis anterior source, whose upper
limits of normal are mean + 2 SD; see the table's header)."""
ABNORMAL_OUTLIERS = 2
"""A muscle is abnormal when *more than* this many of its MUPs are outliers (QEMG §4)."""
RULE_MUPS = 20
"""The outlier rule is made for (at least) this many MUPs (QEMG §4)."""


@dataclass(frozen=True)
class Limits:
    mean: float
    sd: float
    outlier_low: float | None = None
    outlier_high: float | None = None

    @property
    def mean_low(self) -> float:
        return self.mean - MEAN_LIMIT_SD * self.sd

    @property
    def mean_high(self) -> float:
        return self.mean + MEAN_LIMIT_SD * self.sd

    @property
    def has_outlier_limits(self) -> bool:
        return self.outlier_low is not None and self.outlier_high is not None

    def outlier(self, value: float) -> bool:
        """Whether a single MUP's ``value`` lies outside the outlier limits (never, when there are none)."""
        if self.outlier_low is None or self.outlier_high is None:
            return False
        return not self.outlier_low <= value <= self.outlier_high


@dataclass(frozen=True)
class MuscleReference:
    name: str
    source: str
    amplitude_uv: Limits
    duration_ms: Limits
    phases_uln: float | None = None
    turns_uln: float | None = None
    polyphasic_uln_percent: float | None = None
    """Upper limit of normal for the share of polyphasic MUPs, where the source gives one."""

    @property
    def has_outlier_limits(self) -> bool:
        return self.amplitude_uv.has_outlier_limits and self.duration_ms.has_outlier_limits


def _limits(entry: dict) -> Limits:
    return Limits(
        float(entry["mean"]),
        float(entry["sd"]),
        float(entry["outlier_low"]) if "outlier_low" in entry else None,
        float(entry["outlier_high"]) if "outlier_high" in entry else None,
    )


def reference_path() -> Path:
    return resource("muap_reference.toml")


@cache
def load_reference(path: Path | None = None) -> dict[str, MuscleReference]:
    """The table, keyed by every accepted name in lower case (names and aliases)."""
    data = tomllib.loads((path or reference_path()).read_text(encoding="utf-8"))
    sources = data["sources"]
    table: dict[str, MuscleReference] = {}
    for name, entry in data["muscles"].items():
        reference = MuscleReference(
            name=name,
            source=sources[entry["source"]],
            amplitude_uv=_limits(entry["amplitude_uv"]),
            duration_ms=_limits(entry["duration_ms"]),
            phases_uln=entry.get("phases_uln"),
            turns_uln=entry.get("turns_uln"),
            polyphasic_uln_percent=entry.get("polyphasic_uln_percent"),
        )
        for key in [name, *entry.get("aliases", [])]:
            table[key.strip().lower()] = reference
    return table


def find_reference(muscle: str | None) -> MuscleReference | None:
    """The reference for ``muscle`` (any accepted name, any case), or ``None`` when the table has none."""
    if not muscle:
        return None
    return load_reference().get(muscle.strip().lower())


@dataclass(frozen=True)
class MuscleSummary:
    """A muscle's MUPs summed up: means, and the verdicts against its reference where there is one."""

    name: str | None
    mups: int
    """Near-field MUPs, not rejected: the ones summed up."""
    amplitude_uv_mean: float
    duration_ms_mean: float
    phases_mean: float
    turns_mean: float
    polyphasic_percent: float
    size_index_mean: float
    reference: MuscleReference | None
    outliers: int | None
    """MUPs outside the outlier limits; ``None`` when the reference gives no outlier limits (or there is none)."""
    findings: tuple[str, ...]
    """Plain sentences: what is outside the limits, and what the summary cannot say."""

    @property
    def abnormal_by_outliers(self) -> bool | None:
        return None if self.outliers is None else self.outliers > ABNORMAL_OUTLIERS


def _mean(values: Sequence[float]) -> float:
    return float(sum(values) / len(values)) if values else math.nan


def summarise_muscle(name: str | None, mups: Sequence[MupMeasures]) -> MuscleSummary:
    """Means of ``mups`` (already the accepted, near-field ones) and their judgement against ``name``'s reference."""
    reference = find_reference(name)
    amplitude = _mean([m.amplitude_uv for m in mups])
    duration = _mean([m.duration_ms for m in mups])
    phases = _mean([m.phases for m in mups])
    turns = _mean([m.turns for m in mups])
    findings: list[str] = []
    outliers = None
    if not mups:
        findings.append("no near-field MUP to sum up")
    if reference is None:
        findings.append(f"no reference values for {name}" if name else "no muscle named: no reference values")
    elif mups:
        findings += _mean_findings(reference, amplitude, duration, phases, turns)
        if reference.has_outlier_limits:
            outliers = sum(
                reference.amplitude_uv.outlier(m.amplitude_uv) or reference.duration_ms.outlier(m.duration_ms)
                for m in mups
            )
            if outliers > ABNORMAL_OUTLIERS:
                findings.append(f"{outliers} of {len(mups)} MUPs outside the outlier limits (abnormal above 2)")
        else:
            findings.append(f"the reference for {reference.name} gives no outlier limits: outliers not counted")
        if len(mups) < RULE_MUPS:
            findings.append(f"{len(mups)} MUPs: the reference rules are made for at least {RULE_MUPS}")
    return MuscleSummary(
        name=reference.name if reference else name,
        mups=len(mups),
        amplitude_uv_mean=amplitude,
        duration_ms_mean=duration,
        phases_mean=phases,
        turns_mean=turns,
        polyphasic_percent=100.0 * _mean([float(m.polyphasic) for m in mups]) if mups else math.nan,
        size_index_mean=_mean([m.size_index for m in mups]),
        reference=reference,
        outliers=outliers,
        findings=tuple(findings),
    )


def _mean_findings(
    reference: MuscleReference, amplitude: float, duration: float, phases: float, turns: float
) -> list[str]:
    out = []
    for label, value, limits, unit in (
        ("amplitude", amplitude, reference.amplitude_uv, "µV"),
        ("duration", duration, reference.duration_ms, "ms"),
    ):
        if value > limits.mean_high:
            out.append(f"mean {label} {value:.4g} {unit} above the limit {limits.mean_high:.4g} {unit}")
        elif value < limits.mean_low:
            out.append(f"mean {label} {value:.4g} {unit} below the limit {limits.mean_low:.4g} {unit}")
    for label, value, limit in (("phases", phases, reference.phases_uln), ("turns", turns, reference.turns_uln)):
        if limit is not None and value > limit:
            out.append(f"mean {label} {value:.2f} above the limit {limit:g}")
    return out
