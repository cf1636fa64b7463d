"""What a muscle is like: the physiology the simulated patient is built from, and the figures of every discharge.

A :class:`MuscleProfile` is one muscle of one patient: its motor units (:class:`~emgscope.acquisition.sim_muscle.
MuscleState`: what a disease did to them) and its spontaneous activity (:class:`Spontaneous`: the grades and the
discharges a report lists). :data:`PROFILES` holds the generic presets ``--pathology`` offers; the teaching
patients (:mod:`emgscope.acquisition.sim_patients`) start from the bases of :data:`BASES` and change what their
case needs.

Numbers come from /work/shared/data/SIMULATION_PARAMETERS.md (§1 MUAPs and recruitment, §2 spontaneous activity,
§4 generator defaults) and QEMG.md §6 (grades); each constant says which. Where the sources give a range and a
generator needs a rule (how many fibrillation trains a site of grade 2+ has), the rule is ours and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from emgscope.acquisition.sim_muscle import MuscleState

Range = tuple[float, float]

# --- recruitment (§1: onset near 5 Hz, the next unit at about 10 Hz; all units recruited before maximal effort)

ONSET_RATE_HZ = 5.0
"""A unit starts firing at about 5 Hz when recruited (§1, [T] Preston & Shapiro)."""
RATE_TAU_PERCENT = 35.0
"""Effort over which a unit's rate covers two thirds of its way from onset to its peak rate."""
ISI_CV: Range = (0.1, 0.2)
"""Voluntary inter-discharge interval variability, 10-20 % (§4)."""

# --- background (§3, §4)

NOISE_RMS_UV: Range = (2.5, 4.0)
"""Background per site: needle thermal noise for 30-100 kΩ over 10 kHz (§3), inside the 2-5 µV of §4."""
MAINS_AMPLITUDE_UV = 8.0
"""Peak of the mains fundamental when hum is on; the third harmonic is a quarter of it."""

# --- fibrillations and positive sharp waves (§2, §4; grades QEMG §6)

FIBRILLATION_DURATION_MS: Range = (1.2, 5.2)
"""1-5 ms (§2); drawn a little beyond so that the measured duration (inside the taper) spans the range."""
FIBRILLATION_AMPLITUDE_UV: Range = (20.0, 200.0)
PSW_DURATION_MS: Range = (10.0, 30.0)
SPONTANEOUS_RATE_HZ: Range = (0.5, 15.0)
REGULAR_CV: Range = (0.01, 0.04)
"""Fibrillation and PSW trains are regular (jitter < 5 %, §4)."""
IRREGULAR_CV: Range = (0.3, 0.5)
IRREGULAR_FRACTION = 0.4
"""About 43 % of denervation trains fire irregularly (§2); we make 40 % of them so."""
SLOWING_FRACTION = 0.5
"""Share of regular trains that slow down over several seconds before stopping (§2 "may slow")."""
SLOWING_S: Range = (3.0, 10.0)
"""Time over which a slowing train halves its rate; it stops below :data:`SPONTANEOUS_RATE_HZ`'s floor."""
PAUSE_S: Range = (0.5, 3.0)
"""A stopped train is replaced by another fibre after this long."""
TRAINS_PER_GRADE: dict[int, tuple[int, int]] = {0: (0, 0), 1: (0, 1), 2: (2, 3), 3: (4, 9), 4: (10, 18)}
"""Fibrillation (or PSW) trains within reach of one site, by grade. QEMG §6 grades by how widespread and how many
(1+ persistent in at least 2 areas ... 4+ profuse, filling the baseline); counting trains per site is our rule, the
one the analysis reads them by (``SITE_GRADE_TRAINS`` in ``emgscope/analysis/spontaneous/grade.py``: 1 train 1+,
2-3 2+, 4-9 3+, 10 or more 4+; a 1+ muscle has sites with none)."""

# --- fasciculations (§2, §4)

