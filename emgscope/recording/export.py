"""Copies of recordings, optionally cut to a time span and de-identified for teaching.

The copy is written by the same writer as a live recording, from what the replay reader decodes, with the
source's physical range so the samples come back within one quantisation step, and the source's own prefilter
text (a copy of someone else's file is not "raw as the device delivered it"). An EDF/BDF source keeps its own
patient and recording fields; any other format (WFDB, BrainFlow) gets EDF+ subfields built from what its reader
found, never its raw bytes.

De-identifying blanks every EDF+ patient subfield (code, sex, birth date, name and anything after them), the
hospital administration code and the technician, and sets the start date to 1 January 1985, the EDF+ convention
for an anonymised recording. The annotations that keep typed patient and people fields whole ("Patient ID: Δέλτα",
"Operator: …", see :mod:`emgscope.recording.session`) are dropped. Other annotations are free text and may name
the patient too ("Notes: Mr Smith…"): the patient's code, name (and each part of it) and birth date, as the header
holds them and as they were typed, are cut out of them. Signals and annotations are kept: annotations that overlap
the span, shifted to its start and cut to it, and the session facts written at 0 s (muscle, side, device) when
the span starts later.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from emgscope.recording import edfplus
from emgscope.recording.ascii_text import to_ascii, transliterate
from emgscope.recording.journal import journal_path
from emgscope.recording.session import (
    PATIENT_ID,
    PATIENT_NAME,
    edf_date,
    header_text,
    is_personal,
    personal_text,
    subfield,
)
from emgscope.recording.writer import EdfPlusWriter, RecordingFull
from emgscope.replay.reader import Annotation, Recording, RecordingError, open_recording

ANONYMOUS_START = datetime(1985, 1, 1)
BLANK_PATIENT = "X X X X"
CHUNK_SECONDS = 1.0
REDACTED = "[removed]"
MIN_NAME_PART_CHARS = 3
"""Parts of a name shorter than this (initials, "de", "Jr") are not cut out of annotations: too many false hits."""


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
    if not rates:
        raise ExportError(f"{source.name} holds no data signals, only annotations: there is nothing to copy")
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
    prefilters = {recording.signals[i].prefilter.strip() for i in signals}
    try:
        layout = edfplus.make_layout(
            target.suffix.lower() == ".bdf",
            tuple(recording.signals[i].label for i in signals),
            rate,
            range_uv * factor,
            total_samples=stop - first,
            prefilter=prefilters.pop() if len(prefilters) == 1 else "as in the source file (differs by signal)",
        )
    except edfplus.FormatError as exc:
        raise ExportError(str(exc)) from None
    patient, recording_field, start = _header_fields(recording, deidentify)
    if start is not ANONYMOUS_START:
        start += timedelta(seconds=first / rate)  # the copy's first sample is this much later than the source's
    kept = _annotations_in_span(recording.annotations, first / rate, stop / rate)
    if deidentify:
        typed = _typed_patient(recording.annotations)
        kept = [
            Annotation(a.onset_s, a.duration_s, redact(a.text, recording.patient, typed))
            for a in kept
            if not is_personal(a.text)
        ]
    try:
        writer = EdfPlusWriter(target, layout, patient, recording_field, start)
    except OSError as exc:
        raise ExportError(f"cannot create {target}: {exc.strerror or exc}") from None
    try:
        for a in kept:
            writer.annotate(a.onset_s, a.text, a.duration_s)
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


def _annotations_in_span(annotations: list[Annotation], start_s: float, stop_s: float) -> list[Annotation]:
    """Annotations overlapping ``[start_s, stop_s]``, in the copy's time: shifted to its start and cut to it.

    A REST segment that began before the span still labels the part of it inside the span; the facts written
    at 0 s (muscle, side, device) describe the whole recording and stay at 0 s.
    """
    kept = []
    for a in annotations:
        end = a.onset_s + a.duration_s
        if a.onset_s == 0.0 and a.duration_s == 0.0 and start_s > 0:
            kept.append(a)
        elif a.onset_s <= stop_s and (end > start_s or a.onset_s >= start_s):
            onset = max(a.onset_s, start_s)
            duration = max(0.0, min(end, stop_s) - onset) if a.duration_s > 0 else 0.0
            kept.append(Annotation(onset - start_s, duration, a.text))
    return kept


def redact(text: str, patient: dict[str, str], typed: Iterable[str] = ()) -> str:
    """``text`` with the patient's code, name (whole and each part) and birth date cut out.

    ``patient`` holds the header's fields, ``typed`` the patient ID and name as typed (from the annotations that
    keep them whole). Matched case- and accent-insensitively, and through the header's transliteration too: the
    header holds ``Zoe_Mueller`` (EDF headers are ASCII) while a typed note says "Zoë Müller" or "Zoe Muller".
    """
    name = patient.get("name", "")
    secrets = {patient.get("code", ""), patient.get("birthdate", ""), name, name.replace("_", " ")}
    for whole in (name, *typed):
        secrets |= {whole, *(part for part in re.split(r"[\s_,]+", whole) if len(part) >= MIN_NAME_PART_CHARS)}
    secrets = {s.strip() for s in secrets if s.strip() and s.strip().upper() != "X"}
    folded = {f(s) for s in secrets for f in (_fold, to_ascii)}
    if not folded:
        return text
    pattern = re.compile("|".join(re.escape(s) for s in sorted(folded, key=len, reverse=True)), re.IGNORECASE)
    ascii_text, origin = transliterate(text)
    spans = [m.span() for m in pattern.finditer(_fold(text))]
    spans += [(origin[m.start()], origin[m.end() - 1] + 1) for m in pattern.finditer(ascii_text) if m.end() > m.start()]
    merged: list[tuple[int, int]] = []
    for first, stop in sorted(spans):
        if merged and first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((first, stop))
    for first, stop in reversed(merged):
        text = text[:first] + REDACTED + text[stop:]
    return text


def _typed_patient(annotations: list[Annotation]) -> list[str]:
    """The patient ID and name as typed, from the annotations that keep them whole (each part of a split one)."""
    typed = []
    for annotation in annotations:
        found = personal_text(annotation.text)
        if found is not None and found[0] in (PATIENT_ID, PATIENT_NAME):
            typed.append(found[1])
    return typed


def _fold(text: str) -> str:
    """Accents dropped character by character, so positions in the result are positions in ``text``."""
    out = []
    for char in text:
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        out.append(base if len(base) == 1 else char)
    return "".join(out)


def _header_fields(recording: Recording, deidentify: bool) -> tuple[str, str, datetime]:
    """The patient and recording fields and start for the copy: the source's own, or blanked ones."""
    start = recording.start or ANONYMOUS_START
    if deidentify:
        equipment = recording.recording_info.get("equipment", "") or _equipment(recording)
        return BLANK_PATIENT, header_text(f"Startdate X X X {subfield(equipment)}"), ANONYMOUS_START
    if recording.format[:3] in ("EDF", "BDF"):
        with recording.path.open("rb") as fh:
            head = fh.read(168)
        return head[8:88].decode("ascii", "replace").strip(), head[88:168].decode("ascii", "replace").strip(), start
    p = recording.patient
    fields = (subfield(p.get("code", "")), p.get("sex") or "X", subfield(p.get("birthdate", "")))
    patient = " ".join((*fields, subfield(p.get("name", ""))))
    additional = p.get("additional", "").strip()
    if additional:
        patient += " " + subfield(additional)
    startdate = edf_date(recording.start.date()) if recording.start else "X"
    return header_text(patient), header_text(f"Startdate {startdate} X X {subfield(_equipment(recording))}"), start


def _equipment(recording: Recording) -> str:
    """What wrote a non-EDF source, for the copy's equipment subfield (``WFDB emg_healthy``)."""
    info = recording.recording_info
    return " ".join(x for x in (recording.format, info.get("board", "") or info.get("record", "")) if x)
