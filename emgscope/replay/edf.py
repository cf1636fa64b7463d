"""EDF, EDF+, BDF and BDF+ files: a strict-but-tolerant header parser and memory-mapped sample decoding.

Why our own parser and not pyEDFlib alone: pyEDFlib refuses files that every other reader opens (leading spaces
in the number of records, an impossible start date, an EDF+C tag without annotation signal) and its errors do not
say which field is wrong. Here every header field is checked and a defect that makes the file unreadable raises
:class:`RecordingError` naming the field and the signal; an oddity that does not (an invalid start date, a
byte after the last record) is tolerated and noted in ``Recording.warnings``.

Samples are decoded on demand from a read-only memory map: 16-bit little-endian for EDF, 24-bit little-endian for
BDF, scaled ``(digital - digital_min) × gain + physical_min`` as the specification says. EDF+ annotations are
time-stamped annotation lists (TALs) in the ``EDF Annotations`` signal, text in UTF-8.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from emgscope.core.units import counted
from emgscope.replay.reader import (
    ANNOTATION_LABELS,
    Annotation,
    Recording,
    RecordingError,
    SignalInfo,
    check_sample_rate,
)

FIXED_HEADER_BYTES = 256
SIGNAL_HEADER_FIELDS: tuple[tuple[str, int], ...] = (
    ("label", 16),
    ("transducer type", 80),
    ("physical dimension", 8),
    ("physical minimum", 8),
    ("physical maximum", 8),
    ("digital minimum", 8),
    ("digital maximum", 8),
    ("prefiltering", 80),
    ("number of samples in each data record", 8),
    ("reserved", 32),
)
MAX_SIGNALS = 4096
MAX_WARNINGS_PER_KIND = 3
"""A file with a thousand bad annotations gets three warnings and a count, not a thousand lines."""

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


@dataclass(frozen=True)
class _Layout:
    """Where each signal's samples sit inside a data record."""

    header_bytes: int
    n_records: int
    record_bytes: int
    bytes_per_sample: int
    samples_per_record: tuple[int, ...]
    offsets: tuple[int, ...]
    """Sample offset of each signal inside a record."""


