"""BrainFlow's own data files (``DataFilter.write_file``): a table of numbers whose columns only the board knows.

The file has no header: which column is an EXG channel, the timestamp or the marker, and the sample rate, come
from the descriptor of the board that wrote it. So the caller says which board (``brainflow_board``); without
it the synthetic board's layout is assumed only when the column count matches, and otherwise the error asks for
the board rather than guessing. EXG channels are in µV, as BrainFlow delivers them.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import numpy as np

from emgscope.replay.reader import Annotation, Recording, RecordingError, SignalInfo

DEFAULT_BOARD = "SYNTHETIC_BOARD"
EXG_KINDS = ("eeg_channels", "emg_channels", "ecg_channels", "eog_channels")
_NUMBER_ROW = re.compile(rb"-?\d+(\.\d+)?([eE][+-]?\d+)?(\t-?\d+(\.\d+)?([eE][+-]?\d+)?)+\r?")


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
    from brainflow.data_filter import DataFilter
    from brainflow.exit_codes import BrainFlowError

    name = path.name
    board_name = board or DEFAULT_BOARD
    bid = board_id(board_name)
    try:
        descr = BoardShim.get_board_descr(bid)
    except BrainFlowError:
        raise RecordingError(f"{name}: BrainFlow has no descriptor for board '{board_name}'") from None
    try:
        data = DataFilter.read_file(str(path))
    except BrainFlowError as exc:
        raise RecordingError(f"{name}: BrainFlow cannot read it as a data file ({exc})") from None
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
    signals = [
        SignalInfo(
            label=label,
            sample_rate=rate,
            unit="uV",
            physical_min=float(samples[k].min()) if n else 0.0,
            physical_max=float(samples[k].max()) if n else 0.0,
            digital_min=0,
            digital_max=0,
            prefilter="",
            transducer="",
            n_samples=n,
        )
        for k, label in enumerate(names)
    ]
    warnings: list[str] = []
    start = None
    timestamps = data[descr["timestamp_channel"]] if "timestamp_channel" in descr else None
    if timestamps is not None and n > 1:
        start = datetime.fromtimestamp(float(timestamps[0]))
        span = float(timestamps[-1] - timestamps[0])
        if span > 0 and abs((n - 1) / span - rate) > 0.02 * rate:
            warnings.append(f"the timestamps give {(n - 1) / span:.1f} Hz, not the board's {rate:g} Hz")
    annotations = []
    if "marker_channel" in descr:
        markers = data[descr["marker_channel"]]
        annotations = [Annotation(i / rate, 0.0, f"marker {markers[i]:g}") for i in np.flatnonzero(markers)]

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
