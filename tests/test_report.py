"""The findings table and the report, from recordings of headless exams, as a user makes them on the command line:
``emgscope record --protocol … --patient NAME`` then ``emgscope report``."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from support.exams import emgscope, examine

from emgscope.acquisition.sim_patients import load_patient, patient_names
from emgscope.analysis.findings.sidecar import (
    Findings,
    FindingsFileError,
    findings_path,
    load_findings,
    save_findings,
)
from emgscope.analysis.findings.suggest import suggest
from emgscope.analysis.findings.table import FIELDS, CellError, Row
from emgscope.analysis.muap.sidecar import load_analyses
from emgscope.recording.export import export_copy
from emgscope.recording.session import SessionInfo
from emgscope.replay.reader import open_recording
from emgscope.session.practice import key_row, same

NEEDS_POPPLER = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="pdftotext and pdftoppm (poppler-utils) read the PDF back: bash packaging/bootstrap.sh test installs them",
)
PATIENT = SessionInfo(
    patient_id="Δέλτα-0042", name="Müller, Anna", birthdate=date(1961, 3, 9), sex="F", operator="Dr. Okafor"
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("report")


@pytest.fixture(scope="module")
def als(folder: Path) -> Path:
    return examine(folder, "als", "needle_one_muscle", seed=1, session=PATIENT)


def agreement(path: Path, name: str) -> tuple[int, int]:
    """Cells of ``emgscope report --json`` equal to the case's key, and cells."""
    result = emgscope("report", str(path), "--json")
    assert result.returncode == 0, result.stderr
    table = json.loads(result.stdout)
    case = load_patient(name)
    right = total = 0
    for row in table["muscles"]:
        assert set(row) == {"muscle", "side", *FIELDS, "edited"}
        assert row["edited"] == []
        key = key_row(case.muscle(f"{row['muscle']} {row['side']}").findings)
        for cell in FIELDS:
            total += 1
            right += same(cell, row[cell], key[cell])
    return right, total


def test_headless_exam_then_report_json_reaches_each_teaching_patients_key(folder: Path) -> None:
    """One muscle of each case (its first), as `emgscope record --protocol needle_one_muscle --patient NAME` records
    it: the suggestions agree with the key cell for cell in most cells (a MUP cell with no near-field MUP in the
    minimal contraction is left "not measured": a miss by this count)."""
    right = total = 0
    for name in patient_names():
        out = folder / f"{name}.bdf"
        result = emgscope(
            "record", "--no-settings", "--protocol", "needle_one_muscle", "--patient", name, "--out", str(out)
        )
        assert result.returncode == 0, result.stderr
        r, t = agreement(out, name)
        right, total = right + r, total + t
        assert r >= 6, name
    assert total == 10 * len(patient_names())
    assert right / total >= 0.75


def test_report_pdf_reads_back_with_every_part_and_no_diagnosis(als: Path, folder: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) reads the PDF back: bash packaging/bootstrap.sh test installs it")
    out = folder / "als.pdf"
    result = emgscope("report", str(als), "--out", str(out))
    assert result.returncode == 0, result.stderr
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    for words in (
        "Needle electromyography",
        "Müller, Anna",
        "Δέλτα-0042",
        "1961",
        "Dr. Okafor",
        "Simulated patient",
        "LFF 10 Hz",
        "First dorsal interosseous",
        "increased",
        "Suggested findings",
        "fibrillation potentials",
        "Impression",
        "Rest (representative stretch)",
        "MUP templates",
        "Interference pattern, maximal effort",
        "not a cleared medical device",
    ):
        assert words in text, words
    for diagnosis in ("amyotrophic", "ALS", "neuropathy", "myopathic", "neurogenic", "radiculopathy"):
        assert diagnosis not in text
    pages = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert 1 <= int(next(line.split()[-1] for line in pages.splitlines() if line.startswith("Pages:"))) <= 3


def test_deidentified_report_and_report_of_a_deidentified_copy_hold_no_patient_field(als: Path, folder: Path) -> None:
    html = folder / "als_deid.html"
    assert emgscope("report", str(als), "--out", str(html), "--deidentify").returncode == 0
    copy = folder / "als_copy.bdf"
    export_copy(als, copy, deidentify=True)
    copy_html = folder / "als_copy.html"
    result = emgscope("report", str(copy), "--out", str(copy_html))
    assert result.returncode == 0, result.stderr
    for page in (html, copy_html):
        text = page.read_text(encoding="utf-8")
        assert "data:image/png;base64," in text and "First dorsal interosseous" in text
        for personal in ("Müller", "Mueller", "Anna", "Δέλτα", "Delta", "1961", "Okafor", "Birth date", "Patient ID"):
            assert personal not in text, (page.name, personal)