def read_edf(path: Path) -> Recording:
    """Parse the header of an EDF/BDF file, decode its annotations and return a lazily reading Recording."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        fixed = fh.read(FIXED_HEADER_BYTES)
        if len(fixed) < FIXED_HEADER_BYTES:
            size = counted(len(fixed), "byte")
            raise RecordingError(f"the file is {size} long, shorter than the 256-byte EDF/BDF header")
        if fixed[:8] == b"\xffBIOSEMI":
            bdf = True
        elif fixed[:8] == b"0       ":
            bdf = False
        else:
            raise RecordingError(
                f"header field 'version' is {fixed[:8]!r}, expected '0' (EDF) or '\\xffBIOSEMI' (BDF): "
                "not an EDF/BDF file"
            )
        text = fixed.decode("latin-1")
        try:
            n_signals = _integer(text[252:256], "number of signals")
            if not 0 <= n_signals <= MAX_SIGNALS:
                raise RecordingError(f"header field 'number of signals' is {n_signals}, outside 0–{MAX_SIGNALS}")
            header_bytes = _integer(text[184:192], "number of bytes in header")
            if header_bytes != FIXED_HEADER_BYTES * (n_signals + 1):
                raise RecordingError(
                    f"header field 'number of bytes in header' is {header_bytes}, but {n_signals} signals "
                    f"need {FIXED_HEADER_BYTES * (n_signals + 1)}"
                )
        except RecordingError as exc:
            raise RecordingError(f"{exc}{_shift_hint(text)}") from None
        rest = fh.read(header_bytes - FIXED_HEADER_BYTES)
    if len(rest) < header_bytes - FIXED_HEADER_BYTES:
        raise RecordingError(f"the file ends inside the signal headers ({size} of {header_bytes} header bytes)")
    columns = _signal_columns(rest.decode("latin-1"), n_signals)
    warnings: list[str] = []
    reserved = text[192:236].strip()
    labels = [c["label"].strip() for c in columns]
    has_annotations = any(label in ANNOTATION_LABELS for label in labels)
    plus = reserved[:5] if reserved[:5] in ("EDF+C", "EDF+D", "BDF+C", "BDF+D") else ""
    if plus and not has_annotations:
        warnings.append(f"the reserved field says {plus} but there is no annotation signal: read as plain EDF/BDF")
        plus = ""
    kind = "BDF" if bdf else "EDF"
    file_format = f"{kind}+{plus[4]}" if plus else kind

    n_records = _integer(text[236:244], "number of data records")
    record_duration = _number(text[244:252], "duration of a data record")
    spr = tuple(
        _integer(c["number of samples in each data record"], "number of samples in each data record", i, c)
        for i, c in enumerate(columns)
    )
    for i, n in enumerate(spr):
        if n < 1:
            raise RecordingError(f"signal {i + 1} ('{labels[i]}'): 'number of samples in each data record' is {n}")
    bytes_per_sample = 3 if bdf else 2
    record_bytes = sum(spr) * bytes_per_sample
    data_bytes = size - header_bytes
    if n_records == -1:
        n_records = data_bytes // record_bytes if record_bytes else 0
        warnings.append(f"the number of data records is -1 (recording not closed): {n_records} complete records read")
    elif n_records < 0:
        raise RecordingError(f"header field 'number of data records' is {n_records}")
    expected = n_records * record_bytes
    if data_bytes < expected:
        raise RecordingError(
            f"the file is truncated: the header announces {n_records} data records of {record_bytes} bytes, "
            f"but it holds only {data_bytes / record_bytes:.2f} ({expected - data_bytes} bytes missing)"
        )
    if data_bytes > expected:
        warnings.append(f"{data_bytes - expected} bytes after the last data record are ignored")
    has_data = any(label not in ANNOTATION_LABELS for label in labels)
    if has_data and record_duration <= 0:
        raise RecordingError(f"header field 'duration of a data record' is {record_duration:g}; it must be positive")

    signals = []
    scales: list[tuple[float, float, int]] = []
    for i, c in enumerate(columns):
        label = labels[i]
        pmin = _number(c["physical minimum"], "physical minimum", i, c)
        pmax = _number(c["physical maximum"], "physical maximum", i, c)
        dmin = _integer(c["digital minimum"], "digital minimum", i, c)
        dmax = _integer(c["digital maximum"], "digital maximum", i, c)
        low, high = -(1 << (8 * bytes_per_sample - 1)), (1 << (8 * bytes_per_sample - 1)) - 1
        for value, field_name in ((dmin, "digital minimum"), (dmax, "digital maximum")):
            if not low <= value <= high:
                where = f"signal {i + 1} ('{label}'): '{field_name}'"
                raise RecordingError(f"{where} {value} is outside what {8 * bytes_per_sample} bits hold")
        if label not in ANNOTATION_LABELS:
            if dmax <= dmin:
                raise RecordingError(f"signal {i + 1} ('{label}'): digital maximum {dmax} is not above minimum {dmin}")
            if pmax == pmin:
                raise RecordingError(f"signal {i + 1} ('{label}'): physical minimum and maximum are both {pmin:g}")
        gain = (pmax - pmin) / (dmax - dmin) if dmax != dmin else 1.0
        if not math.isfinite(gain):
            raise RecordingError(f"signal {i + 1} ('{label}'): the physical range {pmin:g} … {pmax:g} is too wide")
        scales.append((gain, pmin, dmin))
        rate = spr[i] / record_duration if record_duration > 0 else 0.0
        if label not in ANNOTATION_LABELS:
            per_record = f"{counted(int(spr[i]), 'sample')} per {record_duration:g} s record"
            check_sample_rate(rate, f"signal {i + 1} ('{label}'): {per_record}")
        signals.append(
            SignalInfo(
                label=label,
                sample_rate=rate,
                unit=c["physical dimension"].strip(),
                physical_min=pmin,
                physical_max=pmax,
                digital_min=dmin,
                digital_max=dmax,
                prefilter=c["prefiltering"].strip(),
                transducer=c["transducer type"].strip(),
                n_samples=n_records * spr[i],
            )
        )
    offsets = tuple(int(x) for x in np.concatenate([[0], np.cumsum(spr)[:-1]])) if spr else ()
    layout = _Layout(header_bytes, n_records, record_bytes, bytes_per_sample, spr, offsets)
    records = _map(path, layout)

    patient_text, recording_text = text[8:88].strip(), text[88:168].strip()
    patient = _patient(patient_text, bool(plus))
    recording_info = _recording_info(recording_text, bool(plus))
    start = _start(text[168:176], text[176:184], recording_info, warnings)

    annotations: list[Annotation] = []
    record_onsets: list[float] = []
    ann_indices = [i for i, label in enumerate(labels) if label in ANNOTATION_LABELS]
    if ann_indices and records is not None:
        annotations, record_onsets = _annotations(records, layout, ann_indices, warnings)
    if record_onsets:
        offset = record_onsets[0]
        if start is not None and offset > 0:
            start += timedelta(seconds=offset)
        if file_format.endswith("+D"):
            annotations = _to_data_time(annotations, record_onsets, record_duration, warnings)
        else:
            annotations = [Annotation(a.onset_s - offset, a.duration_s, a.text) for a in annotations]

    def reader(index: int, first: int, stop: int) -> np.ndarray:
        return _decode(records, layout, [scales[index]], [index], first, stop)[0]

    def block_reader(indices: Sequence[int], first: int, stop: int) -> np.ndarray:
        return _decode(records, layout, [scales[i] for i in indices], indices, first, stop)

    return Recording(
        path=path,
        format=file_format,
        start=start,
        patient=patient,
        recording_info=recording_info,
        signals=signals,
        annotations=annotations,
        duration_s=n_records * record_duration
        if has_data
        else max((a.onset_s + a.duration_s for a in annotations), default=0.0),
        reader=reader,
        warnings=warnings,
        block_reader=block_reader,
    )


def _shift_hint(text: str) -> str:
    """Name a misplaced header when its size and signal count make sense a few bytes off their places.

    A writer that makes one text field a byte short shifts every later field; saying so points at the real
    defect instead of at the first number that no longer parses.
    """
    for shift in (-1, 1, -2, 2, -3, 3):
        size, count = text[184 + shift : 192 + shift].strip(), text[252 + shift : 256 + shift].strip()
        if _INT.fullmatch(size) and _INT.fullmatch(count) and int(size) == FIXED_HEADER_BYTES * (int(count) + 1):
            where = "early" if shift < 0 else "late"
            moved = counted(abs(shift), "byte")
            return f" (the header fields start {moved} {where}: a text field before them is mis-sized)"
    return ""


def _signal_columns(text: str, n_signals: int) -> list[dict[str, str]]:
    """Split the signal headers (stored field by field for all signals) into one dict per signal."""
    columns: list[dict[str, str]] = [{} for _ in range(n_signals)]
    pos = 0
    for field_name, width in SIGNAL_HEADER_FIELDS:
        for column in columns:
            column[field_name] = text[pos : pos + width]
            pos += width
    return columns


def _where(field_name: str, index: int | None, column: dict[str, str] | None) -> str:
    if index is None or column is None:
        return f"header field '{field_name}'"
    return f"signal {index + 1} ('{column['label'].strip()}'): '{field_name}'"


def _integer(raw: str, field_name: str, index: int | None = None, column: dict[str, str] | None = None) -> int:
    value = raw.strip()
    if _INT.fullmatch(value):
        return int(value)
    if _FLOAT.fullmatch(value):
        if float(value).is_integer():
            return int(float(value))
        raise RecordingError(f"{_where(field_name, index, column)} is not a whole number: {raw!r}")
    raise RecordingError(f"{_where(field_name, index, column)} is not a number: {raw!r}")


def _number(raw: str, field_name: str, index: int | None = None, column: dict[str, str] | None = None) -> float:
    value = raw.strip()
    if _FLOAT.fullmatch(value):
        number = float(value)
        if math.isfinite(number):
            return number
        raise RecordingError(f"{_where(field_name, index, column)} is beyond any number a file can mean: {raw!r}")
    raise RecordingError(f"{_where(field_name, index, column)} is not a number: {raw!r}")


def _map(path: Path, layout: _Layout) -> np.ndarray | None:
    """The data records as a read-only ``(records, bytes)`` memory map (``None`` for a file with no records)."""
    if layout.n_records == 0 or layout.record_bytes == 0:
        return None
    return np.memmap(
        path, dtype=np.uint8, mode="r", offset=layout.header_bytes, shape=(layout.n_records, layout.record_bytes)
    )


def _decode(
    records: np.ndarray | None,
    layout: _Layout,
    scales: list[tuple[float, float, int]],
    indices: Sequence[int],
    start: int,
    stop: int,
) -> np.ndarray:
    """Samples ``[start, stop)`` of signals with the same samples per record, ``(len(indices), n)``, physical.

    Only the bytes of the wanted samples are touched: replay asks for a few milliseconds at a time, and decoding
    whole records of a 139-signal file for each would cost more than the pump can spare.
    """
    if records is None:
        return np.empty((len(indices), 0), dtype=np.float64)
    spr = layout.samples_per_record[indices[0]]
    first_record, last_record = start // spr, (stop - 1) // spr + 1
    low, high = 0, spr
    if last_record - first_record == 1:
        low, high = start - first_record * spr, stop - first_record * spr
    columns = np.asarray([layout.offsets[i] for i in indices])[:, None] + np.arange(low, high)
    block = records[first_record:last_record]
    if layout.bytes_per_sample == 2:
        digital = block.view("<i2")[:, columns].astype(np.float64)
    else:
        wide = block[:, 3 * columns[..., None] + np.arange(3)].astype(np.int32)
        packed = wide[..., 0] | (wide[..., 1] << 8) | (wide[..., 2] << 16)
        packed[packed >= 1 << 23] -= 1 << 24
        digital = packed.astype(np.float64)
    skip = start - first_record * spr - low
    digital = digital.transpose(1, 0, 2).reshape(len(indices), -1)[:, skip : skip + stop - start]
    gain, pmin, dmin = (np.array(values)[:, None] for values in zip(*scales, strict=True))
    return (digital - dmin) * gain + pmin


def _annotations(
    records: np.ndarray, layout: _Layout, indices: list[int], warnings: list[str]
) -> tuple[list[Annotation], list[float]]:
    """All annotations of all annotation signals, and each record's start time from its time-keeping TAL."""
    bps = layout.bytes_per_sample
    annotations: list[Annotation] = []
    onsets: list[float] = []
    bad = 0
    for n_signal, index in enumerate(indices):
        begin = layout.offsets[index] * bps
        block = records[:, begin : begin + layout.samples_per_record[index] * bps]
        for record in range(layout.n_records):
            keeping, found, malformed = _parse_tals(block[record].tobytes())
            annotations += found
            bad += malformed
            if n_signal == 0 and keeping is not None:
                onsets.append(keeping)
    if bad:
        warnings.append(f"{bad} malformed annotation entries were skipped")
    if onsets and len(onsets) != layout.n_records:
        warnings.append("some data records have no time-keeping annotation: record start times ignored")
        onsets = []
    annotations.sort(key=lambda a: a.onset_s)
    return annotations, onsets


