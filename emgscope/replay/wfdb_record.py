"""PhysioNet WFDB records: the ``.hea`` header and its ``.dat`` signal files (formats 16 and 212).

The real clinical needle EMG we have (PhysioNet emgdb) is WFDB format 16. The ``wfdb`` package reads it too, but it
pulls in pandas and more for a format this small, so it serves only as the reference in the tests. Samples are
decoded on demand from a memory map and scaled ``(digital - baseline) / gain`` as the WFDB specification says.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from emgscope.core.units import counted
from emgscope.replay.reader import Recording, RecordingError, SignalInfo, check_sample_rate

DEFAULT_GAIN = 200.0
"""The gain WFDB assumes when a header gives none (or zero)."""
DEFAULT_RATE = 250.0
"""The sample rate WFDB assumes when a header gives none."""
SUPPORTED_FORMATS = (16, 212)
MAX_RESOLUTION_BITS = 32
"""WFDB keeps samples, baselines and ADC zeros in C ``int`` (32 bits): a header beyond that is damaged."""
_SIGNAL_SPEC = re.compile(r"(?P<fmt>\d+)(?:x(?P<spf>\d+))?(?::(?P<skew>\d+))?(?:\+(?P<offset>\d+))?")
_GAIN_SPEC = re.compile(r"(?P<gain>[+-]?[\d.eE+-]+)(?:\((?P<baseline>[+-]?\d+)\))?(?:/(?P<unit>.+))?")
_INVALID_SAMPLE = {16: -32768, 212: -2048}


@dataclass
class _Signal:
    file: Path
    fmt: int
    byte_offset: int
    gain: float
    baseline: int
    column: int
    columns: int
    """Position of this signal among those interleaved in its file, and how many there are."""
    _mapped: np.ndarray | None = None

    def frames(self) -> np.ndarray:
        """Format 16: the file mapped once as ``(frames, columns)`` (mapping it per read costs more than the read)."""
        if self._mapped is None:
            values = np.memmap(self.file, dtype="<i2", mode="r", offset=self.byte_offset)
            self._mapped = values[: values.size - values.size % self.columns].reshape(-1, self.columns)
        return self._mapped


def read_wfdb(header_path: Path) -> Recording:
    """Parse a WFDB header and return a Recording reading its signal files lazily."""
    if not header_path.is_file():
        raise RecordingError("the WFDB header (.hea) next to the signal file is missing")
    raw_lines = header_path.read_text(encoding="latin-1").splitlines()
    comments = [line.lstrip("#").strip() for line in raw_lines if line.startswith("#")]
    lines = [line.split("#")[0].strip() for line in raw_lines]
    lines = [line for line in lines if line]
    if not lines:
        raise RecordingError("the header is empty")
    record = lines[0].split()
    if len(record) < 2 or not record[1].isdigit():
        raise RecordingError(f"the record line does not give the number of signals: {lines[0]!r}")
    if "/" in record[0]:
        raise RecordingError("multi-segment WFDB records are not supported")
    n_signals = int(record[1])
    rate = DEFAULT_RATE
    if len(record) > 2:
        rate_text = record[2].split("/")[0]
        try:
            rate = float(rate_text)
        except ValueError:
            raise RecordingError(f"the sampling frequency is not a number: {record[2]!r}") from None
    check_sample_rate(rate, "the sampling frequency")
    if len(record) <= 3 or not record[3].isdigit():
        raise RecordingError("the record line gives no number of samples per signal")
    n_samples = int(record[3])
    start = _start(record[4:6])
    if len(lines) - 1 < n_signals:
        raise RecordingError(f"the header announces {n_signals} signals but describes {len(lines) - 1}")

    specs = [line.split(maxsplit=8) for line in lines[1 : n_signals + 1]]
    per_file: dict[str, int] = {}
    for spec in specs:
        per_file[spec[0]] = per_file.get(spec[0], 0) + 1
    column_of: dict[str, int] = {}
    signals: list[SignalInfo] = []
    decoders: list[_Signal] = []
    for i, spec in enumerate(specs):
        where = f"signal {i + 1}"
        if len(spec) < 2:
            raise RecordingError(f"{where}: no storage format")
        fmt_match = _SIGNAL_SPEC.fullmatch(spec[1])
        if not fmt_match:
            raise RecordingError(f"{where}: storage format {spec[1]!r} is not understood")
        fmt = int(fmt_match["fmt"])
        if fmt not in SUPPORTED_FORMATS:
            raise RecordingError(f"{where}: storage format {fmt} is not supported (only 16 and 212)")
        if fmt_match["spf"] not in (None, "1") or fmt_match["skew"] not in (None, "0"):
            raise RecordingError(f"{where}: several samples per frame or skew are not supported")
        gain, baseline, unit = DEFAULT_GAIN, None, "mV"
        if len(spec) > 2:
            gain_match = _GAIN_SPEC.fullmatch(spec[2])
            if not gain_match:
                raise RecordingError(f"{where}: gain {spec[2]!r} is not understood")
            gain = _gain(gain_match["gain"], where)
            baseline = _whole(gain_match["baseline"], "baseline", where) if gain_match["baseline"] else None
            unit = gain_match["unit"] or unit
        resolution = _whole(spec[3], "ADC resolution", where) if len(spec) > 3 else (12 if fmt == 212 else 16)
        if not 1 <= resolution <= MAX_RESOLUTION_BITS:
            raise RecordingError(f"{where}: ADC resolution {resolution} bits is outside 1–{MAX_RESOLUTION_BITS}")
        adc_zero = _whole(spec[4], "ADC zero", where) if len(spec) > 4 else 0
        if baseline is None:
            baseline = adc_zero
        description = spec[8] if len(spec) > 8 else f"signal {i + 1}"
        file = _signal_file(header_path, spec[0], where)
        column = column_of.get(spec[0], 0)
        column_of[spec[0]] = column + 1
        decoder = _Signal(file, fmt, int(fmt_match["offset"] or 0), gain, baseline, column, per_file[spec[0]])
        _check_size(decoder, n_samples, where)
        decoders.append(decoder)
        half = 1 << (resolution - 1)
        signals.append(
            SignalInfo(
                label=description,
                sample_rate=rate,
                unit=unit,
                physical_min=(-half - baseline) / gain,
                physical_max=(half - 1 - baseline) / gain,
                digital_min=-half,
                digital_max=half - 1,
                prefilter="",
                transducer="",
                n_samples=n_samples,
            )
        )

    def reader(index: int, first: int, stop: int) -> np.ndarray:
        return _decode(decoders[index], first, stop)

    return Recording(
        path=header_path,
        format="WFDB",
        start=start,
        patient=_patient(comments),
        recording_info={"record": record[0], "comments": " / ".join(comments)},
        signals=signals,
        annotations=[],
        duration_s=n_samples / rate,
        reader=reader,
    )


def _signal_file(header_path: Path, name: str, where: str) -> Path:
    """The signal file a header names, which must be a plain file name in the header's own folder.

    A header is someone else's text: a name such as ``../../etc/passwd``, ``/etc/passwd`` or ``sub/x.dat`` would
    have us read (and replay as a signal) whatever file it points at, so only a name beside the header is read.
    """
    if name in (".", "..") or "/" in name or "\\" in name:
        raise RecordingError(
            f"{where}: its signal file {name!r} is not a file beside the header (signal files are read only from "
            "the header's own folder)"
        )
    file = header_path.parent / name
    if not file.is_file():
        raise RecordingError(f"{where}: its signal file {name} is missing")
    return file


def _gain(text: str, where: str) -> float:
    """ADC units per physical unit; 0 (or none) means WFDB's default, and it must be a finite number."""
    try:
        gain = float(text)
    except ValueError:
        raise RecordingError(f"{where}: gain {text!r} is not a number") from None
    if not math.isfinite(gain):
        raise RecordingError(f"{where}: gain {text!r} is not a finite number")
    return gain or DEFAULT_GAIN


