"""BrainFlow's own data files (``DataFilter.write_file``): a table of numbers whose columns only the board knows.

The file has no header: which column is an EXG channel, the timestamp or the marker, and the sample rate, come
from the descriptor of the board that wrote it. So the caller says which board (``brainflow_board``); without
it the synthetic board's layout is assumed only when the column count matches, and otherwise the error asks for
the board rather than guessing. EXG channels are in µV, as BrainFlow delivers them.

The table is parsed here rather than by ``DataFilter.read_file``: BrainFlow's parser aborts the whole process on a
number beyond double range (``1e999``: an uncaught ``std::out_of_range``, measured with brainflow 5.23), drops a
last row cut short by a writer that crashed without saying so, and logs to stderr. Here the whole rows are read
and a cut row is named in ``Recording.warnings``. Other programs' numbers are not trusted either: a sample that
is not finite or beyond :data:`IMPLAUSIBLE_UV` is read as missing (NaN, played as 0), and timestamps that are
not times leave the start unknown.
"""

from __future__ import annotations

import io
import math
import re
from datetime import datetime
from pathlib import Path

import numpy as np

from emgscope.replay.reader import Annotation, Recording, RecordingError, SignalInfo

DEFAULT_BOARD = "SYNTHETIC_BOARD"
EXG_KINDS = ("eeg_channels", "emg_channels", "ecg_channels", "eog_channels")
IMPLAUSIBLE_UV = 1e9
"""A sample beyond ±1 kV is damage, not a voltage an electrode delivers; replayed, it would overflow the float32 ring
and the filters' state, so it is read as missing."""
LATEST_TIMESTAMP = datetime(9999, 12, 31).timestamp()
"""Timestamps are seconds since 1970; one beyond the calendar Python can represent is not a time."""
_NUMBER = rb"(-?\d+(\.\d+)?([eE][+-]?\d+)?|-?nan|-?inf)"
"""One value as ``DataFilter.write_file`` prints it (C's ``%lf``: NaN and infinity are words)."""
_NUMBER_ROW = re.compile(_NUMBER + rb"(\t" + _NUMBER + rb")+\r?")


def looks_like_brainflow(head: bytes) -> bool:
    """Whether the first line is tab-separated numbers, as ``DataFilter.write_file`` writes them."""
    first_line = head.split(b"\n", 1)[0]
    return bool(_NUMBER_ROW.fullmatch(first_line))


def board_id(board: str) -> int:
    """A BrainFlow board id from its number or its ``BoardIds`` name (``"SYNTHETIC_BOARD"``, ``"-1"``)."""
    from brainflow.board_shim import BoardIds

    text = board.strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    try:
        return int(BoardIds[text.upper()].value)
    except KeyError:
        raise RecordingError(f"'{board}' is not a BrainFlow board name") from None


