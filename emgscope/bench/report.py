"""Figures for ``emgscope bench``: spontaneous activity, the findings table and the report, on headless exams of
every teaching patient.

Each teaching patient (``resources/patients``) is examined headless, as ``emgscope record --protocol`` does, with
the multi-muscle protocol over the case's own muscles (insertion, two rest sites, minimal, moderate and maximal
contraction, a last rest), and the recording's findings are suggested exactly as ``emgscope report`` makes them.

* ``spont_class_accuracy``: of the discharges the rest analysis found that belong to a discharge of the simulated
  patient's ground truth, the share whose class is the truth's. A found discharge belongs to the true discharge
  whose template is largest at its sample (within ±0.25 ms; at least 5 µV: a detection where no template reaches
  that is the background's and is not counted); the truth's ``muap`` and ``far`` (a unit firing voluntarily) are
  the class ``voluntary``, its ``insertion`` the class ``insertional``.
* ``spont_grade_within_one``: of the rest steps' fibrillation, positive sharp wave and fasciculation grades
  (each step graded as one site), the share within one grade of the case's key; a step not graded (the patient
  not relaxed) counts as a miss.
* ``report_agreement``: of the findings table's cells (ten per muscle, the comment aside), the share whose
  suggestion equals the case's key; ``report_agreement_suggested`` is the same over the cells that got a
  suggestion (a cell left "not measured" is a miss in the first, absent from the second).
* ``report_seconds``: a PDF for a five-muscle exam (the generic neurogenic patient, five muscles) as
  ``emgscope report`` makes it: from the recording to the file, the suggestions (saved beside the recording with
  the MUP analyses they made), the trace images and the PDF, in this process (the Qt application made beforehand,
  as the window has one).
"""

from __future__ import annotations

import dataclasses
import math
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emgscope.acquisition.sim_patients import exam_muscles, load_patient, patient_names
from emgscope.acquisition.sim_truth import GroundTruth, read_truth, truth_path
from emgscope.analysis.findings.suggest import Suggestions, saved_or_suggested, suggest
from emgscope.analysis.findings.table import FIELDS
from emgscope.analysis.muap.sidecar import load_analyses
from emgscope.analysis.spontaneous import classify as c
from emgscope.analysis.spontaneous.grade import site_grade
from emgscope.core.settings import SimulatorSettings
from emgscope.protocol.loader import load_protocol, protocols_dir
from emgscope.recording.session import SessionInfo
from emgscope.replay.reader import open_recording
from emgscope.session.headless import record_exam
from emgscope.session.practice import key_row, same

PROTOCOL = "needle_multi_muscle"
OPERATOR_S = 6.0
"""The minimal contraction lasts this long, as ``emgscope record`` holds it by default."""
SEED = 3
OWNER_MS = 0.25
OWNER_MIN_UV = 5.0
TRUTH_CLASSES = {"muap": c.VOLUNTARY, "far": c.VOLUNTARY, "insertion": c.INSERTIONAL}
GRADED = {c.FIBRILLATION: "fibs", c.PSW: "psw", c.FASCICULATION: "fasc"}
FIVE_MUSCLES = [
    ("Tibialis anterior", "R"),
    ("Medial gastrocnemius", "R"),
    ("Vastus lateralis", "R"),
    ("First dorsal interosseous", "R"),
    ("Deltoid", "R"),
]


def examine(folder: Path, name: str, simulator: SimulatorSettings, muscles: list[tuple[str, str]]) -> Path:
    """A headless exam of ``muscles`` recorded to ``folder/name.bdf`` (with its ground truth beside it)."""
    path = folder / f"{name}.bdf"
    protocol = load_protocol(protocols_dir() / f"{PROTOCOL}.toml")
    record_exam(protocol, muscles, "compliant", simulator, 0.0, SessionInfo(patient_id=name), path, "bdf", OPERATOR_S)
    return path


class Owners:
    """Which true discharge each sample belongs to (see the module's docstring)."""

    def __init__(self, truth: GroundTruth) -> None:
        order = np.argsort(truth.firing_start, kind="stable")
        self.starts = truth.firing_start[order]
        self.units = truth.firing_unit[order]
        self.gains = truth.firing_gain[order]
        self.truth = truth
        self.longest = max(u.template.size for u in truth.units)
        self.reach = max(1, round(OWNER_MS * truth.sample_rate / 1000.0))

    def kind(self, sample: int) -> str | None:
        lo = np.searchsorted(self.starts, sample - self.longest)
        hi = np.searchsorted(self.starts, sample + 1)
        best, kind = OWNER_MIN_UV, None
        for k in range(lo, hi):
            unit = self.truth.units[int(self.units[k])]
            offset = sample - int(self.starts[k])
            if 0 <= offset < unit.template.size:
                part = unit.template[max(0, offset - self.reach) : offset + self.reach + 1]
                size = float(np.max(np.abs(part))) * float(self.gains[k])
                if size >= best:
                    best, kind = size, TRUTH_CLASSES.get(unit.kind, unit.kind)
        return kind


