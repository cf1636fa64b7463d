"""The simulated patient's presets: the physiology of a normal, a myopathic and a neurogenic muscle.

Numbers come from /work/shared/data/SIMULATION_PARAMETERS.md (§1 MUAPs and recruitment, §2 spontaneous
activity, §4 generator defaults). Template durations are drawn about 10 % longer than the clinical range
because the clinical duration (first to last departure from baseline, see ``sim_shapes.duration_ms``) is
measured inside the template's tapered ends.

Recruitment follows the clinical definition: a unit starts firing at ``onset_rate_hz`` when effort reaches its
threshold, its rate then rises towards ``peak_rate_hz`` as effort grows (time constant ``rate_tau_percent`` of
effort), and the next unit of the site is recruited when the previous one reaches ``recruit_rate_hz``. A
normal muscle recruits the next unit at about 10 Hz (recruitment ratio 5); a myopathic one early, at about 7 Hz
(many small units at low force); a neurogenic one late, above 20 Hz (few large units firing fast).
"""

from __future__ import annotations

from dataclasses import dataclass

Range = tuple[float, float]


@dataclass(frozen=True)
class PathologyProfile:
    """Everything that differs between presets, for one needle site."""

    name: str
    near_units: int
    """Motor units whose territory the needle sits in: the MUAPs a clinician measures."""
    muap_duration_ms: Range
    muap_amplitude_uv: Range
    polyphasic_fraction: float
    fibre_width_ms: Range
    component_gap_ms: Range
    components: tuple[int, int]
    first_threshold_percent: float
    onset_rate_hz: float
    recruit_rate_hz: float
    peak_rate_hz: Range
    rate_tau_percent: float
    isi_cv: Range
    far_units: int
    """Units outside the needle's territory: small slow potentials that fill the interference pattern."""
    far_amplitude_uv: Range
    far_duration_ms: Range
    fibrillation_trains: tuple[int, int] = (0, 0)
    psw_trains: tuple[int, int] = (0, 0)
    fasciculation_rate_hz: Range = (0.0, 0.0)
    insertion_s: Range = (0.3, 0.5)
    """Length of the insertional burst (DESIGN §3: normal 300-500 ms)."""


FAR_FIBRE_WIDTH_MS: Range = (0.4, 0.7)
"""SFAPs seen from outside the territory are low-passed by the tissue: rise time > 0.5 ms (§1 near-field)."""
NOISE_RMS_UV: Range = (2.5, 4.0)
"""Background per site: needle thermal noise for 30-100 kΩ over 10 kHz (§3), inside the 2-5 µV of §4."""
MAINS_AMPLITUDE_UV = 8.0
"""Peak of the mains fundamental when hum is on; the third harmonic is a quarter of it."""

FIBRILLATION_DURATION_MS: Range = (1.2, 5.2)
FIBRILLATION_AMPLITUDE_UV: Range = (20.0, 200.0)
PSW_DURATION_MS: Range = (10.0, 30.0)
SPONTANEOUS_RATE_HZ: Range = (0.5, 15.0)
REGULAR_CV: Range = (0.01, 0.04)
"""Fibrillation and PSW trains are regular (jitter < 5 %, §4)."""
IRREGULAR_CV: Range = (0.3, 0.5)
IRREGULAR_FRACTION = 0.4
"""About 43 % of denervation trains fire irregularly (§2); we make 40 % of them so."""
FASCICULATION_DURATION_MS: Range = (6.0, 20.0)
FASCICULATION_AMPLITUDE_UV: Range = (200.0, 1500.0)

INSERTION_RATE_HZ = 250.0
"""Mean rate of the spikes and positive waves of an insertional burst ("crisp static")."""
INSERTION_AMPLITUDE_UV: Range = (60.0, 400.0)
INSERTION_TEMPLATES = 6
"""Distinct insertional waveforms per site: two thirds spikes, one third positive waves."""

PROFILES: dict[str, PathologyProfile] = {
    "normal": PathologyProfile(
        name="normal",
        near_units=12,
        muap_duration_ms=(8.8, 10.8),
        muap_amplitude_uv=(300.0, 1000.0),
        polyphasic_fraction=0.12,
        fibre_width_ms=(0.1, 0.18),
        component_gap_ms=(0.5, 0.9),
        components=(2, 3),
        first_threshold_percent=2.0,
        onset_rate_hz=5.0,
        recruit_rate_hz=10.0,
        peak_rate_hz=(28.0, 35.0),
        rate_tau_percent=35.0,
        isi_cv=(0.1, 0.2),
        far_units=12,
        far_amplitude_uv=(20.0, 80.0),
        far_duration_ms=(9.0, 14.0),
    ),
    "myopathic": PathologyProfile(
        name="myopathic",
        near_units=20,
        muap_duration_ms=(3.4, 5.4),
        muap_amplitude_uv=(100.0, 400.0),
        polyphasic_fraction=0.8,
        fibre_width_ms=(0.08, 0.12),
        component_gap_ms=(0.3, 0.5),
        components=(2, 3),
        first_threshold_percent=1.0,
        onset_rate_hz=5.0,
        recruit_rate_hz=7.0,
        peak_rate_hz=(28.0, 35.0),
        rate_tau_percent=35.0,
        isi_cv=(0.1, 0.2),
        far_units=12,
        far_amplitude_uv=(10.0, 40.0),
        far_duration_ms=(4.0, 7.0),
    ),
    "neurogenic": PathologyProfile(
        name="neurogenic",
        near_units=3,
        muap_duration_ms=(17.0, 27.0),
        muap_amplitude_uv=(2000.0, 6000.0),
        polyphasic_fraction=0.6,
        fibre_width_ms=(0.12, 0.2),
        component_gap_ms=(0.8, 2.0),
        components=(2, 4),
        first_threshold_percent=2.0,
        onset_rate_hz=5.0,
        recruit_rate_hz=25.0,
        peak_rate_hz=(40.0, 50.0),
        rate_tau_percent=30.0,
        isi_cv=(0.1, 0.2),
        far_units=4,
        far_amplitude_uv=(40.0, 150.0),
        far_duration_ms=(12.0, 20.0),
        fibrillation_trains=(2, 4),
        psw_trains=(1, 2),
        fasciculation_rate_hz=(0.1, 0.5),
        insertion_s=(0.5, 1.0),  # denervated muscle: increased, prolonged insertional activity [T]
    ),
}
