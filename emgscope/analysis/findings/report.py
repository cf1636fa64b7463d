"""What a report says: its header, the findings table, the neutral findings, the impression and the footer.

The content is made here, without Qt, from the recording and its findings (:mod:`.sidecar`); the window and
``emgscope report`` draw the traces and write it as PDF or HTML (:mod:`emgscope.gui.report_render`), or print the
table as JSON. The report follows the Norwegian guideline's rules for documentation (QEMG §8): the muscles examined
with their findings, findings in neutral words ("fibrillation potentials", "short, low-amplitude MUPs", never
"myopathic"), and a plain statement when they are not diagnostic. The software suggests findings; it never offers a
diagnosis. The impression is the clinician's.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from emgscope.analysis.findings.sidecar import Findings
from emgscope.analysis.findings.table import FIELDS, HEADINGS, NOT_EXAMINED, NOT_MEASURED, OTHER_NAMES, Row, cell_text
from emgscope.core.about import NOT_A_MEDICAL_DEVICE
from emgscope.replay.reader import Recording

TITLE = "Needle electromyography"
FOOTER = NOT_A_MEDICAL_DEVICE
SUGGESTED_NOTE = (
    "Suggested findings are made by the software from the recording and reviewed by the clinician; they describe "
    "what was measured, in neutral words, and are not a diagnosis."
)
HAND_MARK = "✎"
"""Marks a cell the clinician entered by hand (in the table and the legend)."""
FIGURES = ("rest", "mups", "max", "plot")
"""The trace images of each muscle: rest activity, the MUP templates, the interference pattern at maximal effort,
the duration-amplitude plot."""
CAPTIONS = {
    "rest": "Rest (representative stretch)",
    "mups": "MUP templates (minimal contraction)",
    "max": "Interference pattern, maximal effort",
    "plot": "Duration-amplitude plot",
}
COLUMN_HEADINGS: dict[str, str] = {
    "insertional": "Ins",
    "fibs": "Fib",
    "psw": "PSW",
    "fasc": "Fasc",
    "other": "Other",
    "muap_amplitude": "Amp",
    "muap_duration": "Dur",
    "polyphasia": "Poly",
    "recruitment": "Recr",
    "interference": "IP",
    "comment": "Comment",
}
"""The report table's short headings (thirteen columns fit a page only so), explained by :data:`LEGEND`."""
SHORT_WORDS: dict[str, str] = {
    "increased": "incr",
    "decreased": "decr",
    "normal": "norm",
    "reduced": "red",
    "discrete": "discr",
    "not examined": "n/e",
    "not measured": "n/m",
}
SHORT_OTHERS: dict[str, str] = {"crd": "CRD", "myotonic": "myot", "myokymic": "myok", "neuromyotonic": "NMT"}
"""The report table's cells in short words (thirteen columns on a portrait page), explained by :data:`LEGEND`."""
LEGEND = (
    "Ins insertional activity; Fib fibrillation potentials; PSW positive sharp waves; Fasc fasciculation potentials "
    "(0 to 4+); Other other discharges (CRD complex repetitive, myot myotonic, myok myokymic, NMT neuromyotonic); "
    "Amp, Dur, Poly MUP amplitude, duration and polyphasia; Recr recruitment; IP interference pattern. incr, norm, "
    "decr increased, normal, decreased; red reduced; discr discrete; n/e not examined; n/m not measured."
)
_CASE = re.compile(r"(Simulated patient) \(.*\)")


@dataclass(frozen=True)
class ReportContent:
    title: str
    header: list[tuple[str, str]]
    rows: list[Row]
    findings: list[str]
    """Neutral suggested findings, one sentence each."""
    impression: str
    notes: list[str]
    footer: str


def _annotation(recording: Recording, label: str) -> str:
    for annotation in recording.annotations:
        if annotation.text.startswith(f"{label}: "):
            return annotation.text[len(label) + 2 :].strip()
    return ""


def _header_text(value: str) -> str:
    return value.replace("_", " ").strip() if value and value != "X" else ""