def test_a_recording_without_exam_segments_gets_one_sentence_saying_how_to_mark_them(folder: Path) -> None:
    plain = folder / "plain.bdf"
    recorded = emgscope("record", "--no-settings", "--seconds", "2", "--out", str(plain))
    assert recorded.returncode == 0, recorded.stderr
    result = emgscope("report", str(plain), "--json")
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no exam segments" in lines[0] and "Start guided exam" in lines[0]
    missing = emgscope("report", str(folder / "nothing.bdf"), "--json")
    assert missing.returncode == 1 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr


def test_a_muscle_with_no_contraction_is_not_examined_there_never_made_up(folder: Path) -> None:
    """The exam stopped after the rests (``--seconds 30``): the rest cells are suggested, every contraction cell is
    ``null`` and reads "not examined"."""
    path = examine(folder, "acute_radiculopathy", "needle_one_muscle", seed=4, limit_s=30.0)
    table = suggest(open_recording(path)).rows
    assert len(table) == 1
    row = table[0]
    assert row.value("fibs") is not None and row.value("insertional") == "increased"
    for cell in ("muap_amplitude", "muap_duration", "polyphasia", "recruitment", "interference"):
        assert row.value(cell) is None and row.text(cell) == "not examined", cell


def test_the_clinicians_value_wins_is_marked_and_survives_reopening(als: Path, folder: Path) -> None:
    result = emgscope("report", str(als), "--json")
    assert result.returncode == 0
    findings = load_findings(als)
    assert findings is not None and findings_path(als).exists()
    row = findings.rows[0]
    suggested = row.value("fibs")
    row.enter("fibs", 4 if suggested != 4 else 3)
    row.enter("comment", "Checked at three sites.")
    findings.impression = "Widespread active denervation."
    save_findings(als, findings)
    again = json.loads(emgscope("report", str(als), "--json").stdout)["muscles"][0]
    assert again["fibs"] == row.value("fibs") != suggested
    assert again["edited"] == ["fibs"]
    reopened = load_findings(als)
    assert reopened is not None and reopened.impression == "Widespread active denervation."
    assert reopened.rows[0].suggested["fibs"] == suggested and reopened.rows[0].comment == "Checked at three sites."
    with pytest.raises(CellError):
        Row("Deltoid", "L").enter("fibs", 5)


def test_a_damaged_findings_file_is_refused_in_one_line_and_nothing_half_read(folder: Path) -> None:
    path = folder / "damaged.bdf"
    findings = Findings([Row("Deltoid", "L", suggested={"fibs": 2})])
    save_findings(path, findings)
    text = findings_path(path).read_text(encoding="utf-8").replace('"fibs": 2', '"fibs": "lots"')
    findings_path(path).write_text(text, encoding="utf-8")
    with pytest.raises(FindingsFileError, match="Deltoid L: Fibs is one of 0, 1, 2, 3, 4, not 'lots'"):
        load_findings(path)


def test_practice_scores_a_table_against_the_key_and_runs_the_case_under_a_neutral_name(tmp_path: Path) -> None:
    from emgscope.session.practice import disguised_case, score

    case = load_patient("radiation_plexopathy")
    rows = []
    for muscle in case.muscles:
        row = Row(muscle.muscle, muscle.side, anchors={"rest": (12.0, 13.0), "max": (40.0, 41.0)})
        for name, value in key_row(muscle.findings).items():
            row.enter(name, value)
        rows.append(row)
    perfect = score(Findings(rows), case)
    assert (perfect.correct, perfect.total, perfect.missed()) == (30, 30, [])
    rows[0].enter("interference", "single")
    rows[1].forget("other")
    graded = score(Findings(rows), case)
    assert graded.correct == 28 and [c.name for c in graded.missed()] == ["interference", "other"]
    assert graded.missed()[0].moment_s == 40.0 and graded.missed()[1].moment_s == 12.0
    copy = disguised_case("radiation_plexopathy", tmp_path)
    assert copy.name == "case.toml" and load_patient(copy).muscles == case.muscles


def test_the_mup_analyses_the_suggestions_made_are_kept_beside_the_recording(folder: Path) -> None:
    """``emgscope report`` saves the minimal contraction's MUP analysis in the MUP results file with the findings:
    the clinician can open and edit it in the MUP panel, and the report's templates are drawn from it instead of a
    second analysis of the same samples."""
    path = examine(folder, "normal", "needle_one_muscle", seed=3)
    assert load_analyses(path) == []
    result = emgscope("report", str(path), "--json")
    assert result.returncode == 0, result.stderr
    sites = load_analyses(path)
    recording = open_recording(path)
    (step,) = [a for a in recording.annotations if a.text.startswith("MIN")]
    rate = recording.signals[0].sample_rate
    assert len(sites) == 1
    assert step.onset_s * rate < sites[0].start_index < (step.onset_s + step.duration_s) * rate
    assert json.loads(result.stdout)["muscles"][0]["muap_amplitude"] is not None