FASCICULATION_RATE_PER_GRADE: dict[int, Range] = {
    0: (0.0, 0.0),
    1: (0.02, 0.06),
    2: (0.08, 0.2),
    3: (0.25, 0.5),
    4: (0.6, 1.2),
}
"""Fasciculations per second at one site, by grade: slow and irregular (Poisson); in ALS one may take up to 90 s to
appear (§2). The 0-4+ scale for fasciculations is the report's (QEMG §8); its rates are our rule."""
FASCICULATING_UNITS: tuple[int, int] = (1, 3)
"""Motor units of a site that fasciculate: a fasciculation is a whole unit's discharge (§2)."""

# --- complex repetitive discharges (§2, §4)

CRD_RATE_HZ: Range = (25.0, 45.0)
"""Most often 30-40 Hz (range 5-150 Hz, §2); the teaching patients keep to the common range."""
CRD_SPIKES: tuple[int, int] = (3, 10)
"""A fixed complex of 3-10 single-fibre spikes (§4), time-locked by ephaptic transmission."""
CRD_COMPLEX_MS: Range = (5.0, 18.0)
"""Span of the complex (5-50+ ms in §2); shorter than the period so complexes do not overlap."""
CRD_AMPLITUDE_UV: Range = (150.0, 800.0)
"""100 µV - 1 mV (§2)."""
CRD_RUN_S: Range = (2.0, 6.0)
CRD_PAUSE_S: Range = (1.0, 3.0)
"""Runs begin and end abruptly (§2); between runs the circuit is silent."""

# --- myotonic discharges (§2, §4)

MYOTONIC_RATE_HZ: Range = (20.0, 80.0)
"""20-80 Hz (AANEM, §2); rate and amplitude wax and wane together (the "dive bomber")."""
MYOTONIC_RUN_S: Range = (0.8, 3.0)
"""Envelope of one run: rising then falling over 0.5-3 s (§4)."""
MYOTONIC_PAUSE_S: Range = (1.0, 4.0)
MYOTONIC_AMPLITUDE_UV: Range = (50.0, 300.0)
MYOTONIC_FLOOR = 0.25
"""Amplitude and rate above the bottom of their range at the ends of a run, as a fraction of the swing."""

# --- myokymic discharges (§2)

MYOKYMIA_BURST_HZ: Range = (0.8, 2.5)
"""Bursts recur semi-rhythmically ("marching soldiers"; 0.1-10 Hz in §2 [T])."""
MYOKYMIA_SPIKES: tuple[int, int] = (3, 8)
"""A few discharges of one unit per burst."""
MYOKYMIA_INTRABURST_HZ: Range = (30.0, 60.0)
"""Intraburst rate, within the 5-60 Hz of §2 [T]."""

# --- neuromyotonic discharges (§2)

NEUROMYOTONIA_RATE_HZ: Range = (150.0, 250.0)
"""One unit firing at 150-250 Hz (textbook [T]; 200-300 Hz in the case of §2)."""
NEUROMYOTONIA_TRAIN_S: Range = (0.15, 0.8)
"""Trains of tens of discharges (about 20 in §2's case)."""
NEUROMYOTONIA_PAUSE_S: Range = (0.8, 3.0)
NEUROMYOTONIA_DECREMENT: Range = (0.3, 0.5)
"""Amplitude at the end of a train relative to its start: decrementing (§2)."""

# --- endplate activity (§2), only where the needle sits at the endplate zone

ENDPLATE_NOISE_SOURCES: tuple[int, int] = (4, 8)
ENDPLATE_NOISE_RATE_HZ: Range = (20.0, 40.0)
"""Miniature endplate potentials fire irregularly at about 20-40 Hz (§2) from each endplate the tip touches."""
ENDPLATE_NOISE_AMPLITUDE_UV: Range = (10.0, 40.0)
ENDPLATE_NOISE_DURATION_MS: Range = (0.5, 3.0)
ENDPLATE_SPIKE_FIBRES: tuple[int, int] = (2, 4)
ENDPLATE_SPIKE_RATE_HZ: Range = (5.0, 50.0)
"""Irregular, up to about 50 Hz (§2)."""
ENDPLATE_SPIKE_AMPLITUDE_UV: Range = (100.0, 200.0)
ENDPLATE_SPIKE_DURATION_MS: Range = (3.0, 5.0)
ENDPLATE_SPIKE_CV = 0.8
"""Irregular firing (CV near 1, like a Poisson process) sets them apart from fibrillations (§2, QEMG §6)."""
ENDPLATE_SITE_CHANCE = 0.1
"""Chance that a new site lands in the endplate zone (the operator then moves on: it is normal activity)."""

