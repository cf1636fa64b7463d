"""What a lab records about a session, and how it is written into the EDF+ header subfields and annotations.

EDF+ header fields are 80 printable ASCII characters, split into space-separated subfields: patient
``code sex birthdate name`` and recording ``Startdate dd-MMM-yyyy admincode technician equipment``, each ``X``
when unknown and with spaces inside a value written as underscores (the EDF+ specification, section 2.1.3).
What does not fit there (muscle, side, free notes, the device and the filters in use) is written as annotations
at 0 s, where every EDF+ reader shows it.

Nothing the operator typed is lost or changed without a word. A typed field the header cannot hold as typed (not
ASCII, or too long for its share of the 80 characters) is transliterated and cut there by the rules of
:mod:`emgscope.recording.ascii_text`, and written whole, in UTF-8, in an annotation at 0 s ("Patient ID: Δέλτα");
:meth:`SessionInfo.header_notes` says so in words for the form and the command line. The patient ID also gets a
short hash when changed, so two different IDs never share a header code or a file name. Annotations longer than
an EDF+ reader keeps are split into numbered parts by the writer (:func:`emgscope.recording.edfplus.split_text`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date, datetime

from emgscope.core.paths import resource
from emgscope.core.settings import FilterSettings
from emgscope.dsp.filters import FilterDesign
from emgscope.recording.ascii_text import Fitted, distinct, fit, to_ascii

SIDES = ("", "left", "right", "bilateral")
SEXES = ("", "F", "M")
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
FIELD_CHARS = 80
ID_MAX_CHARS = 32
"""The patient code's share of the 80-character patient field: sex, birth date and three spaces take 15, so the
name keeps at least 33 characters however long an ID is typed."""
ADMIN_MAX_CHARS = 16
OPERATOR_MAX_CHARS = 24
"""The technician's share of the recording field; ``Startdate``, the date, the admin code and the spaces take 39
at most, so the equipment keeps at least 17 characters."""
PATIENT_ID, PATIENT_NAME, OPERATOR, ADMIN_CODE = "Patient ID", "Patient name", "Operator", "Admin code"
PATIENT_LABELS = (PATIENT_ID, PATIENT_NAME, OPERATOR, ADMIN_CODE)
"""Annotation labels of typed header text kept whole: the patient's and the people's, so a de-identified copy
drops them (:func:`is_personal`)."""
_LABELLED = re.compile(r"(?P<label>[^:()]{1,40}?)(?: \(\d+/\d+\))?: ")


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

    def header_id(self) -> Fitted:
        """The patient code as the header (and the file name) hold it: distinct for every distinct typed ID."""
        return distinct(self.patient_id.strip(), ID_MAX_CHARS, space="_")

    def _header_fields(self) -> dict[str, Fitted]:
        """Every typed field the header holds, as it holds it."""
        code = self.header_id()
        birth = edf_date(self.birthdate) if self.birthdate else "X"
        name_room = FIELD_CHARS - len(" ".join((code.text or "X", self.sex or "X", birth))) - 1
        return {
            PATIENT_ID: code,
            PATIENT_NAME: fit(self.name.strip(), name_room, space="_"),
            ADMIN_CODE: fit(self.admin_code.strip(), ADMIN_MAX_CHARS, space="_"),
            OPERATOR: fit(self.operator.strip(), OPERATOR_MAX_CHARS, space="_"),
        }

    def patient_field(self) -> str:
        """The EDF+ patient field: ``code sex birthdate name``."""
        fields = self._header_fields()
        birth = edf_date(self.birthdate) if self.birthdate else "X"
        parts = (fields[PATIENT_ID].text or "X", self.sex or "X", birth, fields[PATIENT_NAME].text or "X")
        return " ".join(parts)

    def recording_field(self, start: datetime, equipment: str) -> str:
        """The EDF+ recording field: ``Startdate dd-MMM-yyyy admincode technician equipment``."""
        fields = self._header_fields()
        parts = ("Startdate", edf_date(start.date()), fields[ADMIN_CODE].text or "X", fields[OPERATOR].text or "X")
        head = " ".join(parts)
        room = FIELD_CHARS - len(head) - 1
        return f"{head} {subfield(equipment)[: max(room, 1)]}"

    def header_notes(self) -> list[str]:
        """One sentence per typed field the header holds differently, for the form and the command line."""
        notes = []
        for label, fitted in self._header_fields().items():
            if not fitted.changed:
                continue
            how = [
                word
                for word, done in (
                    ("transliterated to ASCII", fitted.transliterated),
                    ("? where a letter has no ASCII transliteration", fitted.untransliterable),
                    ("shortened to fit the header", fitted.shortened),
                    ("given a suffix that keeps it apart from other IDs", fitted.suffixed),
                )
                if done
            ]
            notes.append(
                f"{label} is stored in the header as '{fitted.text}' ({', '.join(how)}); "
                "the full text is kept in an annotation at 0 s."
            )
        return notes

    def annotations(self) -> list[str]:
        """Facts for annotations at 0 s: typed header text the header changed, the muscle, its side and the notes."""
        texts = [f"{label}: {fitted.typed}" for label, fitted in self._header_fields().items() if fitted.changed]
        if self.muscle.strip():
            texts.append(f"Muscle: {self.muscle.strip()}")
        if self.side.strip():
            texts.append(f"Side: {self.side.strip()}")
        if self.notes.strip():
            texts.append(f"Notes: {self.notes.strip()}")
        return texts


def is_personal(text: str) -> bool:
    """Whether an annotation is one of the typed patient or people fields kept whole (or a part of one)."""
    match = _LABELLED.match(text)
    return match is not None and match["label"] in PATIENT_LABELS


def personal_text(text: str) -> tuple[str, str] | None:
    """``(label, text)`` of an annotation :func:`is_personal` accepts, else ``None``."""
    match = _LABELLED.match(text)
    if match is None or match["label"] not in PATIENT_LABELS:
        return None
    return match["label"], text[match.end() :]


def load_muscles() -> list[str]:
    """The muscles a lab examines (``resources/muscles.txt``: one a line, ``#`` starts a comment)."""
    try:
        lines = resource("muscles.txt").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def subfield(value: str) -> str:
    """One EDF+ subfield: printable ASCII (transliterated), spaces as underscores, ``X`` if empty."""
    text = header_text(value.strip()).replace(" ", "_")
    return text or "X"


def header_text(value: str) -> str:
    """Printable ASCII for an EDF header field (see :mod:`emgscope.recording.ascii_text`), cut to 80 characters."""
    return to_ascii(value)[:FIELD_CHARS]


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