def report_header(recording: Recording, deidentify: bool = False, hide_case: bool = False) -> list[tuple[str, str]]:
    """The header's lines ``(label, text)``: patient (unless ``deidentify``), date, operator, device, filters,
    protocol. Lines with nothing to say are left out; a de-identified copy has no patient field to show.
    ``hide_case``: the device line does not name the simulated patient's case (practice)."""
    lines: list[tuple[str, str]] = []
    patient = recording.patient
    if not deidentify:
        name = _annotation(recording, "Patient name") or _header_text(patient.get("name", ""))
        code = _annotation(recording, "Patient ID") or _header_text(patient.get("code", ""))
        for label, value in (
            ("Patient", name),
            ("Patient ID", code),
            ("Birth date", _header_text(patient.get("birthdate", ""))),
            ("Sex", _header_text(patient.get("sex", ""))),
        ):
            if value:
                lines.append((label, value))
    if recording.start is not None:
        lines.append(("Recorded", recording.start.strftime("%Y-%m-%d %H:%M")))
    if not deidentify:
        operator = _annotation(recording, "Operator") or _header_text(recording.recording_info.get("technician", ""))
        if operator:
            lines.append(("Operator", operator))
    device = _annotation(recording, "Device")
    if device:
        lines.append(("Device", _CASE.sub(r"\1", device) if hide_case else device))
    filters = _annotation(recording, "Review filters (needle)") or next(
        (a.text.split(": ", 1)[1] for a in recording.annotations if a.text.startswith("Review filters")), ""
    )
    if filters:
        lines.append(("Filters", filters))
    protocol = _annotation(recording, "Protocol")
    if protocol:
        lines.append(("Protocol", protocol))
    lines.append(("Recording", recording.path.name))
    return lines


def _grades(row: Row) -> list[str]:
    out = []
    for name, words in (("fibs", "fibrillation potentials"), ("psw", "positive sharp waves")):
        value = row.value(name)
        if value:
            out.append(f"{words} {cell_text(name, value)}")
    fasc = row.value("fasc")
    if fasc:
        out.append(f"fasciculation potentials {cell_text('fasc', fasc)}")
    for other in row.value("other") or []:
        out.append(f"{OTHER_NAMES[other]} discharges")
    return out


def _mups(row: Row) -> str:
    amplitude, duration = row.value("muap_amplitude"), row.value("muap_duration")
    words = []
    if duration in ("increased", "decreased"):
        words.append("long-duration" if duration == "increased" else "short-duration")
    if amplitude in ("increased", "decreased"):
        words.append("high-amplitude" if amplitude == "increased" else "low-amplitude")
    if row.value("polyphasia") == "increased":
        words.append("polyphasic")
    return f"{', '.join(words)} MUPs" if words else ""


def row_findings(row: Row) -> list[str]:
    """One muscle's abnormal findings in neutral words (empty: none among what was examined)."""
    found = []
    if row.value("insertional") in ("increased", "decreased"):
        found.append(f"{row.value('insertional')} insertional activity")
    found += _grades(row)
    mups = _mups(row)
    if mups:
        found.append(mups)
    recruitment = row.value("recruitment")
    if recruitment in ("reduced", "early"):
        found.append(f"{recruitment} recruitment")
    interference = row.value("interference")
    if interference in ("reduced", "discrete", "single"):
        found.append(
            "a single-unit interference pattern"
            if interference == "single"
            else f"a {interference} interference pattern"
        )
    return found


def neutral_findings(rows: Sequence[Row]) -> list[str]:
    """The suggested findings, a sentence per muscle and one overall (QEMG §8: neutral words, no diagnosis)."""
    sentences = []
    abnormal = 0
    for row in rows:
        found = row_findings(row)
        missing = [HEADINGS[name].lower() for name in FIELDS if row.text(name) == NOT_EXAMINED]
        unmeasured = [HEADINGS[name].lower() for name in FIELDS if row.text(name) == NOT_MEASURED]
        if found:
            abnormal += 1
            sentence = f"{row.label}: {'; '.join(found)}."
        else:
            sentence = f"{row.label}: no abnormality in what was examined."
        if missing:
            sentence += f" Not examined: {', '.join(missing)}."
        if unmeasured:
            sentence += f" Not measured: {', '.join(unmeasured)}."
        sentences.append(sentence)
    if rows:
        sentences.append(
            f"Abnormal findings in {abnormal} of {len(rows)} muscles examined."
            if abnormal
            else f"No abnormality found in the {len(rows)} muscles examined; the findings are not diagnostic of any "
            "disorder."
        )
    return sentences