@dataclass
class Tally:
    """What the figures count, kept apart so the bench can say where the misses are: found discharges per true and
    found class, rest grades per column, cells per column and per patient (right, suggested, in all)."""

    classes: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(true class, found class) → found discharges."""
    grades: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    """Column → [within one, compared]."""
    cells: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))
    """Column → [right, suggested, in all]."""
    patients: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))
    """Teaching patient → [right, suggested, in all]."""
    misses: list[str] = field(default_factory=list)
    """Each cell whose suggestion is not the key: patient, muscle, column, suggestion, key."""

    def count_classes(self, suggestions: Suggestions, truth: GroundTruth) -> None:
        """Found discharges that belong to a true one, by true and found class."""
        owners = Owners(truth)
        for found in suggestions.evidence:
            for rest in found.rests:
                for train in rest.trains:
                    for sample in train.samples.tolist():
                        kind = owners.kind(int(sample))
                        if kind is not None:
                            self.classes[kind, train.cls] += 1

    def count_grades(self, suggestions: Suggestions, case_name: str) -> None:
        """Rest steps' grades within one of the key, and grades compared."""
        case = load_patient(case_name)
        for found in suggestions.evidence:
            key = key_row(case.muscle(f"{found.steps.muscle} {found.steps.side}").findings)
            for rest in found.rests:
                grades = site_grade(rest).grades
                for cls, name in GRADED.items():
                    self.grades[name][1] += 1
                    self.grades[name][0] += cls in grades and abs(grades[cls] - key[name]) <= 1

    def count_cells(self, suggestions: Suggestions, case_name: str) -> None:
        """Cells equal to the key, cells suggested, cells in all."""
        case = load_patient(case_name)
        for row in suggestions.rows:
            key = key_row(case.muscle(row.label).findings)
            for name in FIELDS:
                value = row.value(name)
                right = same(name, value, key[name])
                for counts in (self.cells[name], self.patients[case_name]):
                    counts[0] += right
                    counts[1] += value is not None
                    counts[2] += 1
                if not right:
                    self.misses.append(f"{case_name}, {row.label}, {name}: {value!r} (key {key[name]!r})")

    def figures(self) -> dict[str, float]:
        right = sum(n for (truth, found), n in self.classes.items() if truth == found)
        within, graded = (sum(g[i] for g in self.grades.values()) for i in (0, 1))
        cells, suggested, total = (sum(c[i] for c in self.cells.values()) for i in (0, 1, 2))
        return {
            "spont_class_accuracy": round(right / max(sum(self.classes.values()), 1), 3),
            "spont_grade_within_one": round(within / max(graded, 1), 3),
            "report_agreement": round(cells / max(total, 1), 3),
            "report_agreement_suggested": round(cells / max(suggested, 1), 3),
        }

    def breakdown(self) -> str:
        """The counts behind the figures, as text."""
        lines = ["report_agreement per column (right / suggested / cells):"]
        lines += [f"  {name:16s} {c[0]:3d} / {c[1]:3d} / {c[2]:3d}" for name, c in self.cells.items()]
        lines.append("report_agreement per teaching patient:")
        lines += [f"  {name:24s} {c[0]:3d} / {c[1]:3d} / {c[2]:3d}" for name, c in self.patients.items()]
        lines.append("spont_grade_within_one per column (within one / graded):")
        lines += [f"  {name:16s} {g[0]:3d} / {g[1]:3d}" for name, g in self.grades.items()]
        lines.append("spont_class_accuracy: true class → found classes (discharges):")
        for truth in sorted({t for t, _ in self.classes}):
            found = {f: n for (t, f), n in self.classes.items() if t == truth}
            right = found.get(truth, 0)
            parts = ", ".join(f"{f} {n}" for f, n in sorted(found.items(), key=lambda item: -item[1]))
            lines.append(f"  {truth:16s} {right:4d} / {sum(found.values()):4d}: {parts}")
        lines.append("cells that miss:")
        lines += [f"  {miss}" for miss in self.misses]
        return "\n".join(lines)


def report_seconds(folder: Path) -> float:
    """Seconds from a five-muscle exam's recording to its PDF (see the module's docstring)."""
    from emgscope.gui import report_render
    from emgscope.gui.report_command import write_report

    path = examine(folder, "five", SimulatorSettings(pathology="neurogenic", seed=SEED), FIVE_MUSCLES)
    report_render.ensure_app()
    began = time.perf_counter()
    recording = open_recording(path)
    findings = saved_or_suggested(recording, path)
    write_report(recording, findings, folder / "five.pdf", False, load_analyses(path))
    return time.perf_counter() - began


def measure_report(patients: list[str] | None = None, tally: Tally | None = None) -> dict[str, float]:
    """The figures of the module's docstring, on ``patients`` (default: every teaching patient); ``tally`` keeps
    the counts behind them."""
    tally = tally if tally is not None else Tally()
    with tempfile.TemporaryDirectory(prefix="emgscope-bench-report-") as tmp:
        folder = Path(tmp)
        for name in patients or patient_names():
            muscles = [tuple(m.split(":")) for m in (exam_muscles(name) or "").split(",")]
            simulator = dataclasses.replace(SimulatorSettings(), patient=name, seed=SEED)
            path = examine(folder, name, simulator, muscles)  # type: ignore[arg-type]
            suggestions = suggest(open_recording(path))
            tally.count_classes(suggestions, read_truth(truth_path(path)))
            tally.count_grades(suggestions, name)
            tally.count_cells(suggestions, name)
        seconds = report_seconds(folder) if patients is None else math.nan
    return {**tally.figures(), "report_seconds": round(seconds, 2)}


def main(argv: list[str] | None = None) -> int:
    """``python -m emgscope.bench.report [PATIENT ...]``: the figures and the counts behind them."""
    names = (argv if argv is not None else sys.argv[1:]) or None
    tally = Tally()
    figures = measure_report(names, tally)
    print(tally.breakdown())
    for name, value in figures.items():
        print(f"{name}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
