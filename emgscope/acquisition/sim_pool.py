"""One needle site's generators: what the needle records there, and the ground truth of each.

A *generator* places one fixed template in the signal each time it fires: a motor unit (its MUAP at the current
tip position), a fibrillating fibre, a complex repetitive circuit, an endplate. :class:`Site` builds them for one
channel from a :class:`~emgscope.acquisition.sim_profiles.MuscleProfile`: the motor units of the neighbourhood
(:mod:`sim_muscle`) with the effort-driven firing of :class:`FiringSpec`, and the spontaneous activity of the
profile's grades with the patterns of :mod:`sim_discharges`. Every generator comes with a :class:`UnitInfo`, the
ground truth a test, a benchmark or a trainee's answer is compared with.

A site draws everything from its own random generators, keyed by the patient's seed, the channel and the site's
number, so a site is the same whatever other channels exist, and moving the needle back and forth is repeatable.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

from emgscope.acquisition import sim_discharges as patterns
from emgscope.acquisition import sim_fibre as fibre
from emgscope.acquisition import sim_muscle as muscle
from emgscope.acquisition import sim_profiles as p
from emgscope.acquisition import sim_shapes as shapes
from emgscope.core import discharges as d

MUAP = "muap"
"""A motor unit whose potential meets the near-field criterion (rise time ≤ 0.5 ms and ≥ 50 µV, SIMULATION_PARAMETERS
§1): the MUAPs a clinician measures."""
FAR = "far"
"""A motor unit seen from outside its territory: small, slow-rising."""
INSERTION = "insertion"
"""A waveform of the insertional burst; fires only when the needle moves, at a gain set per discharge."""
VOLUNTARY = (MUAP, FAR)

NEAR_FIELD_RISE_MS = 0.5
NEAR_FIELD_MIN_UV = 50.0
"""SIMULATION_PARAMETERS §1: a MUAP recorded from outside the unit's territory has a long rise time and < 50 µV."""
VISIBLE_UV = 100.0
"""A fasciculating, myokymic or neuromyotonic unit is chosen among the near-field units at least this large at the
site, so the discharge can be seen and heard (the largest is taken when none is)."""
ALWAYS = -1.0
"""Threshold of a spontaneous generator: it fires at any effort, rest included."""
NEVER = math.inf
"""Threshold of an insertional waveform: the firing schedule never fires it."""


@dataclass(frozen=True)
class UnitInfo:
    """Ground truth for one generator. ``template`` is in µV and starts at the potential's first sample."""

    id: int
    channel: int
    kind: str
    template: np.ndarray
    peak_offset: int
    """Samples from the template's start to its largest deflection: firing times are reported at this peak."""
    amplitude_uv: float
    """Peak to peak (1 for insertional waveforms, which are scaled per discharge)."""
    duration_ms: float
    """From the first to the last departure beyond 2.5 % of its peak to peak (the template's whole extent)."""
    phases: int
    """Baseline crossings beyond 2.5 % of its peak to peak, plus one."""
    rise_time_ms: float
    threshold_percent: float
    """Drive at which it is recruited; :data:`ALWAYS` for spontaneous, :data:`NEVER` for insertional."""
    rate_hz: float
    """Mean rate of a spontaneous generator; for a voluntary unit, its rate at maximal effort."""
    distance_mm: float = math.nan
    """From the tip to the unit's nearest fibre (motor units); NaN for generators without a geometry."""
    motor_unit: int = -1
    """The motor unit of the site's neighbourhood it belongs to (voluntary units and the discharges of a whole
    unit: fasciculation, myokymia, neuromyotonia); -1 otherwise."""
    site: int = 0
    """Which needle site of its channel (0 the first; a new site is a new neighbourhood)."""
    clinical_duration_ms: float = 0.0
    """Duration by the clinical rule (QEMG §3: ±40 µV, 3 ms); 0 for potentials too small for it."""
    clinical_phases: int = 0
    """Phases by the clinical rule (QEMG §3: crossings beyond 25 µV, plus one)."""


@dataclass(frozen=True)
class FiringSpec:
    """Rate as a function of effort E ≥ threshold: ``onset + (peak - onset) * (1 - exp(-(E - threshold) / tau))``."""

    threshold: float
    onset_hz: float
    peak_hz: float
    tau_percent: float
    cv: float
    """Coefficient of variation of the inter-discharge interval."""

    def rate_at(self, effort: float) -> float:
        if effort < self.threshold:
            return 0.0
        rise = 1.0 - math.exp(-max(effort - self.threshold, 0.0) / self.tau_percent)
        return self.onset_hz + (self.peak_hz - self.onset_hz) * rise


