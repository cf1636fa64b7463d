"""Figures for ``emgscope bench``: how close and how fast the activity detector is on the simulated patient.

:func:`run_simulated_exam` is the whole guided exam without a screen, through the very loop the window and
``emgscope record --protocol`` run (:class:`~emgscope.session.exam.ExamSession` stepped by
:class:`~emgscope.session.headless.HeadlessLoop`): the simulated patient (a real
:class:`~emgscope.acquisition.simulator.SimulatedPatient`) follows the runner's prompts through
:class:`~emgscope.protocol.sim_patient_driver.SimPatientDriver`, its samples go through the acquisition pump's
own per-chunk path into the rings, and the monitor reads the filtered ring through a reader named ``detect``.
The patient renders in fixed blocks and reads its effort once per block, so the loop generates whole blocks and
lets the driver change effort only on block boundaries: the recorded change is then exactly when it took effect.

The true onset of a contraction is the first departure from baseline of the first voluntary motor-unit
potential the patient fires between the effort rising from rest and the next change of effort (the firing log
is the ground truth; a contraction too weak to recruit a unit has none). The detected onset is the first onset
the detector confirmed from the prompt to the end of that effort, as the exam's reaction-time check takes it:
no nearest-match search, and a miss counts as an infinite error rather than being left out.

The bench's patient is deliberately not the easy case: mixed pathologies (normal, myopathic), mixed strengths
from barely recruited to maximal, a patient who is sometimes weak or late, and the background at the worst end
of DESIGN's noise floor (SIMULATION_PARAMETERS §4: white noise up to 5 µV RMS, 1.667 µV quantisation as in the
emgdb recordings, 50 Hz mains hum).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from emgscope.acquisition.sim_shapes import DURATION_LEVEL
from emgscope.acquisition.simulator import BLOCK_S, SimulatedPatient
from emgscope.analysis.detector import ActivityDetector
from emgscope.analysis.monitor import READ_INTERVAL_MS, ExamMonitor
from emgscope.core.events import Event
from emgscope.core.settings import FILTER_PRESETS, SimulatorSettings
from emgscope.core.source import StreamInfo
from emgscope.dsp.filters import FilterBank
from emgscope.protocol.model import PlannedStep, Step
from emgscope.protocol.runner import ExamRunner
from emgscope.protocol.sim_patient_driver import Compliance, SimPatientDriver
from emgscope.session.exam import ExamSession
from emgscope.session.headless import HeadlessLoop, simulated_pipeline

RATE = 20_000.0
CONTRACTION_EFFORTS = (5.0, 10.0, 20.0, 40.0, 70.0, 100.0)
"""Mixed strengths, from a barely recruited first unit to maximal."""
VOLUNTARY_KINDS = ("muap", "far")
NOISE_FLOOR_UV = 5.0
"""Background white noise the bench tops the simulator's (2.5-4 µV) up to: the upper end of the 2-5 µV range."""
QUANTUM_UV = 1.667
"""ADC step of the emgdb recordings (SIMULATION_PARAMETERS §3): the bench quantises the raw signal to it."""
MAINS_HZ = 50.0
BENCH_COMPLIANCE = Compliance(late_probability=0.15, weak_probability=0.25)
"""Sometimes late, sometimes weak (a weak MIN may recruit no unit at all): contractions of really mixed strength."""
BENCH_PATHOLOGIES = ("normal", "myopathic")
"""Patients whose rest is quiet: in a neurogenic muscle fibrillations fill the rest and no onset is defined."""


@dataclass
class ExamRun:
    """What a headless simulated exam produced."""

    exam: ExamSession
    driver: SimPatientDriver
    true_onsets: list[int]
    """Per contraction from rest: the first sample of its first voluntary potential (-1 if none fired)."""
    events: list[Event]
    """Everything posted on the exam's bus, in order."""

    @property
    def runner(self) -> ExamRunner:
        return self.exam.runner

    @property
    def monitor(self) -> ExamMonitor:
        return self.exam.monitor


