"""The muscle around one needle site: motor units with territories and fibres, and what the needle sees of each.

The cross-section around the needle holds motor units whose territories (discs a few millimetres across) overlap,
as in real muscle, where the fibres of 15-30 units intermingle at any point. Each unit's fibres lie scattered in its
territory; each fibre has a diameter (its size and its conduction velocity), an endplate near the middle of the
muscle and an end at the tendon. The needle's tip sits at a point of the cross-section, some distance along the
fibres from the endplate zone. A unit's MUAP is the sum of its fibres' potentials (:mod:`sim_fibre`), each placed by
the fibre's distance to the tip and by when its action potential passes it. So whatever makes a MUAP in a patient
comes out of the same anatomy:

* a unit with fibres close to the tip gives a sharp, large MUAP; one whose nearest fibre is millimetres away a
  small blunt one; moving the tip (:meth:`Site.move`) changes which is which;
* myopathy (:attr:`MuscleState.fibre_loss`, :attr:`MuscleState.fibre_size_spread`): fewer and more varied fibres
  per unit, so short, low-amplitude, polyphasic MUAPs, and weaker units, so more of them for the same force
  (early recruitment, :func:`force_capacity`);
* denervation and reinnervation (:attr:`MuscleState.unit_loss`, :attr:`MuscleState.reinnervation`): fewer units,
  each survivor adopting orphaned fibres in clusters (fibre-type grouping) reached by slow immature sprouts, so
  large, long, polyphasic MUAPs and reduced recruitment: few units firing fast.

Every random draw of a unit comes from its own generator (the site's seed and the unit's index), so its fibres
are rebuilt identically wherever the needle moves and need not be kept in memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import signal

from emgscope.acquisition import sim_fibre as fibre

Range = tuple[float, float]

UNIT_OVERLAP = 20.0
"""Motor units whose territories cover an average point of a limb muscle (15-30 [T], Stålberg's scanning EMG)."""
TERRITORY_RADIUS_MM: Range = (2.5, 4.5)
"""Motor-unit territories are 5-10 mm across in limb muscles [T]."""
FIBRE_DENSITY_PER_MM2 = 15.0
"""Fibres of one unit per mm² of its territory: with 20 units overlapping, about 300 fibres per mm², the density of
50-60 µm fibres; a unit of 3.5 mm radius then has about 580 fibres (tibialis anterior: several hundred)."""
NEIGHBOURHOOD_MM = 7.0
"""Units whose centres lie within this of the site contribute; farther ones are below the noise."""
FIBRE_REACH_MM = 6.0
"""Fibres farther than this from a contact contribute only their end-of-fibre wave."""
FIBRE_DIAMETER_UM = 55.0
"""Mean fibre diameter of a limb muscle [T]; a fibre's potential grows with its cross-section."""
UNIT_DIAMETER_SD_UM = 6.0
"""Spread of the mean fibre diameter between units."""
FIBRE_DIAMETER_SD_UM = 5.0
"""Spread of fibre diameters within a normal unit."""
VELOCITY_PER_UM = 0.036
"""Conduction velocity rises by 0.036 m/s per µm of diameter (3-5 m/s over 30-80 µm [T])."""
ENDPLATE_SPREAD_MM = 2.0
"""Scatter of one unit's endplates along the fibres (the innervation zone is several mm wide [T])."""
ENDPLATE_ZONE_SD_MM = 2.0
"""Scatter of the units' own endplate centres about the muscle's innervation zone."""
TERMINAL_DELAY_MS = 0.1
"""Spread of the delays in the terminal axon branches and endplates (half-normal)."""
CLUSTER_FIBRES = 150
"""Orphaned fibres one sprout adopts: reinnervation groups fibres of one unit together (fibre-type grouping)."""
CLUSTER_RADIUS_MM = 0.4
"""Radius of such a group: all the fibres there then belong to the one unit."""
CLUSTER_ENDPLATE_SPREAD_MM = 0.1
"""A sprout's endplates lie close together, so a group fires nearly in step: the large sharp spike."""
NEEDLE_FROM_ENDPLATES_MM: Range = (5.0, 20.0)
"""Where along the fibres a site lies: away from the innervation zone, as the operator chooses."""
ENDPLATE_SITE_MM = 0.6
"""At an endplate site the tip lies within this of the centre of the innervation zone."""
TENDON_AHEAD_MM: Range = (3.0, 8.0)
"""Distance from the needle to where the fibres end ahead of it (an aponeurosis of a pennate muscle)."""
TENDON_BEHIND_MM: Range = (30.0, 50.0)
"""Distance from the innervation zone to the fibres' other end."""
TENDON_SPREAD_MM = 5.0
"""Scatter of the fibre ends (pennate fibres end obliquely on their aponeurosis)."""
FAR_FIELD_RETAINED = 0.25
"""Share of the end-of-fibre (far-field) waves a concentric needle keeps: its cannula, the reference, sees nearly the
same distant field as its core and cancels most of it."""
CANNULA_POINTS_MM: tuple[float, ...] = tuple(float(x) for x in np.round(np.linspace(0.3, 6.0, 12), 3))
"""Points along the shaft, back from the tip, whose average stands for the cannula's potential: a concentric needle
records its core against it, so a unit near the shaft appears small and inverted and slow potentials common to both
cancel."""
CANNULA_RADIUS_MM = 0.23
"""The shaft's radius (a 0.45 mm needle): no fibre comes closer to the cannula than this."""
MOVE_STEP_MM: Range = (0.3, 0.8)
"""A small needle movement (an insertion step) shifts the tip this far across the fibres."""
MOVE_LIMIT_MM = 2.0
"""Small movements keep the tip within this of the site's first position (a new site is a new neighbourhood)."""
FIRST_THRESHOLD_PERCENT = 1.0
LAST_THRESHOLD_PERCENT = 80.0
"""Recruitment thresholds of a muscle's units run from about 1 % to about 80 % of maximal force [T]."""
THRESHOLD_RANGE = 30.0
"""Thresholds grow exponentially with a unit's rank in size (many small low-threshold units): the largest needs 30
times the drive of the smallest (Fuglevand et al. 1993's range, [T])."""
TEMPLATE_LEVEL = 0.02
"""A template is cut where its potential falls below this fraction of its peak-to-peak amplitude (then tapered)."""
TEMPLATE_FLOOR_UV = 1.5
"""... and in any case where it falls below this, under the needle's own noise (2.5-4 µV RMS): a distant unit's
long, tiny tail costs painting time and cannot be seen or heard."""


@dataclass(frozen=True)
class MuscleState:
    """The physiology of one muscle: what a disease has done to its motor units (all fractions 0-1)."""

    unit_loss: float = 0.0
    """Motor units lost (denervation)."""
    reinnervation: float = 0.0
    """Share of the orphaned fibres that surviving units have adopted by collateral sprouting."""
    sprout_delay_ms: Range = (0.0, 0.0)
    """Extra delay of adopted fibres: immature, slowly conducting sprouts (satellites, polyphasia)."""
    territory_growth: float = 0.0
    """Relative growth of a reinnervated unit's territory (up to about 40 %, SIMULATION_PARAMETERS §1)."""
    fibre_loss: float = 0.0
    """Fibres lost within each unit (myopathy)."""
    fibre_size_spread: float = 0.0
    """Extra spread of fibre diameters in µm (atrophic and hypertrophic fibres in myopathy)."""
    fibre_size: float = 1.0
    """Mean fibre diameter relative to normal."""
    late_fibres: float = 0.0
    """Share of each unit's fibres reached late: split and regenerating fibres in myopathy, conducting slowly
    (late components and satellites, polyphasia)."""
    late_delay_ms: Range = (0.0, 0.0)
    unit_force: float = 1.0
    """Force of a unit's fibres relative to normal, beyond their number and size (myopathic fibres are weak)."""
    peak_rate_hz: Range = (28.0, 35.0)
    """Firing rate at maximal effort (a few remaining units fire faster: 40-50 Hz in neurogenic disease)."""


@dataclass(frozen=True)
class UnitAnatomy:
    """One motor unit of a site's neighbourhood (its fibres are rebuilt from ``seed``)."""

    index: int
    centre: tuple[float, float]
    radius_mm: float
    """Territory radius (grown by reinnervation)."""
    own_fibres: int
    fibres: int
    """All its fibres: its own and those it adopted, before any myopathic loss."""
    seed: tuple[int, ...]
    threshold_percent: float
    """Effort at which it is recruited."""


@dataclass(frozen=True)
class SiteGeometry:
    """Where the tip is: ``tip`` in the cross-section (mm), and along the fibres."""

    tip: tuple[float, float]
    from_endplates_mm: float
    """Distance along the fibres from the innervation zone's centre to the tip."""
    tendon_ahead_mm: float
    tendon_behind_mm: float
    shaft: tuple[float, float]
    """Direction of the needle's shaft in the cross-section (the cannula, the reference, runs back along it)."""
    origin: tuple[float, float] = (0.0, 0.0)
    """The tip's first position at this site: small movements stay near it."""

    @property
    def at_endplate(self) -> bool:
        return self.from_endplates_mm <= ENDPLATE_SITE_MM


def neighbourhood(rng: np.random.Generator, state: MuscleState, seed: tuple[int, ...]) -> list[UnitAnatomy]:
    """The motor units around a site that survive ``state.unit_loss``, with their recruitment thresholds.

    Thresholds follow each unit's rank in size among all the units the site had before any loss (the size
    principle), spread exponentially from :data:`FIRST_THRESHOLD_PERCENT`, in units of the drive
    (:func:`force_capacity`). Survivors grow by what they adopted.
    """
    mean_area = math.pi * float(np.mean(np.square(TERRITORY_RADIUS_MM)))
    count = int(rng.poisson(UNIT_OVERLAP / mean_area * math.pi * NEIGHBOURHOOD_MM**2))
    r = NEIGHBOURHOOD_MM * np.sqrt(rng.random(count))
    angle = rng.uniform(0.0, 2 * math.pi, count)
    radius = rng.uniform(*TERRITORY_RADIUS_MM, count)
    own = rng.poisson(FIBRE_DENSITY_PER_MM2 * math.pi * radius * radius)
    survives = rng.random(count) >= state.unit_loss
    rank = np.empty(count)
    rank[np.argsort(own, kind="stable")] = np.arange(count) / max(count - 1, 1)
    span = LAST_THRESHOLD_PERCENT - FIRST_THRESHOLD_PERCENT
    growth = (THRESHOLD_RANGE**rank - 1.0) / (THRESHOLD_RANGE - 1.0)
    threshold = FIRST_THRESHOLD_PERCENT + span * growth
    adopted = _adopted_share(state)
    units = []
    for k in np.flatnonzero(survives):
        units.append(
            UnitAnatomy(
                len(units),
                (float(r[k] * math.cos(angle[k])), float(r[k] * math.sin(angle[k]))),
                float(radius[k] * (1.0 + state.territory_growth)),
                int(own[k]),
                int(own[k]) + round(int(own[k]) * adopted),
                (*seed, int(k)),
                float(threshold[k]),
            )
        )
    return units


def place_site(rng: np.random.Generator, endplate: bool) -> SiteGeometry:
    """A new site: the tip at the centre of a fresh neighbourhood, at or away from the endplate zone."""
    along = rng.uniform(0.0, ENDPLATE_SITE_MM) if endplate else rng.uniform(*NEEDLE_FROM_ENDPLATES_MM)
    angle = rng.uniform(0.0, 2 * math.pi)
    return SiteGeometry(
        (0.0, 0.0),
        along,
        rng.uniform(*TENDON_AHEAD_MM),
        rng.uniform(*TENDON_BEHIND_MM),
        (math.cos(angle), math.sin(angle)),
    )


def moved(site: SiteGeometry, rng: np.random.Generator) -> SiteGeometry:
    """The tip advanced a small step along the shaft (an insertion step), or pulled back when it would leave the
    site's neighbourhood."""
    step = rng.uniform(*MOVE_STEP_MM)
    x = site.tip[0] - step * site.shaft[0]
    y = site.tip[1] - step * site.shaft[1]
    if math.hypot(x - site.origin[0], y - site.origin[1]) > MOVE_LIMIT_MM:
        x, y = site.tip[0] + step * site.shaft[0], site.tip[1] + step * site.shaft[1]
        angle = rng.uniform(0.0, 2 * math.pi)
        return SiteGeometry(
            (x, y),
            site.from_endplates_mm,
            site.tendon_ahead_mm,
            site.tendon_behind_mm,
            (math.cos(angle), math.sin(angle)),
            site.origin,
        )
    return SiteGeometry(
        (x, y), site.from_endplates_mm, site.tendon_ahead_mm, site.tendon_behind_mm, site.shaft, site.origin
    )


@dataclass(frozen=True)
class Fibres:
    """The fibres of one unit: positions in mm, diameters in µm, and along the fibres (mm from the tip, forwards
    positive) their endplates and both ends; ``delay_ms`` is the terminal-axon delay of each."""

    x: np.ndarray
    y: np.ndarray
    diameter: np.ndarray
    endplate_mm: np.ndarray
    delay_ms: np.ndarray
    ahead_end_mm: np.ndarray
    behind_end_mm: np.ndarray


@dataclass(frozen=True)
class Potential:
    """What the needle records from one unit at one tip position."""

    template: np.ndarray
    """µV at the stream rate, exactly zero at both ends."""
    nearest_mm: float
    """Distance from the tip to the unit's nearest fibre."""


def fibres_of(unit: UnitAnatomy, state: MuscleState, site: SiteGeometry) -> Fibres:
    """Rebuild ``unit``'s fibres (the same every time)."""
    rng = np.random.default_rng(unit.seed)
    original = unit.own_fibres
    n = unit.fibres
    x, y = _scatter(rng, unit.centre, unit.radius_mm / (1.0 + state.territory_growth), original)
    keep = rng.random(n) >= state.fibre_loss
    mean = rng.normal(FIBRE_DIAMETER_UM * state.fibre_size, UNIT_DIAMETER_SD_UM)
    diameter = np.clip(rng.normal(mean, FIBRE_DIAMETER_SD_UM + state.fibre_size_spread, n), 15.0, 120.0)
    centre = rng.normal(0.0, ENDPLATE_ZONE_SD_MM)
    endplate = rng.normal(centre, ENDPLATE_SPREAD_MM, n)
    delay = np.abs(rng.normal(0.0, TERMINAL_DELAY_MS, n))
    late = rng.random(n) < state.late_fibres
    delay[late] += rng.uniform(*state.late_delay_ms, int(late.sum()))
    if n > original:
        # Fibre-type grouping: each sprout adopts a cluster of neighbouring orphaned fibres, whose endplates lie
        # close together and which it reaches with one (immature, slow) delay.
        clusters = max(1, (n - original) // CLUSTER_FIBRES)
        cx, cy = _scatter(rng, unit.centre, unit.radius_mm, clusters)
        cluster_endplate = rng.normal(centre, ENDPLATE_SPREAD_MM, clusters)
        cluster_delay = rng.uniform(*state.sprout_delay_ms, clusters)
        pick = rng.integers(0, clusters, n - original)
        gx, gy = _scatter(rng, (0.0, 0.0), CLUSTER_RADIUS_MM, n - original)
        x = np.concatenate((x, cx[pick] + gx))
        y = np.concatenate((y, cy[pick] + gy))
        endplate[original:] = rng.normal(cluster_endplate[pick], CLUSTER_ENDPLATE_SPREAD_MM)
        delay[original:] += cluster_delay[pick]
    ahead = np.maximum(site.tendon_ahead_mm + rng.normal(0.0, TENDON_SPREAD_MM, n), 1.0)
    behind = -site.from_endplates_mm - site.tendon_behind_mm + rng.normal(0.0, TENDON_SPREAD_MM, n)
    fibres = Fibres(x, y, diameter, endplate - site.from_endplates_mm, delay, ahead, behind)
    return Fibres(*(getattr(fibres, f)[keep] for f in Fibres.__dataclass_fields__))


def force_capacity(state: MuscleState) -> float:
    """The force the muscle's motor units can make, relative to a normal muscle: what survives of them, grown by
    reinnervation, times what is left of their fibres and how strong those are.

    The simulated patient's effort is the force asked for (a normal muscle's percentage); the drive to the motor
    units is effort over capacity, capped at 100 %. So a weak muscle needs more drive for the same effort: a
    myopathic one recruits all its small units and fires them fast at a slight effort (early recruitment, a full
    low-amplitude pattern), a denervated one fires its few units fast (reduced recruitment, SIMULATION_PARAMETERS
    §1: rates above 15-20 Hz with one or two units)."""
    units = (1.0 - state.unit_loss) * (1.0 + _adopted_share(state))
    fibres = (1.0 - state.fibre_loss) * state.fibre_size**2 * state.unit_force
    return max(units * fibres, 1e-3)


def _adopted_share(state: MuscleState) -> float:
    return state.reinnervation * state.unit_loss / max(1.0 - state.unit_loss, 1e-6)


def _scatter(rng: np.random.Generator, centre: tuple[float, float], radius: float, n: int):
    r = radius * np.sqrt(rng.random(n))
    angle = rng.uniform(0.0, 2 * math.pi, n)
    return centre[0] + r * np.cos(angle), centre[1] + r * np.sin(angle)


def potential(fibres: Fibres, site: SiteGeometry, stream_rate: float) -> Potential:
    """The unit's MUAP at the tip: the sum of its fibres' propagating potentials and end-of-fibre waves."""
    if fibres.x.size == 0:
        return Potential(np.zeros(3), math.inf)
    build = fibre.build_rate(stream_rate)
    distance = np.hypot(fibres.x - site.tip[0], fibres.y - site.tip[1])
    velocity = fibre.CONDUCTION_MM_PER_MS + VELOCITY_PER_UM * (fibres.diameter - FIBRE_DIAMETER_UM)
    velocity = np.maximum(velocity, 1.0)
    size = (fibres.diameter / FIBRE_DIAMETER_UM) ** 2
    # The tip lies ahead of the endplates (at axial 0; endplates at negative positions): the wave that travels
    # forwards passes it, then dies at the end ahead; the backward wave dies at the end behind.
    to_tip = np.abs(fibres.endplate_mm)
    passing = to_tip / velocity + fibres.delay_ms
    near = distance < FIBRE_REACH_MM
    ahead_end = (fibres.ahead_end_mm - fibres.endplate_mm) / velocity + fibres.delay_ms
    behind_end = (fibres.endplate_mm - fibres.behind_end_mm) / velocity + fibres.delay_ms
    end_ms = np.concatenate((ahead_end, behind_end))
    end_weight = np.concatenate(
        (
            size * fibre.end_gain(distance, fibres.ahead_end_mm),
            size * fibre.end_gain(distance, fibres.behind_end_mm),
        )
    )
    if not near.any():
        near = distance <= distance.min()
    end_weight = end_weight * FAR_FIELD_RETAINED
    d_all, p_all, w_all = distance[near], passing[near], size[near]
    if CANNULA_POINTS_MM:
        parts_d, parts_p, parts_w = [d_all], [p_all], [w_all]
        share = 1.0 / len(CANNULA_POINTS_MM)
        for s_mm in CANNULA_POINTS_MM:
            dc = np.hypot(fibres.x - site.tip[0] - s_mm * site.shaft[0], fibres.y - site.tip[1] - s_mm * site.shaft[1])
            dc = np.maximum(dc, CANNULA_RADIUS_MM)
            sel = dc < FIBRE_REACH_MM
            parts_d.append(dc[sel])
            parts_p.append(passing[sel])
            parts_w.append(-share * size[sel])
        d_all, p_all, w_all = np.concatenate(parts_d), np.concatenate(parts_p), np.concatenate(parts_w)
    wave, _ = fibre.sum_fibres(build, d_all, p_all, w_all, end_ms, end_weight)
    return Potential(cut(fibre.to_stream(wave, build, stream_rate)), float(distance.min()))


def cut(wave: np.ndarray) -> np.ndarray:
    """The part of ``wave`` above :data:`TEMPLATE_LEVEL` of its peak to peak (and above :data:`TEMPLATE_FLOOR_UV`),
    tapered to exact zero at both ends."""
    span = float(np.ptp(wave))
    if span == 0:
        return np.zeros(3)
    level = max(TEMPLATE_LEVEL * span, min(TEMPLATE_FLOOR_UV, 0.1 * span))
    idx = np.flatnonzero(np.abs(wave - np.median(wave)) > level)
    first, last = max(0, idx[0] - 4), min(wave.size, idx[-1] + 5)
    out = wave[first:last] - np.linspace(wave[first], wave[last - 1], last - first)
    out *= signal.windows.tukey(out.size, min(1.0, 8.0 / max(out.size, 8)))
    out[0] = out[-1] = 0.0
    return out