def describe(
    uid: int,
    channel: int,
    kind: str,
    template: np.ndarray,
    fs: float,
    threshold: float,
    rate: float,
    distance: float = math.nan,
    motor_unit: int = -1,
    site: int = 0,
) -> UnitInfo:
    """The :class:`UnitInfo` of a template, with its clinical measurements."""
    return UnitInfo(
        id=uid,
        channel=channel,
        kind=kind,
        template=template,
        peak_offset=int(np.argmax(np.abs(template))),
        amplitude_uv=shapes.peak_to_peak(template),
        duration_ms=shapes.duration_ms(template, fs),
        phases=shapes.phase_count(template),
        rise_time_ms=shapes.rise_time_ms(template, fs),
        threshold_percent=threshold,
        rate_hz=rate,
        distance_mm=distance,
        motor_unit=motor_unit,
        site=site,
        clinical_duration_ms=shapes.clinical_duration_ms(template, fs),
        clinical_phases=shapes.clinical_phases(template),
    )


def near_field(template: np.ndarray, fs: float) -> bool:
    return (
        shapes.rise_time_ms(template, fs) <= NEAR_FIELD_RISE_MS and shapes.peak_to_peak(template) >= NEAR_FIELD_MIN_UV
    )


@dataclass
class Discharge:
    """A spontaneous generator: its pattern and the generator id it paints (a whole unit's discharge follows the
    unit's template when the needle moves)."""

    pattern: patterns.Pattern
    unit: int
    motor_unit: int = -1
    kind: str = ""


class Site:
    """One channel's needle site: where the tip is, the motor units around it, and what its generators fire.

    :meth:`Site.rng` keys the random generators by purpose, so that the anatomy, the firing, the spontaneous activity
    and each movement draw from streams of their own; ``number`` counts the channel's sites (a new site is a new
    neighbourhood), ``moves`` the small movements within this one. ``endplate``: the tip in the endplate zone (True),
    away from it (False), or by chance for a later site (None).
    """

    def __init__(
        self,
        profile: p.MuscleProfile,
        seed: int,
        channel: int,
        rate: float,
        number: int = 0,
        endplate: bool | None = None,
    ) -> None:
        self.profile = profile
        self.key = zlib.crc32(profile.name.encode("utf-8"))
        """Each muscle draws its own units, so two muscles of a patient differ even where their physiology agrees."""
        self.seed = seed
        self.channel = channel
        self.rate = rate
        self.number = number
        place = self.rng(0)
        if endplate is None:
            endplate = bool(place.random() < p.ENDPLATE_SITE_CHANCE) and number > 0
        self.geometry = muscle.place_site(place, endplate)
        self.anatomy = muscle.neighbourhood(self.rng(1), profile.state, (seed, self.key, channel, number))
        self.moves = 0

    def rng(self, purpose: int, *more: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.key, self.channel, self.number, purpose, *more])

    def move(self) -> None:
        """A small needle movement within the neighbourhood."""
        self.moves += 1
        self.geometry = muscle.moved(self.geometry, self.rng(2, self.moves))

    def potentials(self) -> list[muscle.Potential]:
        """Every unit's potential at the current tip position."""
        state = self.profile.state
        return [
            muscle.potential(muscle.fibres_of(unit, state, self.geometry), self.geometry, self.rate)
            for unit in self.anatomy
        ]

    def firing_specs(self) -> list[FiringSpec]:
        """How each unit's rate follows the drive (fixed for the site: the needle does not change the unit)."""
        rng = self.rng(3)
        state = self.profile.state
        return [
            FiringSpec(
                unit.threshold_percent,
                p.ONSET_RATE_HZ,
                rng.uniform(*state.peak_rate_hz),
                p.RATE_TAU_PERCENT,
                rng.uniform(*p.ISI_CV),
            )
            for unit in self.anatomy
        ]

    def fibre_templates(self) -> list[tuple[str, np.ndarray, float]]:
        """Templates of the single-fibre generators of this site: fibrillations, PSWs, CRD complexes, myotonic
        fibres, endplate noise and spikes, with their nominal rates (Hz, 0 where the pattern sets it)."""
        rng = self.rng(4, self.moves)
        spont = self.profile.spontaneous
        fs = self.rate
        out: list[tuple[str, np.ndarray, float]] = []
        for kind, grade in ((d.FIBRILLATION, spont.fibrillations), (d.PSW, spont.positive_sharp_waves)):
            low, high = p.TRAINS_PER_GRADE[grade]
            for _ in range(int(rng.integers(low, high + 1))):
                amplitude = rng.uniform(*p.FIBRILLATION_AMPLITUDE_UV)
                if kind == d.FIBRILLATION:
                    template = shapes.fibrillation(rng, fs, rng.uniform(*p.FIBRILLATION_DURATION_MS), amplitude)
                else:
                    template = shapes.positive_sharp_wave(rng, fs, rng.uniform(*p.PSW_DURATION_MS), amplitude)
                out.append((kind, template, 0.0))
        if "crd" in spont.others:
            out.append((d.CRD, crd_complex(rng, fs), 0.0))
        if "myotonic" in spont.others:
            amplitude = rng.uniform(*p.MYOTONIC_AMPLITUDE_UV)
            if rng.random() < 0.5:
                template = shapes.fibrillation(rng, fs, rng.uniform(*p.FIBRILLATION_DURATION_MS), amplitude)
            else:
                template = shapes.positive_sharp_wave(rng, fs, rng.uniform(5.0, 20.0), amplitude)
            out.append((d.MYOTONIC, template, 0.0))
        if self.geometry.at_endplate:
            for _ in range(int(rng.integers(p.ENDPLATE_NOISE_SOURCES[0], p.ENDPLATE_NOISE_SOURCES[1] + 1))):
                template = shapes.endplate_noise(
                    rng, fs, rng.uniform(*p.ENDPLATE_NOISE_DURATION_MS), rng.uniform(*p.ENDPLATE_NOISE_AMPLITUDE_UV)
                )
                out.append((d.ENDPLATE_NOISE, template, rng.uniform(*p.ENDPLATE_NOISE_RATE_HZ)))
            for _ in range(int(rng.integers(p.ENDPLATE_SPIKE_FIBRES[0], p.ENDPLATE_SPIKE_FIBRES[1] + 1))):
                template = shapes.endplate_spike(
                    rng, fs, rng.uniform(*p.ENDPLATE_SPIKE_DURATION_MS), rng.uniform(*p.ENDPLATE_SPIKE_AMPLITUDE_UV)
                )
                out.append((d.ENDPLATE_SPIKE, template, rng.uniform(*p.ENDPLATE_SPIKE_RATE_HZ)))
        return out

    def unit_discharges(self, templates: list[np.ndarray]) -> list[tuple[str, int, float]]:
        """Whole-unit spontaneous discharges: ``(kind, motor unit index, rate Hz)`` for fasciculations, myokymia and
        neuromyotonia, each on a unit the needle sees sharply (``templates``: each unit's potential here)."""
        rng = self.rng(5)
        spont = self.profile.spontaneous
        if not templates:
            return []
        amplitudes = [shapes.peak_to_peak(t) for t in templates]
        visible = [k for k, t in enumerate(templates) if amplitudes[k] >= VISIBLE_UV and near_field(t, self.rate)] or [
            int(np.argmax(amplitudes))
        ]
        out: list[tuple[str, int, float]] = []
        if spont.fasciculations:
            count = int(rng.integers(p.FASCICULATING_UNITS[0], p.FASCICULATING_UNITS[1] + 1))
            total = rng.uniform(*p.FASCICULATION_RATE_PER_GRADE[spont.fasciculations])
            for k in rng.choice(visible, min(count, len(visible)), replace=False):
                out.append((d.FASCICULATION, int(k), total / min(count, len(visible))))
        for kind, name in ((d.MYOKYMIC, "myokymic"), (d.NEUROMYOTONIC, "neuromyotonic")):
            if name in spont.others:
                out.append((kind, int(rng.choice(visible)), 0.0))
        return out

    def insertional_templates(self) -> list[np.ndarray]:
        """Unit-amplitude spikes and positive waves that an insertional burst scales and scatters."""
        rng = self.rng(6)
        out = []
        for i in range(p.INSERTION_TEMPLATES):
            if i % 3 == 2:
                out.append(shapes.positive_sharp_wave(rng, self.rate, rng.uniform(4.0, 10.0), 1.0))
            else:
                out.append(shapes.fibrillation(rng, self.rate, rng.uniform(1.0, 3.0), 1.0))
        return out


