"""The EDF+/BDF+ format as this app writes it: record layout, header bytes, sample encoding and annotation lists.

One rate for every data signal, one annotation signal last. A data record must stay under the EDF
specification's 61,440 bytes, so high-rate needle data gets records shorter than a second; the record duration
is written in 8 ASCII characters, so only a duration whose decimal text is *exact* is accepted (a rounded one
would silently change the sample rate every reader computes). Numbers in the header are the exact text the
readers parse, and samples are quantised with the gain and offset those texts give, so what a reader decodes is
what was meant to within one quantisation step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import ROUND_CEILING, Decimal
from fractions import Fraction

import numpy as np

from emgscope.core.units import counted
from emgscope.recording.ascii_text import to_ascii

MAX_RECORD_BYTES = 61_440
"""The EDF specification's recommended ceiling for one data record."""
RAW_PREFILTER = "None (raw signal as the device delivered it)"
"""The prefilter text of a live recording: the app's filters only shape the display and sound."""
ANNOTATION_AREA_BYTES = 480
"""Bytes per record for the annotation signal: the time-keeping list plus a few markers or a typed note. A session
whose facts at 0 s need more gets a larger area (:func:`annotation_area`)."""
MAX_RECORD_SECONDS = Fraction(1, 2)
"""Records of at most half a second: a crash or a Stop with no more data to come loses less than one record."""
NICE_DURATIONS = ("0.5", "0.25", "0.2", "0.1", "0.05", "0.04", "0.025", "0.02", "0.01", "0.005", "0.002", "0.001")
"""Record durations preferred when the rate allows them (round numbers read well in any header viewer)."""
DIGITAL_RANGE = {True: (-8_388_608, 8_388_607), False: (-32_768, 32_767)}
"""Digital minimum and maximum for BDF (24-bit, key ``True``) and EDF (16-bit)."""
DEFAULT_PHYSICAL_MAX_UV = {True: 200_000.0, False: 10_000.0}
"""±200 mV for BDF (0.024 µV per step, room for DC-coupled amplifiers' offsets); ±10 mV for EDF (0.31 µV)."""
MAX_TEXT_BYTES = 400
"""Longest annotation text in one TAL (UTF-8 bytes). EDFlib, under pyEDFlib, keeps at most 512 bytes of an
annotation and drops the rest, and one TAL must fit a record's annotation area with the time-keeping list, so a
longer text is split into numbered parts (:func:`split_text`); nothing is cut."""
SPLIT_SEARCH_BYTES = 60
"""A long text is split at the last space within this many bytes of a part's end, mid-word when there is none."""


class FormatError(ValueError):
    """The stream cannot be written as EDF+/BDF+ (say why, in words for the user)."""


@dataclass(frozen=True)
class Layout:
    """Everything that fixes the byte layout of a file, as written in its header."""

    bdf: bool
    labels: tuple[str, ...]
    sample_rate: float
    samples_per_record: int
    record_duration: str
    """Exact decimal text of the record duration in seconds (at most 8 characters)."""
    physical_min: str
    physical_max: str
    annotation_bytes: int = ANNOTATION_AREA_BYTES
    unit: str = "uV"
    transducer: str = ""
    prefilter: str = RAW_PREFILTER

    @property
    def n_channels(self) -> int:
        return len(self.labels)

    @property
    def bytes_per_sample(self) -> int:
        return 3 if self.bdf else 2

    @property
    def digital_min(self) -> int:
        return DIGITAL_RANGE[self.bdf][0]

    @property
    def digital_max(self) -> int:
        return DIGITAL_RANGE[self.bdf][1]

    @property
    def data_bytes(self) -> int:
        return self.n_channels * self.samples_per_record * self.bytes_per_sample

    @property
    def record_bytes(self) -> int:
        return self.data_bytes + self.annotation_bytes

    @property
    def header_bytes(self) -> int:
        return 256 * (self.n_channels + 2)

    @property
    def record_seconds(self) -> Fraction:
        return Fraction(self.record_duration)

    @property
    def gain(self) -> float:
        """µV per digital step, computed from the header texts exactly as readers compute it."""
        return (float(self.physical_max) - float(self.physical_min)) / (self.digital_max - self.digital_min)

    @property
    def offset(self) -> float:
        return float(self.physical_min) - self.gain * self.digital_min

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Layout:
        data = dict(data)
        data["labels"] = tuple(data["labels"])
        return cls(**data)


