"""The simulated patient's ground truth, written beside a recording: every generator and every discharge it made.

A recording of the simulated patient ``exam.bdf`` gets ``exam.truth.npz`` beside it, so MUAP analysis, graded
findings and a trainee's answers can be checked against what was really there. It is a NumPy archive
(``numpy.load``); :func:`read_truth` loads it in one call. Sample indices count from the recording's first sample.

``meta``
    0-d string: JSON with ``format`` ("emgscope ground truth"), ``version`` (1), ``sample_rate``, ``channels``,
    ``samples`` (the recording's length), ``first_sample`` (where the recording began in the patient's own stream),
    ``seed``, ``pathology``, ``patient`` (``NAME[:MUSCLE]`` or empty), ``muscle`` (the muscle at the end),
    ``needle`` (every needle position: channel, sample it took effect, site number, small moves so far, tip
    position in mm, distance from the innervation zone in mm, whether at the endplate, the muscle) and ``insertions``
    (``[first, end]`` of every insertional burst).
``unit_*``
    One entry per generator (a motor unit at one needle position, a fibrillating fibre, a complex repetitive
    circuit, an insertional waveform ...): ``unit_id``, ``unit_channel``, ``unit_kind`` (``muap``, ``far``,
    ``fibrillation``, ``psw``, ``fasciculation``, ``crd``, ``myotonic``, ``myokymic``, ``neuromyotonic``,
    ``endplate_noise``, ``endplate_spike``, ``insertion``), ``unit_motor_unit`` (index of the motor unit in its
    site's neighbourhood, -1 for fibre generators), ``unit_site``, ``unit_distance_mm`` (tip to the unit's nearest
    fibre; NaN for fibre generators), ``unit_peak_offset`` (samples from the template's start to its largest
    deflection), ``unit_amplitude_uv``, ``unit_duration_ms`` and ``unit_phases`` (at 2.5 % of the peak to peak),
    ``unit_clinical_duration_ms`` and ``unit_clinical_phases`` (QEMG §3's ±40 µV and 25 µV rules),
    ``unit_rise_time_ms``,
    ``unit_threshold_percent`` (the drive that recruits it; -1 for spontaneous, inf for insertional),
    ``unit_rate_hz``, and its template: ``templates[unit_template_start : unit_template_start +
    unit_template_length]`` in µV at ``sample_rate``.
``firing_*``
    One entry per discharge, in time order: ``firing_start`` (the sample its template starts at; the potential's
    largest deflection is ``unit_peak_offset`` later), ``firing_unit`` (a ``unit_id``) and ``firing_gain`` (the
    template is scaled by it: 1 except for the insertional waveforms and the waxing, waning or decrementing
    discharges). The recording is the sum of ``gain × template`` at every start, plus noise and hum.

A discharge whose largest deflection falls inside the recording is listed (its start may be a little before it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emgscope.acquisition.simulator import SimulatedPatient, SimulatedSource
from emgscope.core.discharges import SPONTANEOUS

FORMAT = "emgscope ground truth"
VERSION = 1
SUFFIX = ".truth.npz"
_UNIT_FIELDS = (
    "channel",
    "motor_unit",
    "site",
    "distance_mm",
    "peak_offset",
    "amplitude_uv",
    "duration_ms",
    "phases",
    "rise_time_ms",
    "threshold_percent",
    "rate_hz",
    "clinical_duration_ms",
    "clinical_phases",
)


class TruthError(ValueError):
    """A ground-truth file that cannot be read; the message names the file and the defect."""


@dataclass(frozen=True)
class TruthUnit:
    """One generator as the file describes it, with every sample its template starts at."""

    id: int
    channel: int
    kind: str
    motor_unit: int
    site: int
    distance_mm: float
    peak_offset: int
    amplitude_uv: float
    duration_ms: float
    phases: int
    rise_time_ms: float
    threshold_percent: float
    rate_hz: float
    clinical_duration_ms: float
    clinical_phases: int
    template: np.ndarray
    starts: np.ndarray
    """Samples (from the recording's first) at which its template starts, in time order."""
    gains: np.ndarray


@dataclass(frozen=True)
class GroundTruth:
    """What the simulated patient produced during a recording."""

    meta: dict
    units: list[TruthUnit]
    firing_start: np.ndarray
    firing_unit: np.ndarray
    firing_gain: np.ndarray

    @property
    def sample_rate(self) -> float:
        return float(self.meta["sample_rate"])

    def of_kind(self, *kinds: str) -> list[TruthUnit]:
        return [u for u in self.units if u.kind in kinds]

    def spontaneous(self) -> list[tuple[str, int, int]]:
        """Every spontaneous discharge as ``(kind, channel, start sample)``, in time order."""
        out = []
        for start, uid in zip(self.firing_start.tolist(), self.firing_unit.tolist(), strict=True):
            unit = self.units[uid]
            if unit.kind in SPONTANEOUS:
                out.append((unit.kind, unit.channel, start))
        return out

    def render(self, channel: int, samples: int) -> np.ndarray:
        """The recording of ``channel`` without its noise and hum: every discharge's scaled template."""
        offset = max((u.template.size for u in self.units), default=0)
        out = np.zeros(samples + 2 * offset)
        for start, uid, gain in zip(self.firing_start, self.firing_unit, self.firing_gain, strict=True):
            unit = self.units[int(uid)]
            if unit.channel == channel:
                at = int(start) + offset
                out[at : at + unit.template.size] += gain * unit.template
        return out[offset : offset + samples]


def truth_path(recording: Path) -> Path:
    """Where the ground truth of ``recording`` goes: ``exam.bdf`` → ``exam.truth.npz``."""
    return recording.with_name(recording.stem + SUFFIX)


def collect(patient: SimulatedPatient, first_sample: int, samples: int) -> dict[str, np.ndarray]:
    """The arrays of the file for the ``samples`` samples from the patient's sample ``first_sample`` (needs the
    patient's firing log)."""
    log = patient.firing_log()
    units = patient.units
    offsets = np.array([u.peak_offset for u in units], dtype=np.int64)
    inside = (log.samples >= first_sample) & (log.samples < first_sample + samples)
    firing_unit = log.units[inside].astype(np.int64)
    firing_start = log.samples[inside] - offsets[firing_unit] - first_sample
    lengths = np.array([u.template.size for u in units], dtype=np.int64)
    settings = patient.settings
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "sample_rate": patient.sample_rate,
        "channels": patient.channels,
        "samples": int(samples),
        "first_sample": int(first_sample),
        "seed": settings.seed,
        "pathology": settings.pathology,
        "patient": settings.patient,
        "muscle": patient.profile.name,
        "needle": [
            {
                "channel": n.channel,
                "sample": n.sample - first_sample,
                "site": n.site,
                "move": n.move,
                "tip_mm": list(n.tip_mm),
                "from_endplates_mm": n.from_endplates_mm,
                "at_endplate": n.at_endplate,
                "muscle": n.muscle,
            }
            for n in patient.needle
        ],
        "insertions": [[a - first_sample, b - first_sample] for a, b in patient.insertions],
    }
    arrays: dict[str, np.ndarray] = {
        "meta": np.array(json.dumps(meta)),
        "unit_id": np.arange(len(units), dtype=np.int64),
        "unit_kind": np.array([u.kind for u in units], dtype=str),
        "unit_template_start": np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64),
        "unit_template_length": lengths,
        "templates": np.concatenate([u.template for u in units]) if units else np.empty(0),
        "firing_start": firing_start.astype(np.int64),
        "firing_unit": firing_unit,
        "firing_gain": log.gains[inside].astype(np.float64),
    }
    for field in _UNIT_FIELDS:
        arrays[f"unit_{field}"] = np.array([getattr(u, field) for u in units])
    return arrays


