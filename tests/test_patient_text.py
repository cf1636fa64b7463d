"""Typed patient text is never changed or cut without a word, and two different IDs never become one.

EDF headers hold short printable ASCII. Each test here once failed: Δέλτα and Ωμέγα were both stored as
``_____``, 患者 gave a file named ``…_anonymous.bdf``, notes and muscle names were cut to 400 bytes, and a
1000-character ID pushed the name out of the header. Files are written by the real recorder (through
``emgscope record`` where the command line is what is tested) and read back with our reader and pyEDFlib.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from emgscope.recording.ascii_text import to_ascii
from emgscope.recording.edfplus import MAX_TEXT_BYTES
from emgscope.recording.export import export_copy
from emgscope.recording.naming import session_file
from emgscope.recording.session import SessionInfo
from emgscope.replay.reader import open_recording

WHEN = datetime(2026, 3, 2, 9, 30, 0)
IDS = ("Δέλτα", "Ωμέγα", "Müller", "Mueller", "Muller", "P 42", "P_42", "P/42", "P-42", "患者", "病人", "x" * 1000)


@pytest.mark.parametrize(
    ("typed", "ascii"),
    [
        ("Zoë Müller", "Zoe Mueller"),
        ("MÜLLER", "MUELLER"),
        ("Straße", "Strasse"),
        ("Ærøskøbing", "Aeroeskoebing"),
        ("Łódź", "Lodz"),
        ("Δέλτα", "Delta"),
        ("Ωμέγα", "Omega"),
        ("Νίκος Παπαδόπουλος", "Nikos Papadopoulos"),
        ("Щукин", "Shchukin"),
        ("患者", "??"),
        ("a\tb\nc", "a b c"),
    ],
)
def test_transliteration_follows_its_named_rules(typed: str, ascii: str) -> None:
    assert to_ascii(typed) == ascii


def test_ids_that_transliterate_alike_never_share_a_header_id_or_a_file_name(tmp_path: Path) -> None:
    codes = {}
    names = {}
    for typed in IDS:
        session = SessionInfo(patient_id=typed, name="A B")
        code = session.patient_field().split(" ")[0]
        assert code.isascii() and code.isprintable() and 1 <= len(code) <= 32, code
        codes[typed] = code
        names[typed] = session_file(tmp_path, session, WHEN).name
    assert len(set(codes.values())) == len(IDS), codes
    assert len(set(names.values())) == len(IDS), names
    assert codes["Δέλτα"].startswith("Delta~") and codes["Ωμέγα"].startswith("Omega~")
    assert codes["Müller"].startswith("Mueller~") and codes["Mueller"] == "Mueller"  # typed ASCII stays as typed
    assert names["Δέλτα"].startswith("2026-03-02_093000_Delta-") and "anonymous" not in names["患者"]


def test_a_1000_character_id_leaves_the_name_in_the_header_and_says_so() -> None:
    session = SessionInfo(patient_id="P" * 1000, name="Zoë Müller", sex="F", birthdate=date(1961, 3, 2))
    field = session.patient_field()
    assert len(field) <= 80
    code, sex, birth, name = field.split(" ")
    assert (sex, birth, name) == ("F", "02-MAR-1961", "Zoe_Mueller")
    assert len(code) == 32 and code.startswith("P" * 25 + "~")
    assert f"Patient ID: {'P' * 1000}" in session.annotations()
    assert "Patient name: Zoë Müller" in session.annotations()
    notes = session.header_notes()
    assert notes[0] == (
        f"Patient ID is stored in the header as '{code}' (shortened to fit the header, given a suffix that keeps it "
        "apart from other IDs); the full text is kept in an annotation at 0 s."
    )
    assert notes[1].startswith("Patient name is stored in the header as 'Zoe_Mueller' (transliterated to ASCII)")


def test_plain_ascii_fields_are_stored_as_typed_with_nothing_added() -> None:
    session = SessionInfo(patient_id="P-0042", name="John Smith", operator="T. Nurse", muscle="Deltoid")
    assert session.patient_field() == "P-0042 X X John_Smith"
    assert session.header_notes() == []
    assert session.annotations() == ["Muscle: Deltoid"]


@pytest.mark.timeout(60)
def test_a_recording_keeps_every_character_typed_and_the_command_says_what_the_header_holds(tmp_path: Path) -> None:
    import pyedflib

    notes = " ".join(f"Satz {k}: Der Patient (Zoë Müller) entspannte gut, µV-Werte normal — 中文" for k in range(60))
    muscle = "Musculus " + "extensor digitorum longus et brevis " * 15
    mark = "Δ" * 700
    out = tmp_path / "greek.bdf"
    command = [sys.executable, "-m", "emgscope", "record", "--no-settings", "--seconds", "1.5", "--rate", "4000"]
    fields = ["--patient-id", "Δέλτα", "--name", "Ωμέγα Παπαδοπούλου", "--notes", notes, "--muscle", muscle]
    done = subprocess.run(
        [*command, *fields, "--mark", f"0.5:{mark}", "--out", str(out)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    code = SessionInfo(patient_id="Δέλτα").header_id().text
    assert done.stderr.splitlines() == [
        f"emgscope record: Patient ID is stored in the header as '{code}' (transliterated to ASCII, given a suffix "
        "that keeps it apart from other IDs); the full text is kept in an annotation at 0 s.",
        "emgscope record: Patient name is stored in the header as 'Omega_Papadopoulou' (transliterated to ASCII); "
        "the full text is kept in an annotation at 0 s.",
    ]
    rec = open_recording(out)
    assert (rec.patient["code"], rec.patient["name"]) == (code, "Omega_Papadopoulou")
    reader = pyedflib.EdfReader(str(out))  # EDFlib: the reader that keeps at most 512 bytes of an annotation
    try:
        texts = list(reader.readAnnotations()[2])
    finally:
        reader.close()
    assert [t.strip() for t in texts] == [a.text for a in rec.annotations]  # a part split at a space ends in it
    assert "Patient ID: Δέλτα" in texts and "Patient name: Ωμέγα Παπαδοπούλου" in texts
    assert all(len(t.encode()) <= MAX_TEXT_BYTES for t in texts)
    assert _joined(texts, "Notes").split() == notes.split()
    assert _joined(texts, "Muscle").split() == muscle.split()
    assert "".join(t.split(") ", 1)[1] for t in texts if t.startswith("(") and "Δ" in t) == mark


def _joined(texts: list[str], label: str) -> str:
    """The bodies of ``Label (k/n): …`` parts, in order, as one text."""
    parts = [t for t in texts if t.startswith(f"{label} (")]
    n = len(parts)
    assert n > 1 and [p.split(":", 1)[0] for p in parts] == [f"{label} ({k}/{n})" for k in range(1, n + 1)]
    return " ".join(p.split(": ", 1)[1] for p in parts)


@pytest.mark.timeout(60)
def test_a_deidentified_copy_drops_the_typed_patient_text_and_cuts_it_out_of_notes(tmp_path: Path) -> None:
    source = tmp_path / "source.bdf"
    name = "Ωμέγα Παπαδοπούλου"
    note = "Παπαδοπούλου relaxed well; ID Δέλτα"
    command = [sys.executable, "-m", "emgscope", "record", "--no-settings", "--seconds", "1", "--rate", "4000"]
    fields = ["--patient-id", "Δέλτα", "--name", name, "--operator", "Dr. Ηλίας", "--notes", note]
    subprocess.run([*command, *fields, "--out", str(source)], check=True, capture_output=True, timeout=60)
    assert "Patient ID: Δέλτα" in [a.text for a in open_recording(source).annotations]
    target = tmp_path / "teaching.bdf"
    export_copy(source, target, deidentify=True)
    texts = [a.text for a in open_recording(target).annotations]
    assert not [t for t in texts if t.startswith(("Patient", "Operator"))]
    assert "Notes: [removed] relaxed well; ID [removed]" in texts
    data = target.read_bytes()
    for secret in ("Δέλτα", "Delta", "Ωμέγα", "Omega", "Παπαδοπούλου", "Papadopoulou", "Ηλίας", "Ilias"):
        assert secret.encode() not in data, secret


def test_the_session_form_says_when_a_field_will_be_stored_differently(qtbot, tmp_path: Path) -> None:
    from emgscope.core.settings import RecordingSettings
    from emgscope.gui.session_dialog import SessionDialog

    dialog = SessionDialog(SessionInfo(), RecordingSettings(str(tmp_path), "bdf"))
    qtbot.addWidget(dialog)
    assert dialog.headerNoteLabel.text() == ""
    dialog.patientIdEdit.setText("Δέλτα")
    code = SessionInfo(patient_id="Δέλτα").header_id().text
    assert dialog.headerNoteLabel.text() == (
        f"Patient ID is stored in the header as '{code}' (transliterated to ASCII, given a suffix that keeps it "
        "apart from other IDs); the full text is kept in an annotation at 0 s."
    )
    dialog.nameEdit.setText("Zoë Müller")
    assert (
        dialog.headerNoteLabel.text()
        .splitlines()[1]
        .startswith("Patient name is stored in the header as 'Zoe_Mueller' (transliterated to ASCII)")
    )
    dialog.patientIdEdit.setText("P0042")
    dialog.nameEdit.setText("Zoe Smith")
    assert dialog.headerNoteLabel.text() == ""
