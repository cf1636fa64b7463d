"""The findings saved beside their recording: ``<recording>.findings.json``.

One file per recording (``exam.bdf`` → ``exam.bdf.findings.json``) keeps the table as the clinician left it, so it
reopens with the recording and the report is made from it. UTF-8 JSON, written whole through a temporary file (a
crash leaves the old file or the new one). Layout (version 1)::

    {
      "format": "emgscope findings",
      "version": 1,
      "recording": "exam.bdf",          # the recording's file name
      "channel": 0,                     # the signal the suggestions were made from
      "rows": [                         # one per muscle and side, in the exam's order
        {
          "muscle": "Tibialis anterior", "side": "L",
          "suggested": {"insertional": "increased", "fibs": 2, "psw": 1, "fasc": 0, "other": [],
                        "muap_amplitude": "normal", "muap_duration": "normal", "polyphasia": null,
                        "recruitment": "reduced", "interference": "reduced"},
          "evidence": {"fibs": "5 persistent trains at 3 of 3 sites", ...},   # what each suggestion rests on
          "entered": {"psw": 2, "comment": "..."},                           # the clinician's values
          "anchors": {"rest": [12.1, 13.1], "min": [33.5, 39.0], "max": [45.0, 46.0]}   # the report's traces, s
        }
      ],
      "impression": "free text",        # the clinician's impression
      "practice": {"answers_hidden": true}    # only in a practice exam (see emgscope/gui/practice.py)
    }

The values are the table's (:mod:`.table`); ``null`` is "not examined". A value a cell cannot take is refused with
the row and the column named, and nothing half-read is used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emgscope.analysis.findings.table import FIELDS, CellError, Row, check_value
from emgscope.analysis.sidecar_file import read_document, write_document

FORMAT = "emgscope findings"
VERSION = 1
SUFFIX = ".findings.json"


class FindingsFileError(Exception):
    """A findings file that cannot be read or written; the message is one line for the user."""


@dataclass
class Findings:
    """The table, the impression, and where they came from."""

    rows: list[Row]
    channel: int = 0
    impression: str = ""
    practice: dict[str, Any] = field(default_factory=dict)

    def row(self, muscle: str, side: str) -> Row | None:
        return next((r for r in self.rows if r.key == (muscle, side)), None)

    def as_json(self) -> dict[str, Any]:
        """The report's JSON: ``{"muscles": [...]}`` (:meth:`~.table.Row.as_json`)."""
        return {"muscles": [row.as_json() for row in self.rows]}


def findings_path(recording: str | Path) -> Path:
    recording = Path(recording)
    return recording.with_name(recording.name + SUFFIX)


def _row_json(row: Row) -> dict[str, Any]:
    return {
        "muscle": row.muscle,
        "side": row.side,
        "suggested": {name: row.suggested.get(name) for name in FIELDS},
        "evidence": dict(row.evidence),
        "entered": dict(row.entered),
        "anchors": {name: [float(a), float(b)] for name, (a, b) in row.anchors.items()},
    }


def _row_from(data: Any, where: str) -> Row:
    if not isinstance(data, dict) or not isinstance(data.get("muscle"), str) or not isinstance(data.get("side"), str):
        raise FindingsFileError(f"{where}: a row needs its muscle and side")
    row = Row(data["muscle"], data["side"])
    label = row.label or "a row"
    try:
        for name, value in dict(data.get("suggested") or {}).items():
            if name in FIELDS:
                row.suggested[name] = check_value(name, value)
        for name, value in dict(data.get("entered") or {}).items():
            row.enter(name, value)
    except (CellError, TypeError, ValueError) as exc:
        raise FindingsFileError(f"{where}: {label}: {exc}") from None
    row.evidence = {str(k): str(v) for k, v in dict(data.get("evidence") or {}).items()}
    try:
        row.anchors = {str(k): (float(v[0]), float(v[1])) for k, v in dict(data.get("anchors") or {}).items()}
    except (TypeError, ValueError, IndexError):
        raise FindingsFileError(f"{where}: {label}: its trace anchors are not pairs of seconds") from None
    return row


def load_findings(recording: str | Path) -> Findings | None:
    """The findings saved for ``recording``, or None when it has none. Raises :class:`FindingsFileError`."""
    path = findings_path(recording)
    if not path.exists():
        return None
    data = read_document(path, "a findings file", FORMAT, VERSION, FindingsFileError)
    rows = data.get("rows")
    if not isinstance(rows, list):
        raise FindingsFileError(f"{path.name} has no list of rows")
    impression = data.get("impression", "")
    if not isinstance(impression, str):
        raise FindingsFileError(f"{path.name}: the impression is not text")
    practice = data.get("practice", {})
    return Findings(
        [_row_from(r, path.name) for r in rows],
        int(data.get("channel", 0)),
        impression,
        practice if isinstance(practice, dict) else {},
    )


def save_findings(recording: str | Path, findings: Findings) -> Path:
    """Write ``findings`` beside ``recording`` (replacing the file whole); its path. Raises
    :class:`FindingsFileError`."""
    path = findings_path(recording)
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "recording": Path(recording).name,
        "channel": findings.channel,
        "rows": [_row_json(row) for row in findings.rows],
        "impression": findings.impression,
    }
    if findings.practice:
        document["practice"] = findings.practice
    write_document(path, json.dumps(document, ensure_ascii=False, indent=1), FindingsFileError)
    return path