# --- insertional activity (§2)

INSERTION_RATE_HZ = 400.0
"""Initial rate of the spikes and positive waves of an insertional burst ("crisp static")."""
INSERTION_AMPLITUDE_UV: Range = (60.0, 400.0)
INSERTION_TEMPLATES = 6
"""Distinct insertional waveforms per site: two thirds spikes, one third positive waves."""
INSERTION_FADE_MS: dict[str, Range] = {"normal": (50.0, 80.0), "increased": (250.0, 450.0), "decreased": (10.0, 20.0)}
"""Time constant of the burst's fading, by grade: a normal burst is over within about 300 ms (< 300 ms [T], §2),
an increased one lasts well beyond (prolonged, in denervated or inflamed muscle), a decreased one is brief."""
INSERTION_SIZE: dict[str, float] = {"normal": 1.0, "increased": 1.0, "decreased": 0.3}
"""Amplitude of the burst's waveforms relative to :data:`INSERTION_AMPLITUDE_UV` (fibrotic muscle gives little)."""
INSERTION_TRAILING_PSW: dict[str, tuple[int, int]] = {"normal": (0, 0), "increased": (1, 3), "decreased": (0, 0)}
"""Increased insertional activity in denervated muscle ends in short trains of positive waves."""
TRAILING_PSW_COUNT: tuple[int, int] = (3, 9)
TRAILING_PSW_RATE_HZ: Range = (8.0, 20.0)
"""Each trailing train: a few positive waves at a fibrillation rate, fading."""
INSERTIONAL_GRADES = ("normal", "increased", "decreased")

OTHER_DISCHARGES = ("crd", "myotonic", "myokymic", "neuromyotonic")
"""The "other discharges" of a report (QEMG §8), as the patient files and the ground truth name them."""


@dataclass(frozen=True)
class Spontaneous:
    """Activity that needs no effort, as a report grades it (QEMG §6, §8)."""

    fibrillations: int = 0
    positive_sharp_waves: int = 0
    fasciculations: int = 0
    others: tuple[str, ...] = ()
    """Any of :data:`OTHER_DISCHARGES`."""
    insertional: str = "normal"


@dataclass(frozen=True)
class MuscleProfile:
    """One muscle as the simulator builds it."""

    name: str
    state: MuscleState = field(default_factory=MuscleState)
    spontaneous: Spontaneous = field(default_factory=Spontaneous)
    needle_at_endplate: bool = False
    """The needle goes in at the endplate zone (endplate noise and spikes); later sites land there by chance."""


BASES: dict[str, MuscleState] = {
    "normal": MuscleState(),
    "myopathic": MuscleState(
        fibre_loss=0.8, fibre_size_spread=35.0, late_fibres=0.08, late_delay_ms=(0.3, 2.5), unit_force=0.5
    ),
    "neurogenic": MuscleState(
        unit_loss=0.85,
        reinnervation=0.5,
        sprout_delay_ms=(0.0, 1.0),
        territory_growth=0.3,
        peak_rate_hz=(40.0, 50.0),
    ),
    "denervated": MuscleState(unit_loss=0.6, peak_rate_hz=(35.0, 45.0)),
}
"""Motor units of a normal muscle; of a myopathy (fibre loss and varied fibre sizes in every unit, each unit weak);
of chronic denervation with reinnervation (few units, each grown); of recent denervation (units lost, the survivors
not grown yet). Fitted against PhysioNet emgdb (README, ``emgscope simcheck``)."""

PROFILES: dict[str, MuscleProfile] = {
    "normal": MuscleProfile("normal", BASES["normal"]),
    "myopathic": MuscleProfile("myopathic", BASES["myopathic"]),
    "neurogenic": MuscleProfile(
        "neurogenic",
        BASES["neurogenic"],
        Spontaneous(fibrillations=2, positive_sharp_waves=2, fasciculations=2, insertional="increased"),
    ),
}
"""The generic patients of ``--pathology``."""