def make_layout(
    bdf: bool,
    labels: tuple[str, ...],
    sample_rate: float,
    physical_max_uv: float | None = None,
    transducer: str = "",
    total_samples: int | None = None,
    prefilter: str = RAW_PREFILTER,
    first_texts: tuple[str, ...] = (),
) -> Layout:
    """The layout for a stream: the longest record of at most 0.5 s that fits 61,440 bytes, with an exact duration.

    ``first_texts``: annotations written before the first sample (the session's facts), all of which the first
    record's annotation area must hold, so that however short the recording, none of them is left out.
    """
    if not labels:
        raise FormatError("there are no channels to record")
    physical_max = _number_text(physical_max_uv if physical_max_uv else DEFAULT_PHYSICAL_MAX_UV[bdf])
    area = annotation_area(first_texts, 3 if bdf else 2)
    n, duration = choose_record(sample_rate, len(labels), 3 if bdf else 2, area, total_samples)
    return Layout(
        bdf=bdf,
        labels=tuple(to_ascii(label)[:16] for label in labels),
        sample_rate=sample_rate,
        samples_per_record=n,
        record_duration=duration,
        physical_min="-" + physical_max,
        physical_max=physical_max,
        transducer=to_ascii(transducer)[:80],
        prefilter=to_ascii(prefilter)[:80],
        annotation_bytes=area,
    )