def write_truth(path: Path, patient: SimulatedPatient, first_sample: int, samples: int) -> Path:
    """Write the ground truth of ``samples`` samples from ``first_sample`` to ``path`` (never overwriting)."""
    if path.exists():
        raise FileExistsError(f"{path} exists; ground truth is never overwritten")
    with open(path, "xb") as handle:
        np.savez_compressed(handle, **collect(patient, first_sample, samples))
    return path


def read_truth(path: Path | str) -> GroundTruth:
    """Load a ground-truth file. Raises :class:`TruthError`."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError) as exc:
        raise TruthError(f"{path.name}: not a ground-truth file ({exc})") from exc
    try:
        meta = json.loads(str(arrays["meta"]))
        if meta.get("format") != FORMAT:
            raise TruthError(f"{path.name}: not a ground-truth file (format {meta.get('format')!r})")
        if meta.get("version") != VERSION:
            raise TruthError(f"{path.name}: ground truth version {meta.get('version')} (this emgscope reads {VERSION})")
        starts, units_of_firing = arrays["firing_start"], arrays["firing_unit"]
        gains = arrays["firing_gain"]
        units = []
        for k, uid in enumerate(arrays["unit_id"].tolist()):
            first = int(arrays["unit_template_start"][k])
            mine = units_of_firing == uid
            units.append(
                TruthUnit(
                    id=int(uid),
                    kind=str(arrays["unit_kind"][k]),
                    template=arrays["templates"][first : first + int(arrays["unit_template_length"][k])],
                    starts=starts[mine],
                    gains=gains[mine],
                    **{field: _scalar(arrays[f"unit_{field}"][k], field) for field in _UNIT_FIELDS},
                )
            )
    except (KeyError, json.JSONDecodeError) as exc:
        raise TruthError(f"{path.name}: incomplete ground-truth file (missing {exc})") from exc
    return GroundTruth(meta, units, starts, units_of_firing, gains)


def _scalar(value: np.generic, field: str) -> int | float:
    integral = field in ("channel", "motor_unit", "site", "peak_offset", "phases", "clinical_phases")
    return int(value) if integral else float(value)


def keep_ground_truth(source: object) -> None:
    """Ask a simulated patient's source to keep the firing log a ground-truth file needs (other sources: nothing)."""
    if isinstance(source, SimulatedSource):
        source.log_firings = True


def ground_truth_beside(source: object, recording: Path, first_sample: int, samples: int) -> Path | None:
    """Write the ground truth of a recording made from ``source`` beside it, if ``source`` is the simulated patient
    and kept its firing log (:func:`keep_ground_truth`); the path written, or None (also when a file of that name
    is already there: it is never overwritten)."""
    if not isinstance(source, SimulatedSource):
        return None
    patient = source.last_patient
    path = truth_path(recording)
    if patient is None or not source.log_firings or path.exists():
        return None
    return write_truth(path, patient, first_sample, samples)