def _parse_tals(raw: bytes) -> tuple[float | None, list[Annotation], int]:
    """One record's TALs → (time-keeping onset, annotations, number of malformed TALs)."""
    keeping: float | None = None
    found: list[Annotation] = []
    malformed = 0
    for tal in raw.split(b"\x00"):
        if not tal:
            continue
        parts = tal.split(b"\x14")
        timing = parts[0].split(b"\x15")
        onset = _tal_number(timing[0], signed=True)
        duration = _tal_number(timing[1], signed=False) if len(timing) > 1 and timing[1] else 0.0
        if onset is None or duration is None or len(parts) < 2 or len(timing) > 2:
            malformed += 1
            continue
        texts = parts[1:]
        if keeping is None and texts[0] == b"":
            keeping = onset
            texts = texts[1:]
        for text in texts:
            if text:
                found.append(Annotation(onset, duration, text.decode("utf-8", "replace").strip()))
    return keeping, found, malformed


def _tal_number(raw: bytes, signed: bool) -> float | None:
    value = raw.decode("latin-1")
    if signed and value[:1] not in ("+", "-"):
        return None
    return float(value) if _FLOAT.fullmatch(value) else None


def _to_data_time(
    annotations: list[Annotation], record_onsets: list[float], record_duration: float, warnings: list[str]
) -> list[Annotation]:
    """EDF+D: move annotation onsets from file time (with gaps) to data time (records back to back).

    Replay plays the records one after another, so an annotation must sit on the samples it was made on.
    """
    onsets = np.asarray(record_onsets)
    gaps = np.diff(onsets) - record_duration
    n_gaps = int(np.count_nonzero(gaps > 1e-6))
    if n_gaps:
        warnings.append(
            f"discontinuous recording: {counted(n_gaps, 'gap')} ({gaps[gaps > 0].sum():g} s) are replayed back to back"
        )
    moved = []
    for a in annotations:
        record = max(0, int(np.searchsorted(onsets, a.onset_s, side="right")) - 1)
        within = min(max(a.onset_s - onsets[record], 0.0), record_duration)
        moved.append(Annotation(record * record_duration + within, a.duration_s, a.text))
    return moved