def annotation_area(first_texts: tuple[str, ...], bytes_per_sample: int) -> int:
    """Bytes of annotation area per record: the default, or enough for the time-keeping list of the first record
    and every part of ``first_texts`` at 0 s, rounded up to whole samples of the file's width."""
    needed = len(_timekeeping(Decimal(0))) + sum(len(tal) for text in first_texts for tal in annotation_tals(0.0, text))
    area = max(ANNOTATION_AREA_BYTES, needed)
    return -(-area // bytes_per_sample) * bytes_per_sample


def choose_record(
    sample_rate: float,
    n_channels: int,
    bytes_per_sample: int,
    annotation_bytes: int,
    total_samples: int | None = None,
) -> tuple[int, str]:
    """``(samples per record, duration text)``: exact, at most 0.5 s, the record under 61,440 bytes.

    Round durations are preferred; otherwise the longest record whose duration has an exact 8-character decimal.
    When the length is known beforehand (a copy of a file), a record size that divides it is preferred, so that
    no trailing samples are cut off for want of a whole record.
    """
    if sample_rate <= 0:
        raise FormatError(f"the sample rate {sample_rate:g} Hz is not positive")
    rate = Fraction(str(sample_rate))
    room = (MAX_RECORD_BYTES - annotation_bytes) // (n_channels * bytes_per_sample)
    largest = min(room, int(rate * MAX_RECORD_SECONDS))
    if largest < 1:
        if annotation_bytes > ANNOTATION_AREA_BYTES:
            raise FormatError(
                f"the session's texts need {annotation_bytes} bytes of annotations, more than one EDF data record of "
                f"{MAX_RECORD_BYTES} bytes leaves beside {counted(n_channels, 'channel')}: shorten the notes"
            )
        raise FormatError(f"{n_channels} channels do not fit in one EDF data record of {MAX_RECORD_BYTES} bytes")
    preferences = [total_samples, None] if total_samples else [None]
    for total in preferences:
        for text in NICE_DURATIONS:
            n = rate * Fraction(text)
            if n.denominator == 1 and 1 <= n <= largest and (total is None or total % int(n) == 0):
                return int(n), text
        for n in range(largest, 0, -1):
            text = exact_decimal(Fraction(n) / rate) if total is None or total % n == 0 else None
            if text is not None:
                return n, text
    raise FormatError(
        f"no data-record duration of at most 0.5 s is exact in 8 characters at {sample_rate:g} Hz; "
        "the sample rate would be changed by rounding, so the file is not written"
    )


def exact_decimal(value: Fraction, width: int = 8) -> str | None:
    """``value`` as a decimal of at most ``width`` characters if that text is exact, else ``None``."""
    for places in range(0, width):
        scaled = value * 10**places
        if scaled.denominator == 1:
            text = _strip(f"{Decimal(scaled.numerator).scaleb(-places):f}")
            return text if len(text) <= width else None
    return None


def header(layout: Layout, patient: str, recording: str, start: datetime, n_records: int) -> bytes:
    """The full header (fixed part and signal part); ``n_records`` −1 means "still being written"."""
    ns = layout.n_channels + 1
    annotation_label = "BDF Annotations" if layout.bdf else "EDF Annotations"
    annotation_samples = layout.annotation_bytes // layout.bytes_per_sample
    version = b"\xffBIOSEMI" if layout.bdf else b"0       "
    fixed = (
        _field(patient, 80)
        + _field(recording, 80)
        + _field(start.strftime("%d.%m.%y"), 8)
        + _field(start.strftime("%H.%M.%S"), 8)
        + _field(str(layout.header_bytes), 8)
        + _field("BDF+C" if layout.bdf else "EDF+C", 44)
        + _field(str(n_records), 8)
        + _field(layout.record_duration, 8)
        + _field(str(ns), 4)
    )
    labels = [*layout.labels, annotation_label]
    columns = [
        (labels, 16),
        ([layout.transducer] * layout.n_channels + [""], 80),
        ([layout.unit] * layout.n_channels + [""], 8),
        ([layout.physical_min] * layout.n_channels + ["-1"], 8),
        ([layout.physical_max] * layout.n_channels + ["1"], 8),
        ([str(layout.digital_min)] * ns, 8),
        ([str(layout.digital_max)] * ns, 8),
        ([layout.prefilter] * layout.n_channels + [""], 80),
        ([str(layout.samples_per_record)] * layout.n_channels + [str(annotation_samples)], 8),
        ([""] * ns, 32),
    ]
    signal_part = "".join(_field(value, width) for values, width in columns for value in values)
    out = version + (fixed + signal_part).encode("ascii")
    if len(out) != layout.header_bytes:
        raise AssertionError(f"header is {len(out)} bytes, expected {layout.header_bytes}")
    return out


def to_digital(layout: Layout, uv: np.ndarray) -> tuple[np.ndarray, int]:
    """Quantise µV to the file's digital values; returns ``(int32 array, number of samples clipped)``."""
    digital = np.rint((uv - layout.offset) / layout.gain)
    clipped = int(np.count_nonzero(digital > layout.digital_max) + np.count_nonzero(digital < layout.digital_min))
    np.clip(digital, layout.digital_min, layout.digital_max, out=digital)
    return digital.astype(np.int32), clipped


def encode_records(layout: Layout, digital: np.ndarray, annotations: list[bytes]) -> bytes:
    """Whole data records from ``digital`` ``(channels, k × samples_per_record)`` and one annotation area each."""
    n = layout.samples_per_record
    k = digital.shape[1] // n
    records = np.zeros((k, layout.record_bytes), dtype=np.uint8)
    per_record = np.ascontiguousarray(digital.reshape(layout.n_channels, k, n).transpose(1, 0, 2), dtype="<i4")
    as_bytes = per_record.view(np.uint8).reshape(k, layout.n_channels, n, 4)[..., : layout.bytes_per_sample]
    records[:, : layout.data_bytes] = as_bytes.reshape(k, layout.data_bytes)
    for i, area in enumerate(annotations):
        records[i, layout.data_bytes : layout.data_bytes + len(area)] = np.frombuffer(area, dtype=np.uint8)
    return records.tobytes()


def timekeeping_tal(record_index: int, layout: Layout) -> bytes:
    """The time-keeping annotation that opens every record's annotation area: the record's start time."""
    return _timekeeping(Decimal(layout.record_duration) * record_index)


def _timekeeping(start: Decimal) -> bytes:
    return f"+{_strip(f'{start:f}')}\x14\x14\x00".encode("ascii")


def annotation_tals(onset_s: float, text: str, duration_s: float = 0.0) -> list[bytes]:
    """The time-stamped annotation list entries for one annotation: one, or one per part of a long text.

    The text is UTF-8 with control characters (the TAL separators among them, and line breaks) as spaces.
    """
    clean = "".join(" " if ord(c) < 32 else c for c in text)
    sign = "-" if onset_s < 0 else "+"
    onset = _strip(f"{abs(onset_s):.7f}")
    duration = f"\x15{_strip(f'{duration_s:.7f}')}" if duration_s > 0 else ""
    stamp = f"{sign}{onset}{duration}\x14".encode("ascii")
    return [stamp + part.encode("utf-8") + b"\x14\x00" for part in split_text(clean)]


def split_text(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """``text`` as annotation texts of at most ``limit`` UTF-8 bytes each, none of it lost.

    A text that fits is returned as is. A longer one is split, at a space where there is one near the end of a
    part, into parts numbered in order; a leading ``Label: `` is repeated on every part so each says what it
    continues: ``Notes (1/3): …``, ``Notes (2/3): …``. Without a label the parts read ``(1/3) …``.
    """
    if len(text.encode("utf-8")) <= limit:
        return [text]
    label, sep, body = text.partition(": ")
    if not sep or len(label) > 40 or ":" in label:
        label, body = "", text
    digits = 1
    while True:
        widest = f"{label} ({'9' * digits}/{'9' * digits}): " if label else f"({'9' * digits}/{'9' * digits}) "
        chunks = _chunks(body, limit - len(widest.encode("utf-8")))
        if len(str(len(chunks))) <= digits:
            break
        digits += 1
    n = len(chunks)
    return [f"{label} ({k}/{n}): {chunk}" if label else f"({k}/{n}) {chunk}" for k, chunk in enumerate(chunks, 1)]


def _chunks(text: str, room: int) -> list[str]:
    """``text`` in pieces of at most ``room`` UTF-8 bytes, each ending at a space when one is near its end."""
    chunks = []
    while text:
        encoded = text.encode("utf-8")
        if len(encoded) <= room:
            chunks.append(text)
            break
        cut = len(encoded[:room].decode("utf-8", "ignore"))
        space = text.rfind(" ", 0, cut)
        if space > 0 and len(text[space:cut].encode("utf-8")) <= SPLIT_SEARCH_BYTES:
            cut = space + 1  # the space ends this part (readers strip it), the next part starts with a word
        chunks.append(text[:cut])
        text = text[cut:]
    return chunks


def _number_text(value: float) -> str:
    """The physical maximum as header text, rounded *up* to fit 7 characters (8 with the minimum's sign).

    Rounded up, never to the nearest: a copy of a file whose range is ±969.8672 must still hold its largest sample.
    """
    exact = Decimal(repr(float(value)))
    for places in range(6, -1, -1):
        text = _strip(f"{exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_CEILING):f}")
        if len(text) <= 7:
            return text
    raise FormatError(f"the physical range ±{value:g} does not fit the header's 8 characters")


def _strip(text: str) -> str:
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _ascii(text: str) -> str:
    return "".join(c if 32 <= ord(c) < 127 else "_" for c in text)


def _field(value: str, width: int) -> str:
    text = _ascii(value)
    if len(text) > width:
        text = text[:width]
    return text.ljust(width)