def contraction_plan(contractions: int, seed: int = 0, rest_s: float = 2.5, hold_s: float = 2.0) -> list[PlannedStep]:
    """A first rest, then ``contractions`` × [contraction of a random strength, rest]."""
    rng = np.random.default_rng(seed)
    rest = Step("REST", "Relax completely.", "", rest_s, 0.0)
    plan = [PlannedStep(Step("REST", "Relax completely.", "", 4.0, 0.0), "Bench", "L", 1, 1, 0)]
    for k in range(contractions):
        effort = float(rng.choice(CONTRACTION_EFFORTS))
        label = "MIN" if effort <= 10 else "MOD" if effort < 70 else "MAX"
        plan.append(PlannedStep(Step(label, "Tighten.", "", hold_s, effort), "Bench", "L", k + 1, contractions, 0))
        plan.append(PlannedStep(rest, "Bench", "L", k + 1, contractions, 0))
    return plan


def run_simulated_exam(
    plan: list[PlannedStep],
    compliance: Compliance | None = None,
    seed: int = 1,
    pathology: str = "normal",
    read_ms: float = READ_INTERVAL_MS,
    operator_s: float = 6.0,
    noisy: bool = False,
) -> ExamRun:
    """Run ``plan`` to its end on the simulated patient; the detect reader is read every ``read_ms``.

    A step that waits for the operator is advanced after ``operator_s``, as an operator would once satisfied.
    ``noisy``: the background at the worst end of DESIGN's noise floor (see the module's docstring).
    """
    mains = MAINS_HZ if noisy else 0.0
    patient = SimulatedPatient(SimulatorSettings(pathology, 0.0, RATE, 1, seed, mains_hz=mains), log_firings=True)
    info = StreamInfo(RATE, ("Needle 1",), "bench")
    pipeline = simulated_pipeline(info, FILTER_PRESETS["needle"])
    driver = SimPatientDriver(RATE, lambda effort: setattr(patient, "effort_percent", effort), compliance, seed)
    exam = ExamSession(plan, pipeline, driver=driver, operator_s=operator_s)
    events: list[Event] = []
    exam.bus.subscribe(events.append)
    exam.start(0)
    per_read = max(1, round(read_ms / 1000 / BLOCK_S))
    HeadlessLoop(patient, pipeline, exam, _noise_floor(patient, seed) if noisy else None, per_read).run()
    return ExamRun(exam, driver, _true_onsets(patient, driver), events)


def _noise_floor(patient: SimulatedPatient, seed: int):
    """A function that adds white noise up to :data:`NOISE_FLOOR_UV` RMS and quantises to :data:`QUANTUM_UV`."""
    rng = np.random.default_rng([seed, 77])
    extra = np.sqrt(np.maximum(0.0, NOISE_FLOOR_UV**2 - patient.noise_rms_uv**2))[:, np.newaxis]

    def degrade(block: np.ndarray) -> np.ndarray:
        noisy = block + extra * rng.standard_normal(block.shape)
        return np.round(noisy / QUANTUM_UV) * QUANTUM_UV

    return degrade


def _true_onsets(patient: SimulatedPatient, driver: SimPatientDriver) -> list[int]:
    """Per contraction from rest (in ``driver.truth`` order): its first voluntary potential, -1 if it fired none."""
    firings = patient.firing_log()
    kinds = np.array([unit.kind for unit in patient.units])
    voluntary = np.isin(kinds[firings.units], VOLUNTARY_KINDS)
    starts = firings.samples[voluntary] - np.array([u.peak_offset for u in patient.units])[firings.units[voluntary]]
    departure = np.array([_departure(u.template) for u in patient.units])[firings.units[voluntary]]
    starts = np.sort(starts + departure)
    onsets = []
    truth = driver.truth
    for k, change in enumerate(truth):
        if change.previous_percent == 0 and change.effort_percent > 0:
            until = truth[k + 1].sample if k + 1 < len(truth) else np.iinfo(np.int64).max
            within = starts[(starts >= change.sample) & (starts < until)]
            onsets.append(int(within[0]) if within.size else -1)
    return onsets


def _departure(template: np.ndarray) -> int:
    """Where a potential first leaves the baseline (the simulator's duration criterion: 2.5 % of peak to peak)."""
    level = DURATION_LEVEL * float(np.ptp(template))
    return int(np.flatnonzero(np.abs(template) > level)[0]) if template.size else 0


