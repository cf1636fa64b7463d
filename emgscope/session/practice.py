"""Practice for trainees: a teaching patient examined blind, the trainee's findings scored against its answer key.

A practice exam picks a teaching patient at random (:func:`pick_case`) and runs it under a neutral name
(:func:`disguised_case`: a copy of its file called ``case``, so neither the window nor the recording names it).
The trainee fills in the findings table; :func:`score` compares each cell with the case's answer key
(:func:`key_row`, in the table's words) and says which cells were missed, with the moment in the recording that
shows the answer (:func:`decisive_moment`). The same comparison, cell for cell, is the benchmark's
``report_agreement`` between the suggestions and the keys.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emgscope.acquisition.sim_patients import Findings as Key
from emgscope.acquisition.sim_patients import PatientCase, load_patient, patient_names
from emgscope.analysis.findings.sidecar import Findings
from emgscope.analysis.findings.table import FIELDS, HEADINGS, Row, cell_text

KEY_FIELDS: dict[str, str] = {
    "insertional": "insertional",
    "fibs": "fibrillations",
    "psw": "positive_sharp_waves",
    "fasc": "fasciculations",
    "other": "other",
    "muap_amplitude": "amplitude",
    "muap_duration": "duration",
    "polyphasia": "polyphasia",
    "recruitment": "recruitment",
    "interference": "interference",
}
"""The findings table's columns and the answer key's names for them (:class:`~emgscope.acquisition.sim_patients.
Findings`)."""
DISGUISE = "case"
"""The name a practice case runs under."""
EVIDENCE_AT: dict[str, str] = {
    "insertional": "ins",
    "fibs": "rest",
    "psw": "rest",
    "fasc": "rest",
    "other": "rest",
    "muap_amplitude": "min",
    "muap_duration": "min",
    "polyphasia": "min",
    "recruitment": "min",
    "interference": "max",
}
"""Which stretch of the exam shows each cell's answer (:attr:`~emgscope.analysis.findings.table.Row.anchors`)."""


def key_row(key: Key) -> dict[str, Any]:
    """An answer key in the table's values (``other`` in the table's order)."""
    out = {name: getattr(key, attr) for name, attr in KEY_FIELDS.items()}
    out["other"] = sorted(out["other"])
    return out


def same(name: str, answer: Any, truth: Any) -> bool:
    if name == "other":
        return answer is not None and sorted(answer) == sorted(truth)
    return answer == truth


@dataclass(frozen=True)
class Cell:
    """One cell compared."""

    muscle: str
    side: str
    name: str
    answer: Any
    truth: Any
    correct: bool
    moment_s: float | None
    """Where in the recording the answer shows (None when the exam has no such stretch)."""

    def describe(self) -> str:
        given = "left empty" if self.answer is None else cell_text(self.name, self.answer)
        what = HEADINGS[self.name]
        return f"{self.muscle} {self.side}: {what} is {cell_text(self.name, self.truth)} (yours: {given})"


@dataclass(frozen=True)
class Score:
    cells: tuple[Cell, ...]

    @property
    def correct(self) -> int:
        return sum(c.correct for c in self.cells)

    @property
    def total(self) -> int:
        return len(self.cells)

    @property
    def fraction(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def missed(self) -> list[Cell]:
        return [c for c in self.cells if not c.correct]


def decisive_moment(row: Row, name: str) -> float | None:
    """The start of the stretch that shows ``name``'s answer in ``row``'s muscle."""
    anchor = row.anchors.get(EVIDENCE_AT.get(name, ""))
    return anchor[0] if anchor is not None else None


def score(findings: Findings, case: PatientCase, answers: dict[tuple[str, str], dict[str, Any]] | None = None) -> Score:
    """Each cell of each row of ``findings`` that ``case`` has a key for, compared with the key. ``answers``: the
    values compared (default: each row's values in force, the clinician's or trainee's over the suggestion)."""
    cells = []
    for row in findings.rows:
        try:
            key = key_row(case.muscle(row.label).findings)
        except ValueError:
            continue
        given = (answers or {}).get(row.key)
        for name in FIELDS:
            answer = given.get(name) if given is not None else row.value(name)
            truth = key[name]
            cells.append(
                Cell(row.muscle, row.side, name, answer, truth, same(name, answer, truth), decisive_moment(row, name))
            )
    return Score(tuple(cells))


def pick_case(rng: random.Random | None = None) -> str:
    """A teaching patient at random."""
    return (rng or random.Random()).choice(patient_names())


def disguised_case(name: str, folder: Path) -> Path:
    """A copy of ``name``'s file in ``folder`` under the neutral name :data:`DISGUISE`, for the simulator to run."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{DISGUISE}.toml"
    shutil.copyfile(load_patient(name).path, target)
    return target
