"""Open any recording the app can replay, whatever program wrote it, behind one small interface.

:func:`open_recording` looks at the file (its first bytes, then its name) and hands it to the reader for its
format: EDF/EDF+/BDF/BDF+ (:mod:`emgscope.replay.edf`), PhysioNet WFDB (:mod:`emgscope.replay.wfdb_record`),
BrainFlow's own data files (:mod:`emgscope.replay.brainflow_file`). Every reader returns a :class:`Recording`
whose :meth:`Recording.read` gives samples in µV where the file's unit is a voltage, so replay, display and sound
never care where a file came from.

Anything wrong with a file becomes a :class:`RecordingError` whose one-line message names the defect (which
header field, which signal, how many bytes are missing): the user sees it as is, so no traceback ever reaches them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

ANNOTATION_LABELS = ("EDF Annotations", "BDF Annotations")
"""Labels of the EDF+/BDF+ annotation signal: it holds text, not samples, wherever it appears."""

MAX_SAMPLE_RATE_HZ = 1_000_000.0
"""The highest sample rate a file may declare. Needle EMG is sampled at 20–50 kHz and the simulated patient goes to
200 kHz; a header above 1 MHz holds a damaged number, not a recording (replay's 30 s ring at 1e300 Hz could not
even be allocated)."""
MIN_SAMPLE_RATE_HZ = 1 / 86_400
"""The lowest: one sample a day. Below it a duration in seconds (samples ÷ rate) stops being a number ``info`` can
print, and no physiological signal is that slow."""

_TO_MICROVOLTS = {
    "v": 1e6,
    "mv": 1e3,
    "uv": 1.0,
    "µv": 1.0,
    "μv": 1.0,
    "volts": 1e6,
    "millivolts": 1e3,
    "microvolts": 1.0,
}
"""Factors from a voltage unit to µV (µ written as MICRO SIGN or GREEK MU, or as ``u``; the words are those of the
XDF metadata an LSL stream carries)."""


def uv_factor(unit: str) -> float | None:
    """Factor from ``unit`` to µV, or ``None`` when it is not a voltage."""
    return _TO_MICROVOLTS.get(unit.strip().lower())


class RecordingError(Exception):
    """A file cannot be read; the message is one line that names the defect and is shown to the user as is."""


def check_sample_rate(rate: float, what: str) -> None:
    """Refuse a rate no recording has (not a number, infinite, not positive, or outside the limits above).

    ``what`` names where the rate comes from (``"the sampling frequency"``); the message is one sentence.
    """
    if not math.isfinite(rate) or rate <= 0:
        raise RecordingError(f"{what} is {rate:g} Hz, which is not a sample rate")
    if rate > MAX_SAMPLE_RATE_HZ:
        raise RecordingError(f"{what} is {rate:g} Hz, above the {MAX_SAMPLE_RATE_HZ:g} Hz any amplifier samples at")
    if rate < MIN_SAMPLE_RATE_HZ:
        raise RecordingError(f"{what} is {rate:g} Hz, below one sample a day")


@dataclass(frozen=True)
class SignalInfo:
    """One signal as its file describes it (the header's own values, unit as written)."""

    label: str
    sample_rate: float
    unit: str
    physical_min: float
    physical_max: float
    digital_min: int
    digital_max: int
    prefilter: str
    transducer: str
    n_samples: int

    @property
    def is_annotation(self) -> bool:
        return self.label.strip() in ANNOTATION_LABELS

    @property
    def uv_factor(self) -> float | None:
        """Factor from the file's unit to µV, or ``None`` when the unit is not a voltage."""
        return uv_factor(self.unit)

    @property
    def read_unit(self) -> str:
        """The unit :meth:`Recording.read` returns for this signal."""
        return "uV" if self.uv_factor is not None else self.unit


@dataclass(frozen=True)
class Annotation:
    """A labelled moment or span, in seconds from the first sample."""

    onset_s: float
    duration_s: float
    text: str


@dataclass
class Recording:
    """What a file holds: its header facts, signals and annotations, and a way to read samples lazily."""

    path: Path
    format: str
    start: datetime | None
    patient: dict[str, str]
    recording_info: dict[str, str]
    signals: list[SignalInfo]
    annotations: list[Annotation]
    duration_s: float
    reader: Callable[[int, int, int], np.ndarray] = field(repr=False)
    """``reader(signal_index, start, stop)`` → samples in the file's unit, float64 (set by the format's reader)."""
    warnings: list[str] = field(default_factory=list)
    """Oddities that were tolerated (an invalid start date, trailing bytes): shown by ``emgscope info``."""
    block_reader: Callable[[Sequence[int], int, int], np.ndarray] | None = field(default=None, repr=False)
    """Optional ``block_reader(indices, start, stop)`` → ``(len(indices), n)`` in the files' units, for formats
    that store signals interleaved: replay reads every channel each few milliseconds, and one pass over the
    records costs far less than one per signal."""

    @property
    def data_signals(self) -> list[int]:
        """Indices of the signals that hold samples (the annotation signal is excluded)."""
        return [i for i, s in enumerate(self.signals) if not s.is_annotation]

    def read(self, signal_index: int, start_sample: int, stop_sample: int) -> np.ndarray:
        """Samples ``[start, stop)`` of one signal as float64, in µV when its unit is a voltage.

        The range is clipped to the signal, so asking past the end returns fewer samples, never an error.
        """
        if not 0 <= signal_index < len(self.signals) or self.signals[signal_index].is_annotation:
            raise ValueError(f"signal {signal_index} is not a data signal of {self.path.name}")
        info = self.signals[signal_index]
        start = max(0, start_sample)
        stop = min(stop_sample, info.n_samples)
        if stop <= start:
            return np.empty(0, dtype=np.float64)
        data = self.reader(signal_index, start, stop)
        factor = info.uv_factor
        if factor is not None and factor != 1.0:
            data *= factor
        return data

    def read_signals(self, indices: Sequence[int], start_sample: int, stop_sample: int) -> np.ndarray:
        """Samples ``[start, stop)`` of several signals of one sample rate, ``(len(indices), n)`` float64.

        Units as :meth:`read`. The range is clipped to the shortest of the signals.
        """
        if not indices:
            return np.empty((0, 0), dtype=np.float64)
        for i in indices:
            if not 0 <= i < len(self.signals) or self.signals[i].is_annotation:
                raise ValueError(f"signal {i} is not a data signal of {self.path.name}")
        if len({self.signals[i].sample_rate for i in indices}) != 1:
            raise ValueError("signals read together must share one sample rate")
        start = max(0, start_sample)
        stop = min(stop_sample, *(self.signals[i].n_samples for i in indices))
        if stop <= start:
            return np.empty((len(indices), 0), dtype=np.float64)
        if self.block_reader is None:
            return np.vstack([self.read(i, start, stop) for i in indices])
        data = self.block_reader(indices, start, stop)
        factors = np.array([self.signals[i].uv_factor or 1.0 for i in indices])
        if np.any(factors != 1.0):
            data *= factors[:, None]
        return data

    def rate_groups(self) -> dict[float, list[int]]:
        """Data signals grouped by sample rate, fastest first (replay plays one group: the ring has one rate)."""
        groups: dict[float, list[int]] = {}
        for i in self.data_signals:
            groups.setdefault(self.signals[i].sample_rate, []).append(i)
        return dict(sorted(groups.items(), key=lambda item: -item[0]))

    def replay_signals(self) -> list[int]:
        """The signals replay plays by default: those at the highest rate.

        The highest rate, not the most common one, because in mixed files (polysomnography, EEG with an EMG
        channel) the muscle signal is the fast one, and needle EMG is what this app is for.
        """
        groups = self.rate_groups()
        if not groups:
            raise RecordingError(f"{self.path.name} holds no data signals, only annotations: there is nothing to play")
        return next(iter(groups.values()))


def open_recording(path: str | Path, brainflow_board: str | None = None) -> Recording:
    """Open ``path`` with the reader for its format; raises :class:`RecordingError` with a one-line reason.

    ``brainflow_board`` names the board that wrote a BrainFlow data file (its descriptor says which column is
    what); when it is not given, the synthetic board's layout is assumed if the column count matches.
    """
    path = Path(path)
    if path.is_dir():
        raise RecordingError(f"{path} is a folder, not a recording")
    try:
        with path.open("rb") as fh:
            head = fh.read(512)
    except FileNotFoundError:
        raise RecordingError(f"{path} does not exist") from None
    except OSError as exc:
        raise RecordingError(f"{path} cannot be read: {exc.strerror or exc}") from None
    suffix = path.suffix.lower()
    if head.startswith(b"\xffBIOSEMI") or head.startswith(b"0       ") or suffix in (".edf", ".bdf", ".rec"):
        from emgscope.replay.edf import read_edf

        return _naming_the_file(read_edf, path)
    if suffix in (".hea", ".dat"):
        from emgscope.replay.wfdb_record import read_wfdb

        return _naming_the_file(read_wfdb, path.with_suffix(".hea"))
    from emgscope.replay.brainflow_file import looks_like_brainflow, read_brainflow

    if looks_like_brainflow(head):
        return read_brainflow(path, brainflow_board)
    raise RecordingError(f"{path.name}: {_describe_unknown(head, suffix)}")


def _naming_the_file(read: Callable[[Path], Recording], path: Path) -> Recording:
    """Run a format's reader, turning every failure into one line that starts with the file's name."""
    try:
        return read(path)
    except RecordingError as exc:
        raise RecordingError(f"{path.name}: {exc}") from None
    except (OSError, ValueError) as exc:
        raise RecordingError(f"{path.name}: cannot be read ({exc})") from None


def _describe_unknown(head: bytes, suffix: str) -> str:
    """Why a file is not one of ours, in words that help the user find the right tool."""
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "a WAV audio file, not a recording with calibrated signals (EDF, BDF, WFDB or BrainFlow)"
    if head.startswith(b"%OpenBCI"):
        return "an OpenBCI GUI text file; export it from the OpenBCI GUI as BDF+ or as a BrainFlow file to replay it"
    if not head:
        return "the file is empty"
    return (
        f"unknown format (not EDF, BDF, WFDB or a BrainFlow data file; first bytes {head[:16]!r}, "
        f"extension '{suffix or 'none'}')"
    )