def read_brainflow(path: Path, board: str | None = None) -> Recording:
    """Load a BrainFlow data file and describe its EXG channels with the writing board's descriptor."""
    from brainflow.board_shim import BoardShim
    from brainflow.exit_codes import BrainFlowError

    name = path.name
    board_name = board or DEFAULT_BOARD
    bid = board_id(board_name)
    try:
        descr = BoardShim.get_board_descr(bid)
    except BrainFlowError:
        raise RecordingError(f"{name}: BrainFlow has no descriptor for board '{board_name}'") from None
    data, warnings = _read_table(path)
    rows = int(descr["num_rows"])
    if data.shape[0] != rows:
        hint = "say which board wrote it" if board is None else "is it the right board?"
        raise RecordingError(
            f"{name}: the file has {data.shape[0]} columns but board '{board_name}' writes {rows}: {hint}"
        )
    channels = sorted({c for kind in EXG_KINDS for c in descr.get(kind, [])})
    names = [n for n in str(descr.get("eeg_names", "")).split(",") if n]
    if len(names) != len(channels):
        names = [f"EXG {k + 1}" for k in range(len(channels))]
    rate = float(descr["sampling_rate"])
    n = data.shape[1]
    samples = np.ascontiguousarray(data[channels], dtype=np.float64)
    invalid = ~(np.abs(samples) <= IMPLAUSIBLE_UV)
    if invalid.any():
        samples[invalid] = np.nan
        warnings.append(
            f"samples read as missing: {int(invalid.sum())} (NaN, infinite or beyond ±{IMPLAUSIBLE_UV:g} µV, "
            "not numbers an amplifier delivers)"
        )
    signals = [
        SignalInfo(
            label=label,
            sample_rate=rate,
            unit="uV",
            physical_min=_extreme(samples[k], np.min),
            physical_max=_extreme(samples[k], np.max),
            digital_min=0,
            digital_max=0,
            prefilter="",
            transducer="",
            n_samples=n,
        )
        for k, label in enumerate(names)
    ]
    start = None
    if "timestamp_channel" in descr and n:
        start = _start(data[descr["timestamp_channel"]], rate, warnings)
    annotations = []
    if "marker_channel" in descr:
        markers = data[descr["marker_channel"]]
        marked = np.flatnonzero(np.isfinite(markers) & (markers != 0))
        annotations = [Annotation(i / rate, 0.0, f"marker {markers[i]:g}") for i in marked]

    def reader(index: int, first: int, stop: int) -> np.ndarray:
        return samples[index, first:stop].copy()

    return Recording(
        path=path,
        format="BrainFlow",
        start=start,
        patient={"code": "", "sex": "", "birthdate": "", "name": "", "additional": ""},
        recording_info={"board": str(descr.get("name", board_name)), "board_id": str(bid)},
        signals=signals,
        annotations=annotations,
        duration_s=n / rate,
        reader=reader,
        warnings=warnings,
    )


def _read_table(path: Path) -> tuple[np.ndarray, list[str]]:
    """The file's whole rows as ``(columns, rows)`` float64, and a warning when its last row was cut short.

    ``DataFilter.write_file`` ends every row with a newline, so text after the last newline is a row its writer
    never finished (a crash, a full disk): it is left out and named, and everything before it is read.
    """
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RecordingError(f"{name} cannot be read: {exc.strerror or exc}") from None
    whole, _, tail = raw.rpartition(b"\n")
    warnings = []
    if tail.strip():
        row = whole.count(b"\n") + 2 if whole else 1
        warnings.append(
            f"the file ends in the middle of row {row} (its writer stopped mid-row): the {row - 1} whole rows "
            "before it are read"
        )
    if not whole.strip():
        raise RecordingError(f"{name}: the file holds no whole row of numbers")
    try:
        table = np.loadtxt(io.BytesIO(whole), delimiter="\t", dtype=np.float64, ndmin=2, encoding="latin-1")
    except ValueError as exc:
        where = re.search(r"at row (\d+), column (\d+)", str(exc))
        place = f" (row {int(where[1]) + 1}, column {where[2]} is not a number)" if where else ""
        raise RecordingError(f"{name}: not a table of numbers as BrainFlow writes them{place}") from None
    return table.T, warnings


def _extreme(values: np.ndarray, pick: np.ufunc) -> float:
    """The smallest or largest valid sample (0 for a signal with none)."""
    valid = values[np.isfinite(values)]
    return float(pick(valid)) if valid.size else 0.0


def _start(timestamps: np.ndarray, rate: float, warnings: list[str]) -> datetime | None:
    """The first sample's time from the timestamp column, and a warning when the timestamps disagree with the rate.

    The column is seconds since 1970 as the writing computer's clock saw them; a value that is no such time (a
    damaged file, another program's numbers) leaves the start unknown, with a warning, instead of failing.
    """
    first, last = float(timestamps[0]), float(timestamps[-1])
    if not 0 < first < LATEST_TIMESTAMP:
        warnings.append(f"the first timestamp ({first:g}) is not a time: start time unknown")
        return None
    try:
        start = datetime.fromtimestamp(first)
    except (OverflowError, OSError, ValueError):
        warnings.append(f"the first timestamp ({first:g}) is not a time: start time unknown")
        return None
    n = timestamps.size
    span = last - first
    if n > 1 and math.isfinite(span) and span > 0 and abs((n - 1) / span - rate) > 0.02 * rate:
        warnings.append(f"the timestamps give {(n - 1) / span:.4g} Hz, not the board's {rate:g} Hz")
    return start
