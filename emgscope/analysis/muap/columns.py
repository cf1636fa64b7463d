"""The MUP table's columns: one heading and one number format each, for the command line and the MUP panel alike.

A value that cannot be given is shown as ``—``: a firing rate with too few intervals, or a duration (and what is
counted or measured over it: phases, turns, area, thickness, size index) when onset or end found no quiet baseline
inside the template.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from emgscope.analysis.muap.model import MuapUnit, SiteAnalysis

MISSING = "—"


@dataclass(frozen=True)
class Column:
    heading: str
    unit: str
    format: str
    value: Callable[[MuapUnit], float | int | None]
    needs_duration: bool = False
    """Measured over the duration: not shown while the duration is not measured."""

    def text(self, unit: MuapUnit) -> str:
        value = self.value(unit)
        if value is None or (self.needs_duration and not unit.duration_measured):
            return MISSING
        if isinstance(value, float) and not math.isfinite(value):
            return MISSING
        return format(value, self.format)


COLUMNS: tuple[Column, ...] = (
    Column("Amplitude", "µV", ".0f", lambda u: u.measures.amplitude_uv),
    Column("Duration", "ms", ".1f", lambda u: u.measures.duration_ms, True),
    Column("Phases", "", "d", lambda u: u.measures.phases, True),
    Column("Turns", "", "d", lambda u: u.measures.turns, True),
    Column("Area", "µV·ms", ".0f", lambda u: u.measures.area_uv_ms, True),
    Column("Thickness", "ms", ".2f", lambda u: u.measures.thickness_ms, True),
    Column("Size index", "", ".2f", lambda u: u.measures.size_index, True),
    Column("Rise", "ms", ".2f", lambda u: u.measures.rise_time_ms),
    Column("Discharges", "", "d", lambda u: int(u.discharges.size)),
    Column("Rate", "Hz", ".1f", lambda u: u.firing.rate_hz),
    Column("CV", "", ".2f", lambda u: u.firing.cv),
)


def heading(column: Column) -> str:
    return f"{column.heading} ({column.unit})" if column.unit else column.heading


def remarks(site: SiteAnalysis, unit: MuapUnit) -> str:
    """What the clinician should know about a row: rejected, edited, far-field, polyphasic, no quiet baseline."""
    words = []
    if unit.rejected:
        words.append("rejected")
    edited = [f for f in unit.edited if f != "rejected"]
    if edited:
        words.append(f"{' and '.join(edited)} edited")
    if site.far_field(unit):
        words.append("far-field")
    if unit.measures.polyphasic:
        words.append("polyphasic")
    if not unit.duration_measured:
        words.append("no quiet baseline")
    return ", ".join(words)
