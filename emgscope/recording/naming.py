"""File names for sessions: date, time, patient and muscle, in the sessions folder; never an existing name.

``2026-11-25_140312_P0042_tibialis-anterior-left.bdf``: sorting by name sorts by date, and a lab finds a session
by patient or muscle with the file manager's search. Names are transliterated to ASCII like the header
(:mod:`emgscope.recording.ascii_text`) and characters a file system may refuse become ``-``; a patient ID that
this changes gets the short hash of what was typed (``Delta-3c4e65``, ``P-42-dea03a`` for ``P/42``,
``id-9db4a3`` for 患者), so two different IDs never share a file name. If the name is taken (two recordings in
the same minute), ``_2``, ``_3``… are added; the writer then creates the file exclusively, so even a race with
another program cannot overwrite a recording.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from emgscope.recording.ascii_text import short_hash, to_ascii
from emgscope.recording.journal import journal_path
from emgscope.recording.session import SessionInfo

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_PART_CHARS = 40


def session_file(folder: Path, session: SessionInfo, when: datetime, file_format: str = "bdf") -> Path:
    """A path in ``folder`` (created if missing) that neither a recording nor a journal uses yet."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = [when.strftime("%Y-%m-%d_%H%M%S"), patient_part(session.patient_id) or "anonymous"]
    muscle = _safe(to_ascii(" ".join(x for x in (session.muscle, session.side) if x.strip()))).lower()
    if muscle:
        parts.append(muscle)
    stem = "_".join(parts)
    suffix = "." + file_format
    candidate = folder / (stem + suffix)
    number = 2
    while candidate.exists() or journal_path(candidate).exists():
        candidate = folder / f"{stem}_{number}{suffix}"
        number += 1
    return candidate


def patient_part(patient_id: str) -> str:
    """The patient ID as a file name holds it: distinct for every distinct typed ID (empty for none)."""
    typed = patient_id.strip()
    safe = _safe(to_ascii(typed))
    if safe == typed:
        return safe
    suffix = "-" + short_hash(typed)
    return (safe[: MAX_PART_CHARS - len(suffix)] or "id") + suffix


def _safe(text: str) -> str:
    return _UNSAFE.sub("-", text.strip()).strip("-.")[:MAX_PART_CHARS]