def _contractions(run: ExamRun) -> list[tuple[int, int, int]]:
    """``(true onset, prompt sample, end of the effort)`` per contraction from rest that fired a potential."""
    truth = run.driver.truth
    rises = [k for k, c in enumerate(truth) if c.previous_percent == 0 and c.effort_percent > 0]
    found = []
    for k, true_onset in zip(rises, run.true_onsets, strict=True):
        if true_onset >= 0:
            end = truth[k + 1].sample if k + 1 < len(truth) else run.runner.status.sample_index
            found.append((true_onset, truth[k].prompt_sample, end))
    return found


def onset_errors_ms(run: ExamRun) -> np.ndarray:
    """Detected minus true onset (ms) per contraction from rest that fired a potential; NaN where none was found.

    The detected onset is the first one confirmed from the prompt to the end of the effort, so an onset found
    early (noise before the patient moved) counts against the detector instead of being passed over.
    """
    detected = np.array([onset for onset, _ in run.monitor.activity], dtype=np.int64)
    errors = []
    for true_onset, prompt, end in _contractions(run):
        inside = detected[(detected >= prompt) & (detected < end)]
        errors.append((inside[0] - true_onset) * 1000 / RATE if inside.size else np.nan)
    return np.array(errors)


def false_onsets(run: ExamRun) -> int:
    """Detected onsets that belong to no contraction from rest (noise or a stray potential at rest)."""
    detected = np.array([onset for onset, _ in run.monitor.activity], dtype=np.int64)
    answered = sum(bool(np.any((detected >= prompt) & (detected < end))) for _, prompt, end in _contractions(run))
    return int(detected.size) - answered


def measure_detector(contractions: int = 60, seconds: float = 20.0) -> dict[str, float]:
    """Onset error over at least ``contractions`` of mixed strength, and the detector's speed on ``seconds``.

    Half the contractions on each of :data:`BENCH_PATHOLOGIES`; a few more are asked for than counted, since a
    weak one may recruit no unit. Misses count as infinite errors in the median and 90th percentile.
    """
    per_run = -(-round(contractions * 1.2) // len(BENCH_PATHOLOGIES))
    errors, false = [], 0
    for k, pathology in enumerate(BENCH_PATHOLOGIES):
        plan = contraction_plan(per_run, seed=k)
        run = run_simulated_exam(plan, BENCH_COMPLIANCE, seed=7 + k, pathology=pathology, noisy=True)
        errors.append(np.abs(onset_errors_ms(run)))
        false += false_onsets(run)
    found = np.concatenate(errors)
    counted = np.where(np.isfinite(found), found, np.inf)
    return {
        "onset_error_ms_median": round(float(np.median(counted)), 1),
        "onset_error_ms_p90": round(float(np.percentile(counted, 90, method="higher")), 1),
        "onsets_true": int(found.size),
        "onsets_missed": int(np.isnan(found).sum()),
        "onsets_false": false,
        "detector_x_realtime": round(detector_speed(seconds), 1),
    }


def detector_speed(seconds: float, chunk_ms: float = READ_INTERVAL_MS, repeats: int = 3) -> float:
    """Real time over processing time for the detector alone, on the simulated patient at mixed effort.

    Chunks are what an exam reads at a time (:data:`READ_INTERVAL_MS`). The fastest of ``repeats`` passes is
    kept (as ``timeit`` does): the others measure the other processes sharing the machine.
    """
    patient = SimulatedPatient(SimulatorSettings("normal", 0.0, RATE, 1, 3))
    pieces = []
    for k in range(int(seconds)):
        patient.effort_percent = (0.0, 20.0, 0.0, 60.0, 0.0, 100.0)[k % 6]
        pieces.append(patient.generate(int(RATE))[0])
    signal = FilterBank(FILTER_PRESETS["needle"], RATE, 1).process(np.concatenate(pieces)[np.newaxis])[0]
    chunk = round(chunk_ms * RATE / 1000)
    best = np.inf
    for _ in range(repeats):
        detector = ActivityDetector(RATE)
        detector.process(0, signal[: int(RATE)])
        detector.set_baseline(0, int(RATE))
        began = time.perf_counter()
        for start in range(int(RATE), signal.size, chunk):
            detector.process(start, signal[start : start + chunk])
        best = min(best, time.perf_counter() - began)
    return (signal.size - RATE) / RATE / best