def _whole(text: str, field_name: str, where: str) -> int:
    """A whole-number field (baseline, resolution, ADC zero) within WFDB's 32-bit ``int``."""
    if not re.fullmatch(r"[+-]?\d+", text):
        raise RecordingError(f"{where}: {field_name} {text!r} is not a whole number")
    value = int(text)
    if abs(value) >= 1 << MAX_RESOLUTION_BITS:
        raise RecordingError(f"{where}: {field_name} {value} is beyond what a WFDB header can hold")
    return value


def _patient(comments: list[str]) -> dict[str, str]:
    """Sex and age from PhysioNet's ``<age>: 44 <sex>: M`` comment convention, when present."""
    patient = {"code": "", "sex": "", "birthdate": "", "name": "", "additional": ""}
    for comment in comments:
        sex = re.search(r"<sex>:\s*([MF])\b", comment)
        age = re.search(r"<age>:\s*(\d+)", comment)
        if sex:
            patient["sex"] = sex[1]
        if age:
            patient["additional"] = f"age {age[1]}"
    return patient


def _start(fields: list[str]) -> datetime | None:
    """Base time (``hh:mm:ss``) and date (``dd/mm/yyyy``), when the header gives both."""
    if len(fields) < 2:
        return None
    try:
        return datetime.strptime(f"{fields[1]} {fields[0].split('.')[0]}", "%d/%m/%Y %H:%M:%S")
    except ValueError:
        return None


def _bytes_needed(signal: _Signal, n_samples: int) -> int:
    values = n_samples * signal.columns
    return signal.byte_offset + (values * 2 if signal.fmt == 16 else (values * 3 + 1) // 2)


def _check_size(signal: _Signal, n_samples: int, where: str) -> None:
    needed = _bytes_needed(signal, n_samples)
    size = signal.file.stat().st_size
    if size < needed:
        raise RecordingError(
            f"{where}: signal file {signal.file.name} is truncated ({size} of {needed} bytes, "
            f"{counted((needed - size) // (2 * signal.columns), 'sample')} missing)"
        )


def _decode(signal: _Signal, start: int, stop: int) -> np.ndarray:
    """Samples ``[start, stop)`` of one signal in its physical unit; invalid-sample codes become NaN."""
    if signal.fmt == 16:
        digital = signal.frames()[start:stop, signal.column].astype(np.float64)
    else:
        first, last = start * signal.columns, stop * signal.columns
        first_pair, last_pair = first // 2, (last + 1) // 2
        raw = np.fromfile(
            signal.file, dtype=np.uint8, count=(last_pair - first_pair) * 3, offset=signal.byte_offset + first_pair * 3
        ).astype(np.int32)
        raw = np.concatenate([raw, np.zeros(-raw.size % 3, dtype=np.int32)]).reshape(-1, 3)
        pairs = np.empty((raw.shape[0], 2), dtype=np.int32)
        pairs[:, 0] = raw[:, 0] | ((raw[:, 1] & 0x0F) << 8)
        pairs[:, 1] = raw[:, 2] | ((raw[:, 1] & 0xF0) << 4)
        flat = pairs.reshape(-1)
        flat[flat >= 2048] -= 4096
        values_212 = flat[first - first_pair * 2 : last - first_pair * 2]
        digital = values_212.reshape(-1, signal.columns)[:, signal.column].astype(np.float64)
    invalid = digital == _INVALID_SAMPLE[signal.fmt]
    physical = (digital - signal.baseline) / signal.gain
    physical[invalid] = np.nan
    return physical
