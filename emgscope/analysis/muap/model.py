"""The result of analysing one segment at one needle site: its units, their measurements, recruitment.

Everything here is plain data (frozen dataclasses of numbers and arrays): the analysis makes it, the clinician's
edits make new copies of it (:mod:`.edits`), the sidecar file stores it (:mod:`.sidecar`) and the MUP panel draws
it. Times inside a template are in ms from its alignment point (the main spike), ``zero``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from emgscope.analysis.muap.firing import FiringStats, Recruitment, recruitment
from emgscope.analysis.muap.measure import Markers, MupMeasures, measure
from emgscope.analysis.muap.reference import MuscleSummary, summarise_muscle

MIN_MUP_DURATION_MS = 2.0
"""A MUP lasts 2-15 ms (Aminoff [V], SIMULATION_PARAMETERS §1; short myopathic ones about 3-5 ms): a potential that
fires as a train yet lasts under 2 ms between its markers is a single fibre's (a fibrillation, a positive sharp
wave's spike, a myotonic discharge firing on through the contraction), not a motor unit's, and is left out of the
muscle's means."""

ONSET = "onset"
END = "end"
REJECTED = "rejected"


@dataclass(frozen=True)
class Edit:
    """One change a clinician made to one unit (:mod:`.edits`). ``ms`` is a moved marker's new time, from the
    unit's alignment point."""

    unit: int
    action: str
    ms: float | None = None
    at: str = ""
    """When it was made (ISO 8601, UTC)."""


@dataclass(frozen=True)
class MuapUnit:
    """One motor unit found in the segment."""

    id: int
    """1, 2, … in order of amplitude at the time of analysis (largest first); never renumbered by edits."""
    template_uv: np.ndarray
    """The unit's averaged potential (the robust mean of its clean discharges, sample by sample), µV."""
    template_rate_hz: float
    zero: int
    """Index of the alignment point (the main spike) in the template: time 0."""
    discharges: np.ndarray
    """Absolute sample indices (at the source's rate, in the recording) of each discharge's alignment point."""
    auto_markers: Markers
    """Onset and end as the analysis placed them."""
    markers: Markers
    """Onset and end in force: the clinician's where edited, otherwise the automatic ones."""
    measures: MupMeasures
    firing: FiringStats
    rejected: bool = False
    edited: tuple[str, ...] = ()
    """What the clinician changed: any of ``onset``, ``end``, ``rejected``, in the order first changed."""

    @property
    def duration_measured(self) -> bool:
        """Whether onset and end stand on quiet baseline (found by the rule, or placed by the clinician)."""
        return self.markers.found

    def ms_of(self, index: float) -> float:
        """Time (ms from the alignment point) of template sample ``index``."""
        return (index - self.zero) * 1000.0 / self.template_rate_hz

    def index_of(self, ms: float) -> int:
        """The template sample nearest to ``ms`` from the alignment point, inside the template."""
        index = round(self.zero + ms * self.template_rate_hz / 1000.0)
        return int(min(max(index, 0), self.template_uv.size - 1))

    @property
    def onset_ms(self) -> float:
        return self.ms_of(self.markers.onset)

    @property
    def end_ms(self) -> float:
        return self.ms_of(self.markers.end)

    def with_markers(self, markers: Markers, edited: Sequence[str]) -> MuapUnit:
        """A copy with ``markers`` in force and everything measured again between them."""
        measures = measure(self.template_uv, self.template_rate_hz, markers)
        return dataclasses.replace(self, markers=markers, measures=measures, edited=tuple(edited))


@dataclass(frozen=True)
class SiteAnalysis:
    """One segment of one channel, analysed."""

    sample_rate_hz: float
    """The source's rate (the templates may be at a higher one, see :attr:`MuapUnit.template_rate_hz`)."""
    start_index: int
    """Absolute index of the segment's first sample in the recording or stream."""
    samples: int
    units: tuple[MuapUnit, ...]
    recruitment: Recruitment
    background_sd_uv: float
    """Spread of the background in the spike band (:mod:`.detect`), µV; spikes were detected at 5 times it."""
    spikes: int
    """Spikes detected in the segment."""
    sorted_spikes: int
    """Of which assigned to a unit; the rest were superimposed, too rare or unclassifiable, and left out."""
    channel: int = 0
    channel_label: str = ""
    muscle: str | None = None
    filters: str = ""
    """The filter band the segment was analysed through, as shown on screen."""
    notes: tuple[str, ...] = ()
    """What the user should know about the result (a loss of precision, discharges left out)."""
    judge_rise_time: bool = True
    """Whether the rise-time criterion tells far-field potentials (False for a source too slow to carry the spike,
    whose rise times all read long)."""
    edits: tuple[Edit, ...] = ()
    """The clinician's edits, in the order they were made (:mod:`.edits`)."""

    def far_field(self, unit: MuapUnit) -> bool:
        """Whether ``unit`` is taken as far-field (rise time over 0.5 ms, where rise times can be trusted)."""
        return self.judge_rise_time and unit.measures.far_field

    def accepted(self, unit: MuapUnit) -> bool:
        """Counted in the muscle's means: not rejected, near-field, with a duration measured on quiet baseline and
        as long as a motor unit's (:data:`MIN_MUP_DURATION_MS`)."""
        return (
            not unit.rejected
            and unit.duration_measured
            and not self.far_field(unit)
            and unit.measures.duration_ms >= MIN_MUP_DURATION_MS
        )

    @property
    def start_s(self) -> float:
        return self.start_index / self.sample_rate_hz

    @property
    def end_s(self) -> float:
        return (self.start_index + self.samples) / self.sample_rate_hz

    def unit(self, unit_id: int) -> MuapUnit:
        for unit in self.units:
            if unit.id == unit_id:
                return unit
        raise KeyError(f"no unit {unit_id} in this analysis")

    def muscle_summary(self) -> MuscleSummary:
        """The muscle's means and verdicts from this site's accepted units."""
        return summarise_muscle(self.muscle, [u.measures for u in self.units if self.accepted(u)])


def site_recruitment(units: Sequence[MuapUnit], sample_rate_hz: float, start_index: int) -> Recruitment:
    """Recruitment at the site from the units that are not rejected."""
    trains = [(u.discharges / sample_rate_hz, u.firing.rate_hz) for u in units if not u.rejected]
    return recruitment(trains, start_index / sample_rate_hz)


def muscle_summary(analyses: Sequence[SiteAnalysis]) -> MuscleSummary:
    """One muscle's summary over several sites (a multi-MUP exam gathers 20 or more MUPs from a few sites)."""
    names = {a.muscle for a in analyses}
    if len(names) > 1:
        raise ValueError(f"the sites are of different muscles ({', '.join(sorted(map(str, names)))})")
    name = names.pop() if names else None
    return summarise_muscle(name, [u.measures for a in analyses for u in a.units if a.accepted(u)])