def _patient(text: str, plus: bool) -> dict[str, str]:
    """EDF+ patient subfields (code, sex, birthdate, name, additional); free text goes to ``additional``."""
    keys = ("code", "sex", "birthdate", "name")
    patient = dict.fromkeys((*keys, "additional"), "")
    parts = text.split(" ")
    if plus and len(parts) >= 4:
        for key, value in zip(keys, parts, strict=False):
            patient[key] = "" if value == "X" else value
        patient["additional"] = " ".join(parts[4:])
    else:
        patient["additional"] = text
    return patient


def _recording_info(text: str, plus: bool) -> dict[str, str]:
    """EDF+ recording subfields after ``Startdate``; a plain EDF recording field is kept as ``text``."""
    parts = text.split(" ")
    if plus and len(parts) >= 5 and parts[0] == "Startdate":
        values = ["" if p == "X" else p for p in parts[1:5]]
        return dict(
            zip(("startdate", "admin_code", "technician", "equipment"), values, strict=True),
            additional=" ".join(parts[5:]),
        )
    return {"text": text}


def _start(date: str, time: str, recording_info: dict[str, str], warnings: list[str]) -> datetime | None:
    """Start date and time from the header (``dd.mm.yy``, ``hh.mm.ss``); ``None`` with a warning if invalid.

    Two-digit years 85–99 are 19xx, others 20xx (the EDF rule); an EDF+ ``Startdate`` with a four-digit year wins.
    """
    try:
        day, month, year = (int(x) for x in date.split("."))
        hour, minute, second = (int(x) for x in time.split("."))
        year += 1900 if year >= 85 else 2000
        long_date = recording_info.get("startdate", "").split("-")
        if len(long_date) == 3 and long_date[2].isdigit() and long_date[1].upper() in _MONTHS:
            year = int(long_date[2])
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        warnings.append(f"the start date/time '{date} {time}' is not a valid date: start time unknown")
        return None
