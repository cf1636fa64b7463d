"""Copies of recordings, optionally cut to a time span and de-identified for teaching.

The copy is written by the same writer as a live recording, from what the replay reader decodes, with the
source's physical range so the samples come back within one quantisation step. De-identifying blanks every
EDF+ patient subfield (code, sex, birth date, name and anything after them), the hospital administration code
and the technician, and sets the start date to 1 January 1985, the EDF+ convention for an anonymised recording.
Signals and annotations are kept: annotations inside the span, shifted to its start, and the session facts
written at 0 s (muscle, side, device) when the span starts later.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from emgscope.recording import edfplus
from emgscope.recording.journal import journal_path
from emgscope.recording.session import header_text, subfield
from emgscope.recording.writer import EdfPlusWriter, RecordingFull
from emgscope.replay.reader import RecordingError, open_recording

ANONYMOUS_START = datetime(1985, 1, 1)
BLANK_PATIENT = "X X X X"
CHUNK_SECONDS = 1.0


class ExportError(Exception):
    """The copy could not be made; nothing was left behind. The message is for the user."""


@dataclass(frozen=True)
class ExportReport:
    path: Path
    seconds: float
    n_channels: int
    annotations: int


def export_copy(
    source: Path,
    target: Path,
    deidentify: bool = False,
    start_s: float | None = None,
    end_s: float | None = None,
) -> ExportReport:
    """Write ``source`` (any single-rate EDF/BDF file, or another format the reader opens) to ``target``."""
    source, target = Path(source), Path(target)
    if target.exists():
        raise ExportError(f"{target} exists; recordings are never overwritten")
    if target.suffix.lower() not in (".bdf", ".edf"):
        raise ExportError(f"{target.name}: the copy must be named .bdf (BDF+) or .edf (EDF+)")
    try:
        recording = open_recording(source)
    except RecordingError as exc:
        raise ExportError(str(exc)) from None
    signals = recording.data_signals
    rates = {recording.signals[i].sample_rate for i in signals}
    if len(rates) != 1:
        raise ExportError(f"{source.name} has signals at {len(rates)} different rates; only single-rate files copy")
    rate = rates.pop()
    total = min(recording.signals[i].n_samples for i in signals)
    first = 0 if start_s is None else round(max(start_s, 0.0) * rate)
    stop = total if end_s is None else min(total, round(end_s * rate))
    if stop <= first:
        raise ExportError(f"the span {start_s}–{end_s} s holds no samples of {source.name}")
    range_uv = max(max(abs(recording.signals[i].physical_min), abs(recording.signals[i].physical_max)) for i in signals)
    factor = recording.signals[signals[0]].uv_factor or 1.0
    try:
        layout = edfplus.make_layout(
            target.suffix.lower() == ".bdf",
            tuple(recording.signals[i].label for i in signals),
            rate,
            range_uv * factor,
            total_samples=stop - first,
        )
    except edfplus.FormatError as exc:
        raise ExportError(str(exc)) from None
    patient, recording_field, start = _header_fields(source, recording.start, deidentify)
    offset_s = first / rate
    kept = [
        a for a in recording.annotations if offset_s <= a.onset_s <= stop / rate or (a.onset_s == 0.0 and offset_s > 0)
    ]
    try:
        writer = EdfPlusWriter(target, layout, patient, recording_field, start)
    except OSError as exc:
        raise ExportError(f"cannot create {target}: {exc.strerror or exc}") from None
    try:
        for a in kept:
            writer.annotate(max(a.onset_s - offset_s, 0.0), a.text, a.duration_s)
        step = max(1, round(CHUNK_SECONDS * rate))
        for begin in range(first, stop, step):
            end = min(stop, begin + step)
            writer.write(np.array([recording.read(i, begin, end) for i in signals]))
        writer.close()
    except (RecordingFull, RecordingError, OSError) as exc:
        for leftover in (target, journal_path(target)):
            with contextlib.suppress(OSError):
                leftover.unlink()
        raise ExportError(f"the copy was not made: {exc}") from None
    return ExportReport(target, writer.samples_written / rate, len(signals), len(kept))


def _header_fields(source: Path, start: datetime | None, deidentify: bool) -> tuple[str, str, datetime]:
    """The patient and recording fields and start for the copy: the source's own bytes, or blanked ones."""
    with source.open("rb") as fh:
        head = fh.read(168)
    patient = head[8:88].decode("ascii", "replace").strip()
    recording_field = head[88:168].decode("ascii", "replace").strip()
    if not deidentify:
        return patient, recording_field, start or ANONYMOUS_START
    parts = recording_field.split(" ")
    equipment = parts[4] if len(parts) >= 5 and parts[0] == "Startdate" else "X"
    return BLANK_PATIENT, header_text(f"Startdate X X X {subfield(equipment)}"), ANONYMOUS_START