def build_report(
    recording: Recording, findings: Findings, deidentify: bool = False, hide_case: bool = False
) -> ReportContent:
    """The whole report's content (see the module's docstring)."""
    notes = [LEGEND, SUGGESTED_NOTE]
    if any(row.edited for row in findings.rows):
        notes.append(f"{HAND_MARK} marks a value the clinician entered by hand; it replaces the suggestion.")
    if any(row.text(name) == NOT_EXAMINED for row in findings.rows for name in FIELDS):
        notes.append(f"'{NOT_EXAMINED}': the exam had no step that measures it for that muscle.")
    if any(row.text(name) == NOT_MEASURED for row in findings.rows for name in FIELDS):
        notes.append(f"'{NOT_MEASURED}': the step was examined but gave too little to measure (see the evidence).")
    return ReportContent(
        TITLE,
        report_header(recording, deidentify, hide_case),
        list(findings.rows),
        neutral_findings(findings.rows),
        findings.impression.strip(),
        notes,
        FOOTER,
    )


def short_text(row: Row, name: str) -> str:
    """A cell as the report's table writes it (:data:`SHORT_WORDS`)."""
    value = row.value(name)
    if name == "other" and value:
        return ", ".join(SHORT_OTHERS[v] for v in value)
    text = row.text(name)
    return SHORT_WORDS.get(text, text)


def _cell(row: Row, name: str) -> str:
    text = html.escape(short_text(row, name))
    return f"<b>{text} {HAND_MARK}</b>" if row.by_hand(name) else text


def to_html(
    content: ReportContent,
    images: Mapping[tuple[str, str], tuple[str, str]] | None = None,
    generated: datetime | None = None,
    image_width: int = 360,
) -> str:
    """The report as one HTML document. ``images``: ``(row label, figure)`` → an image's ``src`` (a data URI, a file,
    or a resource name a Qt document knows) and the line under it, for the figures of :data:`FIGURES`, shown two to
    a line ``image_width`` pixels wide; a figure without one is left out."""
    images = images or {}
    esc = html.escape
    out = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{esc(content.title)}</title>",
        "<style>body{font-family:sans-serif;font-size:10pt;color:#000;background:#fff}"
        "table{border-collapse:collapse}td,th{border:1px solid #888;padding:2px 3px;font-size:8pt}"
        "th{background:#ddd}.head td{border:none;padding:1px 8px 1px 0}.foot{font-size:8pt;color:#333}"
        "h1{font-size:16pt}h2{font-size:12pt}</style></head><body>",
        f"<h1>{esc(content.title)}</h1>",
        "<table class='head'>",
    ]
    out += [f"<tr><td><b>{esc(label)}</b></td><td>{esc(value)}</td></tr>" for label, value in content.header]
    out.append("</table><h2>Findings</h2><table width='100%' cellspacing='0'><tr><th>Muscle</th><th>Side</th>")
    out += [f"<th>{esc(COLUMN_HEADINGS[name])}</th>" for name in (*FIELDS, "comment")]
    out.append("</tr>")
    for row in content.rows:
        cells = "".join(f"<td>{_cell(row, name)}</td>" for name in FIELDS)
        place = f"<td nowrap>{esc(row.muscle)}</td><td>{esc(row.side)}</td>"
        out.append(f"<tr>{place}{cells}<td>{esc(row.comment)}</td></tr>")
    out.append("</table>")
    out += [f"<p class='foot'>{esc(note)}</p>" for note in content.notes]
    out.append("<h2>Suggested findings</h2><ul>")
    out += [f"<li>{esc(sentence)}</li>" for sentence in content.findings]
    out.append("</ul><h2>Impression</h2>")
    impression = content.impression or "(No impression written.)"
    out += [f"<p>{esc(line)}</p>" for line in impression.splitlines() if line.strip()]
    figures = [(row, name) for row in content.rows for name in FIGURES if (row.label, name) in images]
    if figures:
        out.append("<h2>Traces</h2>")
        for row in content.rows:
            mine = [name for name in FIGURES if (row.label, name) in images]
            if not mine:
                continue
            out.append(f"<h3>{esc(row.label)}</h3><table class='head'>")
            for k in range(0, len(mine), 2):
                cells = [
                    f"<td><img src='{esc(images[(row.label, name)][0])}' width='{image_width}'><br>"
                    f"<b>{esc(CAPTIONS[name])}</b>: {esc(images[(row.label, name)][1])}</td>"
                    for name in mine[k : k + 2]
                ]
                out.append(f"<tr>{''.join(cells)}</tr>")
            out.append("</table>")
    stamp = f" Report made {generated:%Y-%m-%d %H:%M}." if generated is not None else ""
    out.append(f"<hr><p class='foot'>{esc(content.footer)}{esc(stamp)}</p></body></html>")
    return "\n".join(out)
