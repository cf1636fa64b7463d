"""Any amplifier BrainFlow supports, as a :class:`Source`: OpenBCI boards, Bluetooth and Wi-Fi headsets, its
synthetic board, and its playback of files it recorded.

Units: BrainFlow's convention ("Data Format Description": "For EEG, EMG, etc BrainFlow returns uV") is that EXG
rows arrive in microvolts, already scaled by the board's driver (gain and ADC resolution); the synthetic board's
channels measure 10, 20, 30 … µV r.m.s. The source passes those rows through unchanged
(:data:`UV_PER_BRAINFLOW_UNIT`). The documented exceptions (OYMotion armbands, which deliver ADC counts) are
streamed as they come with ``StreamInfo.units = "ADC"`` and say so in their description, since no published
factor converts them.

Channels: the board descriptor's EMG rows where the board declares them, else its EEG (or ECG) rows, which carry
any biopotential wired to them. Labels are BrainFlow's ``eeg_names`` where the board has them for those rows.

Timing: ``open`` calls ``prepare_session``, which can block for seconds on a silent device; the pump calls it
on its own thread. ``read`` only copies what BrainFlow's own streaming thread has buffered, so it never waits,
and a board that stops sending simply yields empty reads until the pump reports the connection lost.
"""

from __future__ import annotations

import threading
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
from brainflow.board_shim import BoardIds, BoardShim, BrainFlowError, BrainFlowInputParams

from emgscope.acquisition import brainflow_boards as boards
from emgscope.acquisition.brainflow_errors import BrainFlowLog, explain, missing_fields
from emgscope.acquisition.brainflow_packages import PACKAGE_WRAP, PackageCounter
from emgscope.core.settings import BrainFlowSettings
from emgscope.core.source import Source, SourceError, StreamInfo
from emgscope.replay.brainflow_file import read_brainflow
from emgscope.replay.reader import RecordingError

UV_PER_BRAINFLOW_UNIT = 1.0
"""BrainFlow delivers EXG rows in µV (see the module docstring)."""
BUFFER_SECONDS = 10.0
"""BrainFlow's own ring buffer, in seconds of samples: the pump empties it every few ms, so this only matters
if the acquisition thread is starved; BrainFlow's default (45,000 samples) is kept as the floor."""
_DEFAULT_BUFFER_SAMPLES = 45_000


