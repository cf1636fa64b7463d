"""What a lab records about a session, and how it is written into the EDF+ header subfields and annotations.

EDF+ header fields are 80 printable ASCII characters, split into space-separated subfields: patient
``code sex birthdate name`` and recording ``Startdate dd-MMM-yyyy admincode technician equipment``, each ``X``
when unknown and with spaces inside a value written as underscores (the EDF+ specification, section 2.1.3).
What does not fit there (muscle, side, free notes, the device and the filters in use) is written as annotations
at 0 s, where every EDF+ reader shows it.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from emgscope.core.paths import resource
from emgscope.core.settings import FilterSettings
from emgscope.dsp.filters import FilterDesign

SIDES = ("", "left", "right", "bilateral")
SEXES = ("", "F", "M")
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
FIELD_CHARS = 80


@dataclass
class SessionInfo:
    """The session form's fields. Only the patient ID is required; everything else may stay empty."""

    patient_id: str = ""
    name: str = ""
    birthdate: date | None = None
    sex: str = ""
    """``F``, ``M`` or empty (unknown)."""
    operator: str = ""
    muscle: str = ""
    side: str = ""
    notes: str = ""
    admin_code: str = ""
    """The hospital's code for the investigation (EDF+ recording subfield), optional."""

    def validate(self) -> list[str]:
        """Problems that keep the form from being accepted, in words for the user (empty when fine)."""
        problems = []
        if not self.patient_id.strip():
            problems.append("A patient ID is required (use a study code for anonymous sessions).")
        if self.sex not in SEXES:
            problems.append(f"Sex must be F, M or left empty, not {self.sex!r}.")
        if self.birthdate is not None and self.birthdate > date.today():
            problems.append("The birth date is in the future.")
        return problems

    def patient_field(self) -> str:
        """The EDF+ patient field: ``code sex birthdate name``."""
        birth = edf_date(self.birthdate) if self.birthdate else "X"
        return header_text(" ".join((subfield(self.patient_id), self.sex or "X", birth, subfield(self.name))))

    def recording_field(self, start: datetime, equipment: str) -> str:
        """The EDF+ recording field: ``Startdate dd-MMM-yyyy admincode technician equipment``."""
        parts = ("Startdate", edf_date(start.date()), subfield(self.admin_code), subfield(self.operator))
        head = " ".join(parts)
        room = FIELD_CHARS - len(head) - 1
        return header_text(f"{head} {subfield(equipment)[: max(room, 1)]}")

    def annotations(self) -> list[str]:
        """Facts for annotations at 0 s: the muscle examined, its side and the notes."""
        texts = []
        if self.muscle.strip():
            texts.append(f"Muscle: {self.muscle.strip()}")
        if self.side.strip():
            texts.append(f"Side: {self.side.strip()}")
        if self.notes.strip():
            texts.append(f"Notes: {' '.join(self.notes.split())}")
        return texts


def load_muscles() -> list[str]:
    """The muscles a lab examines (``resources/muscles.txt``: one a line, ``#`` starts a comment)."""
    try:
        lines = resource("muscles.txt").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def subfield(value: str) -> str:
    """One EDF+ subfield: printable ASCII (accents dropped, others as ``_``), spaces as underscores, ``X`` if empty."""
    text = header_text(value.strip()).replace(" ", "_")
    return text or "X"


def header_text(value: str) -> str:
    """Printable ASCII for an EDF header: accented letters lose their accents, anything else becomes ``_``."""
    decomposed = unicodedata.normalize("NFKD", value)
    out = []
    for char in decomposed:
        if unicodedata.combining(char):
            continue
        out.append(char if 32 <= ord(char) < 127 else "_")
    return "".join(out)[:FIELD_CHARS]


def edf_date(day: date) -> str:
    """``dd-MMM-yyyy`` with an English upper-case month, as EDF+ subfields write dates."""
    return f"{day.day:02d}-{MONTHS[day.month - 1]}-{day.year:04d}"


def applied_filters(settings: FilterSettings, design: FilterDesign) -> FilterSettings:
    """The filters as they really run (cut-offs clamped for a slow device), for the recording's annotation."""
    notch = design.notch_hz[0] if design.notch_hz else 0.0
    return dataclasses.replace(settings, low_cut_hz=design.low_cut_hz, high_cut_hz=design.high_cut_hz, notch_hz=notch)


def filter_description(settings: FilterSettings) -> str:
    """The clinical filters in use while recording, for an annotation (the file itself holds the raw signal)."""
    low = f"{settings.low_cut_hz:g} Hz" if settings.low_cut_hz > 0 else "off"
    high = f"{settings.high_cut_hz:g} Hz" if settings.high_cut_hz > 0 else "off"
    notch = f"{settings.notch_hz:g} Hz" if settings.notch_hz > 0 else "off"
    return f"Review filters ({settings.preset}): LFF {low}, HFF {high}, notch {notch}; stored signal unfiltered"
