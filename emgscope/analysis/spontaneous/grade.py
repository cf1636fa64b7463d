"""Grades 0 to 4+ from what the rest steps found: per needle site, and per muscle over its sites (QEMG §6).

The scale (StatPearls 19794, QEMG §6 [V]) is in words: 0 none; 1+ persistent in at least 2 areas; 2+ a moderate
number in 3 or more areas; 3+ many, in all areas; 4+ profuse, filling the baseline. Counting is needed to turn the
words into a suggestion, and the counts below are our rule (no published figure was found):

* **at one site** the number of distinct trains of fibrillations (or of positive sharp waves) that persist
  (:data:`PERSISTENT_DISCHARGES`) is read as none (0), a few (1: 1+), a moderate number (2-3: 2+), many (4-9:
  3+) or profuse (10 or more: 4+), :data:`SITE_GRADE_TRAINS`; the simulated patient builds its sites with the same
  convention (``TRAINS_PER_GRADE`` in ``emgscope/acquisition/sim_profiles.py``);
* **for the muscle** the sites are combined as the scale's words say, "areas" being the sites examined away from
  the endplate zone (an exam takes two or three per muscle, so "3 or more areas" is read as every site; activity is
  abnormal outside the endplate zone, QEMG §6, so a site there neither adds nor lacks an area): no persistent train
  anywhere is 0;
  trains at some sites but not all is 1+; trains at every site is 2+, 3+ when the median site has many (its
  grade 3+) and 4+ when it is profuse (4+). A muscle examined at one site takes that site's grade;
* **fasciculations** have no published grading figures either: a rate per minute at the site (or over the
  muscle's rest time) is read as none, few, moderate, many or profuse with :data:`FASCICULATIONS_PER_MINUTE`
  (in ALS one may take up to 90 s to appear, §2: a grade from a few seconds of rest is a rough one, and says so);
* the **other discharges** (complex repetitive, myotonic, myokymic, neuromyotonic) are reported present where a
  site shows a train of them (:data:`OTHER_MIN_DISCHARGES`), not graded.

Every grade is a suggestion with its evidence; the clinician's value replaces it in the findings table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from emgscope.analysis.spontaneous import classify as c
from emgscope.analysis.spontaneous.analyse import RestAnalysis

GRADED = (c.FIBRILLATION, c.PSW, c.FASCICULATION)
PERSISTENT_DISCHARGES = 3
"""A train counts towards the grade when it fires at least this many times in the rest (a fibrillation at its
slowest, 0.5 Hz, fires 3 times in 5 s); a lone discharge or two is left as evidence, not counted."""
SITE_GRADE_TRAINS = (1, 2, 4, 10)
"""Persistent trains at one site from which the site's grade is 1+, 2+, 3+ and 4+ (see the module's docstring)."""
FASCICULATIONS_PER_MINUTE = (0.0, 5.0, 15.0, 35.0)
"""Fasciculations per minute from which the grade is 1+, 2+, 3+ and 4+ (our rule; see the module's docstring) ..."""
FASCICULATIONS_MIN = 2
"""... once at least this many were seen: one unit-sized discharge alone may be two small ones superimposed."""
OTHER_MIN_DISCHARGES = 10
ENDPLATE_MIN_DISCHARGES = 20
"""The needle is taken to be at the endplate zone when the rest shows this many endplate discharges (noise fires at
20-40 Hz from each endplate, spikes up to 50 Hz, §2: a few seconds there give hundreds; a stray few do not make a
zone)."""
"""A complex repetitive, myotonic, myokymic or neuromyotonic discharge is reported when one site shows at least this
many of its discharges (a run, or a few bursts)."""


@dataclass(frozen=True)
class SiteGrade:
    """One rest step's grades and what they rest on."""

    grades: dict[str, int]
    """Fibrillations, positive sharp waves, fasciculations: 0-4; empty where the patient was not relaxed (motor
    units fired through the rest, and what they hide cannot be graded)."""
    trains: dict[str, int]
    """Persistent trains of each graded class."""
    others: tuple[str, ...]
    endplate: bool
    """Endplate noise or spikes were found: the needle is at the endplate zone (normal activity)."""
    relaxed: bool


def _level(value: float, thresholds: Sequence[float]) -> int:
    return sum(value >= t for t in thresholds)


def persistent_trains(rest: RestAnalysis, cls: str, endplate: bool = False) -> int:
    """Trains of ``cls`` that persist; at the endplate zone (``endplate``) only regular ones: spontaneous activity
    is abnormal outside it (QEMG §6), and there an initially positive spike firing irregularly may be an endplate
    spike's far side, where a fibrillation keeps its rhythm (regular trains vary by less than 5 %, §4)."""
    return sum(
        1
        for t in rest.of(cls)
        if t.count >= PERSISTENT_DISCHARGES and (not endplate or t.pattern.regular_share >= c.REGULAR_SHARE)
    )


def fasciculation_rate(count: int, seconds: float) -> float:
    """Per minute; 0 with no time."""
    return 60.0 * count / seconds if seconds > 0 else 0.0


def site_grade(rest: RestAnalysis) -> SiteGrade:
    """The grades of one rest step (see the module's docstring)."""
    endplate = rest.count(c.ENDPLATE_NOISE) + rest.count(c.ENDPLATE_SPIKE) >= ENDPLATE_MIN_DISCHARGES
    trains = {cls: persistent_trains(rest, cls, endplate) for cls in (c.FIBRILLATION, c.PSW)}
    grades = {cls: _level(trains[cls], SITE_GRADE_TRAINS) for cls in trains}
    fasciculations = rest.count(c.FASCICULATION)
    trains[c.FASCICULATION] = fasciculations
    grades[c.FASCICULATION] = _fasciculation_grade(fasciculations, rest.seconds)
    others = tuple(cls for cls in c.OTHER_DISCHARGES if rest.count(cls) >= OTHER_MIN_DISCHARGES)
    relaxed = rest.relaxed and not rest.of(c.VOLUNTARY)
    return SiteGrade(grades if relaxed else {}, trains, others, endplate, relaxed)


@dataclass(frozen=True)
class MuscleGrade:
    """One muscle's suggested spontaneous-activity findings over its rest steps."""

    grades: dict[str, int | None]
    """Fibrillations, positive sharp waves, fasciculations: 0-4, or None where no rest step was relaxed."""
    others: tuple[str, ...]
    sites: int
    """Rest steps examined."""
    relaxed_sites: int
    """Of which relaxed: the grades come from these."""
    seconds: float
    """Relaxed rest analysed, in all."""
    evidence: dict[str, str]
    """Per class, in words: how many, at how many sites."""


def muscle_grade(rests: Sequence[RestAnalysis]) -> MuscleGrade:
    """Combine a muscle's rest steps (see the module's docstring); steps where the patient was not relaxed give
    the other discharges they show, but no grade."""
    sites = [site_grade(r) for r in rests]
    relaxed = [(r, s) for r, s in zip(rests, sites, strict=True) if s.relaxed]
    seconds = sum(r.seconds for r, _ in relaxed)
    grades: dict[str, int | None] = {}
    evidence: dict[str, str] = {}
    note = "" if len(relaxed) == len(sites) else f"; {len(sites) - len(relaxed)} not relaxed, not graded"
    away = [s for _, s in relaxed if not s.endplate] or [s for _, s in relaxed]
    for cls in (c.FIBRILLATION, c.PSW):
        values = [s.grades[cls] for s in away]
        grades[cls] = _combined(values) if relaxed else None
        trains = sum(s.trains[cls] for _, s in relaxed)
        at = f"{sum(1 for v in values if v)} of {len(values)} sites"
        zone = len(relaxed) - len(away)
        endplate = f" ({zone} more at the endplate zone)" if zone else ""
        evidence[cls] = f"{trains} persistent trains at {at}{endplate}{note}"
    count = sum(r.count(c.FASCICULATION) for r, _ in relaxed)
    rate = fasciculation_rate(count, seconds)
    grades[c.FASCICULATION] = _fasciculation_grade(count, seconds) if relaxed else None
    evidence[c.FASCICULATION] = f"{count} in {seconds:.0f} s of relaxed rest ({rate:.1f} per minute){note}"
    others = tuple(cls for cls in c.OTHER_DISCHARGES if any(cls in s.others for s in sites))
    for cls in others:
        found = [r.count(cls) for r in rests]
        evidence[cls] = f"{sum(found)} discharges at {sum(1 for f in found if f)} of {len(rests)} sites"
    return MuscleGrade(grades, others, len(sites), len(relaxed), seconds, evidence)


def _fasciculation_grade(count: int, seconds: float) -> int:
    if count < FASCICULATIONS_MIN:
        return 0
    return _level(fasciculation_rate(count, seconds), FASCICULATIONS_PER_MINUTE)


def _combined(site_grades: Sequence[int]) -> int:
    """A muscle's grade from its sites' (see the module's docstring)."""
    if len(site_grades) <= 1:
        return site_grades[0] if site_grades else 0
    if not any(site_grades):
        return 0
    if not all(site_grades):
        return 1
    ordered = sorted(site_grades)
    median = ordered[len(ordered) // 2] if len(ordered) % 2 else ordered[len(ordered) // 2 - 1]
    return max(2, median)