def crd_complex(rng: np.random.Generator, fs: float) -> np.ndarray:
    """The fixed complex of a complex repetitive discharge: 3-10 fibres near the tip, driven one by the next
    (ephaptically) at fixed delays across the complex (SIMULATION_PARAMETERS §2, §4)."""
    count = int(rng.integers(p.CRD_SPIKES[0], p.CRD_SPIKES[1] + 1))
    span = rng.uniform(*p.CRD_COMPLEX_MS)
    build = fibre.build_rate(fs)
    fibre_ms = np.sort(rng.uniform(0.0, span, count))
    distance = rng.uniform(0.05, 0.35, count)
    wave, _ = fibre.sum_fibres(build, distance, fibre_ms, rng.uniform(0.7, 1.3, count))
    wave = muscle.cut(fibre.to_stream(wave, build, fs))
    return wave * (rng.uniform(*p.CRD_AMPLITUDE_UV) / shapes.peak_to_peak(wave))


def make_pattern(kind: str, rng: np.random.Generator, fs: float, start: float, rate_hz: float) -> patterns.Pattern:
    """The firing pattern of a spontaneous generator of ``kind``."""
    if kind in (d.FIBRILLATION, d.PSW):
        return patterns.Train(rng, fs, start)
    if kind in (d.FASCICULATION, d.ENDPLATE_NOISE):
        return patterns.Poisson(rng, fs, start, rate_hz)
    if kind == d.ENDPLATE_SPIKE:
        return patterns.Irregular(rng, fs, start, rate_hz, p.ENDPLATE_SPIKE_CV)
    if kind == d.CRD:
        return patterns.Repetitive(rng, fs, start)
    if kind == d.MYOTONIC:
        return patterns.Myotonic(rng, fs, start)
    if kind == d.MYOKYMIC:
        return patterns.Bursts(rng, fs, start)
    if kind == d.NEUROMYOTONIC:
        return patterns.Neuromyotonic(rng, fs, start)
    raise ValueError(f"no pattern for {kind!r}")
