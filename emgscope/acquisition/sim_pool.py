"""One needle site's generators: its motor units, its spontaneous discharges and its insertional waveforms.

A *generator* is anything that places one fixed template in the signal each time it fires: a motor unit near
the needle, a distant one, a fibrillating fibre, a fasciculating unit. :func:`build_site` draws them from a
:class:`~emgscope.acquisition.sim_profiles.PathologyProfile` with the site's own random generator, so a site is
the same whatever other sites exist. Each comes as a :class:`UnitInfo` (the ground truth a test or a detector
benchmark compares against) and a :class:`FiringSpec` (how its rate follows effort).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from emgscope.acquisition import sim_profiles as p
from emgscope.acquisition import sim_shapes as shapes

MUAP = "muap"
"""A motor unit in the needle's territory (the MUAPs a clinician measures)."""
FAR = "far"
"""A motor unit outside the territory: small, slow-rising."""
FIBRILLATION = "fibrillation"
PSW = "psw"
FASCICULATION = "fasciculation"
INSERTION = "insertion"
"""A waveform of the insertional burst; fires only when the needle moves, at a gain set per discharge."""

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
    phases: int
    rise_time_ms: float
    threshold_percent: float
    """Effort at which it is recruited; :data:`ALWAYS` for spontaneous, :data:`NEVER` for insertional."""
    rate_hz: float
    """Mean rate of a spontaneous generator; for a voluntary unit, its rate at maximal effort."""


@dataclass(frozen=True)
class FiringSpec:
    """Rate as a function of effort E ≥ threshold: ``onset + (peak - onset) * (1 - exp(-(E - threshold) / tau))``."""

    threshold: float
    onset_hz: float
    peak_hz: float
    tau_percent: float
    cv: float
    """Coefficient of variation of the inter-discharge interval (ignored when ``poisson``)."""
    poisson: bool = False

    def rate_at(self, effort: float) -> float:
        if effort < self.threshold:
            return 0.0
        rise = 1.0 - math.exp(-max(effort - self.threshold, 0.0) / self.tau_percent)
        return self.onset_hz + (self.peak_hz - self.onset_hz) * rise


def _info(
    uid: int, channel: int, kind: str, template: np.ndarray, fs: float, threshold: float, rate: float
) -> UnitInfo:
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
    )


def _voluntary(
    profile: p.PathologyProfile, channel: int, fs: float, rng: np.random.Generator, first_id: int
) -> list[tuple[UnitInfo, FiringSpec]]:
    """Near units recruited in order of size (smallest first), then the distant units."""
    out: list[tuple[UnitInfo, FiringSpec]] = []
    amplitudes = np.sort(rng.uniform(*profile.muap_amplitude_uv, profile.near_units))
    threshold = profile.first_threshold_percent
    for amplitude in amplitudes:
        peak = rng.uniform(*profile.peak_rate_hz)
        spec = FiringSpec(
            threshold, profile.onset_rate_hz, peak, profile.rate_tau_percent, rng.uniform(*profile.isi_cv)
        )
        template = shapes.muap(
            rng,
            fs,
            rng.uniform(*profile.muap_duration_ms),
            amplitude,
            bool(rng.random() < profile.polyphasic_fraction),
            profile.fibre_width_ms,
            profile.component_gap_ms,
            profile.components,
        )
        out.append((_info(first_id + len(out), channel, MUAP, template, fs, threshold, spec.rate_at(100.0)), spec))
        # The next unit joins when this one reaches the recruitment rate.
        share = (profile.recruit_rate_hz - profile.onset_rate_hz) / (peak - profile.onset_rate_hz)
        threshold += -profile.rate_tau_percent * math.log(1.0 - share) * rng.uniform(0.85, 1.15)
    for threshold in np.sort(rng.uniform(profile.first_threshold_percent, 90.0, profile.far_units)):
        spec = FiringSpec(
            float(threshold),
            profile.onset_rate_hz,
            rng.uniform(*profile.peak_rate_hz),
            profile.rate_tau_percent,
            rng.uniform(*profile.isi_cv),
        )
        template = shapes.muap(
            rng,
            fs,
            rng.uniform(*profile.far_duration_ms),
            rng.uniform(*profile.far_amplitude_uv),
            False,
            p.FAR_FIBRE_WIDTH_MS,
        )
        out.append((_info(first_id + len(out), channel, FAR, template, fs, spec.threshold, spec.rate_at(100.0)), spec))
    return out


def _spontaneous(
    profile: p.PathologyProfile, channel: int, fs: float, rng: np.random.Generator, first_id: int
) -> list[tuple[UnitInfo, FiringSpec]]:
    """Fibrillation and PSW trains (regular, some irregular) and a fasciculating unit (Poisson)."""
    out: list[tuple[UnitInfo, FiringSpec]] = []
    for kind, trains, durations in (
        (FIBRILLATION, profile.fibrillation_trains, p.FIBRILLATION_DURATION_MS),
        (PSW, profile.psw_trains, p.PSW_DURATION_MS),
    ):
        for _ in range(int(rng.integers(trains[0], trains[1] + 1))):
            build = shapes.fibrillation if kind == FIBRILLATION else shapes.positive_sharp_wave
            template = build(rng, fs, rng.uniform(*durations), rng.uniform(*p.FIBRILLATION_AMPLITUDE_UV))
            rate = rng.uniform(*p.SPONTANEOUS_RATE_HZ)
            cv = rng.uniform(*(p.IRREGULAR_CV if rng.random() < p.IRREGULAR_FRACTION else p.REGULAR_CV))
            spec = FiringSpec(ALWAYS, rate, rate, 1.0, cv)
            out.append((_info(first_id + len(out), channel, kind, template, fs, ALWAYS, rate), spec))
    if profile.fasciculation_rate_hz[1] > 0:
        template = shapes.muap(
            rng,
            fs,
            rng.uniform(*p.FASCICULATION_DURATION_MS),
            rng.uniform(*p.FASCICULATION_AMPLITUDE_UV),
            bool(rng.random() < 0.3),
        )
        rate = rng.uniform(*profile.fasciculation_rate_hz)
        spec = FiringSpec(ALWAYS, rate, rate, 1.0, 1.0, poisson=True)
        out.append((_info(first_id + len(out), channel, FASCICULATION, template, fs, ALWAYS, rate), spec))
    return out


def _insertional(channel: int, fs: float, rng: np.random.Generator, first_id: int) -> list[tuple[UnitInfo, FiringSpec]]:
    """Unit-amplitude spikes and positive waves that an insertional burst scales and scatters."""
    out: list[tuple[UnitInfo, FiringSpec]] = []
    for i in range(p.INSERTION_TEMPLATES):
        if i % 3 == 2:
            template = shapes.positive_sharp_wave(rng, fs, rng.uniform(4.0, 10.0), 1.0)
        else:
            template = shapes.fibrillation(rng, fs, rng.uniform(1.0, 3.0), 1.0)
        out.append((_info(first_id + i, channel, INSERTION, template, fs, NEVER, 0.0), FiringSpec(NEVER, 0, 0, 1, 0)))
    return out


def build_site(
    profile: p.PathologyProfile, channel: int, sample_rate: float, rng: np.random.Generator, first_id: int
) -> list[tuple[UnitInfo, FiringSpec]]:
    """All generators of one site, numbered from ``first_id``: voluntary, spontaneous, then insertional."""
    generators = _voluntary(profile, channel, sample_rate, rng, first_id)
    generators += _spontaneous(profile, channel, sample_rate, rng, first_id + len(generators))
    generators += _insertional(channel, sample_rate, rng, first_id + len(generators))
    return generators