class BrainFlowSource(Source):
    """One BrainFlow board session. One-shot: once closed (or cancelled while connecting) it stays closed."""

    skipped_cause = "the board's packets were lost on the way"

    def __init__(self, settings: BrainFlowSettings, loop_playback: bool = True) -> None:
        self.settings = settings
        self.loop_playback = loop_playback
        """Replay a playback file over and over (a teaching loop); off, the stream stops at the file's end."""
        self._lock = threading.Lock()
        self._board: BoardShim | None = None
        self._closed = False
        self._rows: list[int] = []
        self._packages: PackageCounter | None = None
        """Counts lost rows from the package numbers, for boards whose counter allows it."""
        self._counter_rows = (0, 0)
        """The package-number and timestamp rows."""

    @property
    def board(self) -> BoardShim | None:
        """The live BrainFlow session (``None`` before ``open`` succeeds and after ``close``)."""
        return self._board

    def open(self) -> StreamInfo:
        settings = self.settings
        try:
            board_id = boards.resolve_board(settings.board)
        except ValueError as exc:
            raise SourceError(str(exc)) from None
        name = boards.board_name(board_id)
        family = boards.family_of(name)
        missing = missing_fields(settings, family)
        if missing:
            raise SourceError(missing)
        params = self._input_params(family)
        descriptor = self._descriptor(board_id, params)
        kind, rows = boards.signal_rows(descriptor)
        if not rows:
            raise SourceError(f"{descriptor.get('name', name)} has no EMG or EEG channels to show.")
        self._rows = rows
        if board_id == BoardIds.PLAYBACK_FILE_BOARD.value:
            check_playback_file(settings.file, settings.master_board)

        mark = BrainFlowLog.mark()
        board = BoardShim(board_id, params)
        try:
            board.prepare_session()
        except BrainFlowError as exc:
            raise SourceError(explain(exc.exit_code, name, settings, BrainFlowLog.lines_since(mark))) from None
        with self._lock:
            cancelled = self._closed
            if not cancelled:
                self._board = board
        if cancelled:
            _release(board)
            raise SourceError("Connecting was cancelled.")
        rate = float(descriptor["sampling_rate"])
        wrap = PACKAGE_WRAP.get(name)
        if wrap and "package_num_channel" in descriptor and "timestamp_channel" in descriptor:
            self._packages = PackageCounter(wrap, rate)
            self._counter_rows = (descriptor["package_num_channel"], descriptor["timestamp_channel"])
        try:
            if board_id == BoardIds.PLAYBACK_FILE_BOARD.value and self.loop_playback:
                board.config_board("loopback_true")
            board.start_stream(max(_DEFAULT_BUFFER_SAMPLES, round(rate * BUFFER_SECONDS)))
        except BrainFlowError as exc:
            self.close()
            raise SourceError(explain(exc.exit_code, name, settings, BrainFlowLog.lines_since(mark))) from None
        return self._stream_info(board_id, family, descriptor, kind, rate)

    def read(self) -> np.ndarray:
        board = self._board
        if board is None:
            return np.empty((len(self._rows), 0))
        try:
            data = board.get_board_data()
        except BrainFlowError as exc:
            if self._closed:  # closed from another thread between the check above and the call
                return np.empty((len(self._rows), 0))
            raise SourceError(f"The board stopped working (BrainFlow error {exc.exit_code}); reconnect it.") from None
        if self._packages is not None:
            numbers, timestamps = self._counter_rows
            self.skipped_samples += self._packages.missing(data[numbers], data[timestamps])
        return data[self._rows] * UV_PER_BRAINFLOW_UNIT

    def close(self) -> None:
        """Stop and release the session; from any thread, any number of times, also while ``open`` blocks."""
        with self._lock:
            self._closed = True
            board, self._board = self._board, None
        if board is not None:
            _release(board)

    def _input_params(self, family: boards.Family) -> BrainFlowInputParams:
        """BrainFlow's parameters, holding only the fields this board reads (they also identify the session);
        empty fields keep BrainFlow's defaults."""
        params = BrainFlowInputParams()
        for field_name in family.fields:
            value: Any = getattr(self.settings, field_name)
            if not value:
                continue
            if field_name == boards.MASTER_BOARD:
                try:
                    value = boards.resolve_board(value)
                except ValueError as exc:
                    raise SourceError(f"The board that recorded the file: {exc}") from None
            setattr(params, field_name, value)
        return params

    @staticmethod
    def _descriptor(board_id: int, params: BrainFlowInputParams) -> dict:
        """The descriptor of the board whose rows arrive: the recording board's for playback and streaming."""
        described = params.master_board if board_id < 0 and params.master_board != BoardIds.NO_BOARD.value else board_id
        try:
            return BoardShim.get_board_descr(described)
        except BrainFlowError:
            raise SourceError(f"BrainFlow cannot describe board {boards.board_name(described)}.") from None

    def _stream_info(
        self, board_id: int, family: boards.Family, descriptor: dict, kind: str, rate: float
    ) -> StreamInfo:
        name = boards.board_name(board_id)
        names = [label for label in str(descriptor.get("eeg_names", "")).split(",") if label]
        eeg_rows = list(descriptor.get("eeg_channels") or [])
        labels = []
        for number, row in enumerate(self._rows, start=1):
            index = eeg_rows.index(row) if row in eeg_rows else -1
            labels.append(names[index] if 0 <= index < len(names) else f"{kind} {number}")
        connection = {
            field_name: str(getattr(self.settings, field_name))
            for field_name in family.fields
            if getattr(self.settings, field_name)
        }
        where = ", ".join(f"{boards.FIELD_LABELS[key].lower()} {value}" for key, value in connection.items())
        product = descriptor.get("name", name)
        details = {
            "board": name,
            "board_id": str(board_id),
            "signal_rows": kind,
            "brainflow_version": _brainflow_version(),
            **connection,
        }
        raw_adc = name in boards.RAW_ADC_BOARDS
        return StreamInfo(
            sample_rate=rate,
            channel_labels=tuple(labels),
            description=f"BrainFlow {product}"
            + (f" ({where})" if where else "")
            + (": ADC counts, not µV" if raw_adc else ""),
            device=f"{product} (BrainFlow {name}, id {board_id})" + (f", {where}" if where else ""),
            units="ADC" if raw_adc else "uV",
            details=details,
        )


def check_playback_file(path: str, master_board: str) -> None:
    """Refuse a playback file that is not one BrainFlow wrote for ``master_board``, in one sentence.

    BrainFlow's playback board accepts any file and then streams nothing from one it cannot read (garbage, an empty
    file, another board's columns): the stream would only ever look like a lost connection.
    """
    if not Path(path).is_file():
        return  # BrainFlow's own refusal names the missing file (brainflow_errors.explain)
    try:
        read_brainflow(Path(path), master_board or None)
    except RecordingError as exc:
        board = master_board or "the master board"
        raise SourceError(f"Not a file BrainFlow wrote for {board}: {exc}") from None


def _release(board: BoardShim) -> None:
    """Stop streaming and free the session, ignoring what was never started or already freed."""
    for step in (board.stop_stream, board.release_session):
        try:
            step()
        except BrainFlowError:
            continue


def _brainflow_version() -> str:
    try:
        return version("brainflow")
    except PackageNotFoundError:
        return ""
