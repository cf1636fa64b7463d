"""BrainFlow failures in plain words, for the technician at the bedside.

BrainFlow reports a failed ``prepare_session`` as an exit code ("UNABLE_TO_OPEN_PORT_ERROR:2") whose meaning
depends on the board: the same code means "no such serial port" for a Cyton and "no Bluetooth adapter" for a
Ganglion. Its log says which, so the source sends BrainFlow's log to a file (see :class:`BrainFlowLog`) and this
module reads the lines a failed call wrote, together with the exit code and the settings, to say what happened
and what to do.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

from brainflow.board_shim import BoardShim, LogLevels
from brainflow.exit_codes import BrainFlowExitCodes

from emgscope.acquisition import brainflow_boards as boards
from emgscope.core.settings import BrainFlowSettings, config_dir

MAX_LOG_BYTES = 1_000_000
"""A log grown past this is started afresh when the app starts (only warnings and errors are written)."""

_NEEDS = {
    boards.SERIAL_PORT: "This board needs a serial port (for example /dev/ttyUSB0).",
    boards.MAC_ADDRESS: "This board needs its Bluetooth MAC address.",
    boards.IP_ADDRESS: "This board needs its IP address.",
    boards.IP_PORT: "This board needs an IP port.",
    boards.SERIAL_NUMBER: "This board needs its serial number.",
    boards.FILE: "Playback needs a file recorded by BrainFlow.",
    boards.MASTER_BOARD: "Playback needs the board that recorded the file.",
}

_DID_NOT_ANSWER = (
    "The board did not answer. Check that it is switched on, connected and charged, and that the board type is right."
)


def missing_fields(settings: BrainFlowSettings, family: boards.Family) -> str | None:
    """The first required connection field left empty, as a sentence; ``None`` when all are filled."""
    for name in family.required:
        if not getattr(settings, name):
            return _NEEDS[name]
    return None


class BrainFlowLog:
    """BrainFlow's log, sent to ``brainflow.log`` in the config folder instead of the terminal, read back to
    explain failures (and kept, so a support request can include it).

    BrainFlow has one logger per process, so this is process-wide too: the first source to open sets it up.
    Each failed call reads only the lines written since it started (:meth:`mark`, :meth:`lines_since`).
    """

    _lock = threading.Lock()
    _path: Path | None = None

    @classmethod
    def path(cls) -> Path:
        with cls._lock:
            if cls._path is None:
                path = config_dir() / "brainflow.log"
                with contextlib.suppress(OSError):
                    path.parent.mkdir(parents=True, exist_ok=True)
                    if path.exists() and path.stat().st_size > MAX_LOG_BYTES:
                        path.unlink()
                BoardShim.set_log_file(str(path))
                cls._path = path
            return cls._path

    @classmethod
    def mark(cls) -> int:
        """Where the log ends now; also turns the log back on in case other code switched BrainFlow's logger off."""
        path = cls.path()
        BoardShim.set_log_level(LogLevels.LEVEL_WARN.value)
        try:
            return path.stat().st_size
        except OSError:
            return 0

    @classmethod
    def lines_since(cls, mark: int) -> list[str]:
        """The messages (without BrainFlow's time stamp and level) written after ``mark``."""
        try:
            with cls.path().open("rb") as log:
                log.seek(mark)
                text = log.read().decode("utf-8", "replace")
        except OSError:
            return []
        return [line.rsplit("] ", 1)[-1].strip() for line in text.splitlines() if line.strip()]


def explain(exit_code: int, board_name: str, settings: BrainFlowSettings, log_lines: list[str]) -> str:
    """One or two sentences saying why connecting to ``board_name`` failed and what to try."""
    family = boards.family_of(board_name)
    log = " ".join(log_lines)
    port = settings.serial_port
    codes = BrainFlowExitCodes

    if "No BLE adapters found" in log:
        return "No Bluetooth adapter was found on this computer. Plug one in or switch Bluetooth on."
    if "cannot open shared object file" in log or "Failed to load" in log:
        missing = next((word.rstrip(":") for word in log.split() if ".so" in word and "/" not in word), "")
        detail = f" (missing: {missing})" if missing else ""
        return f"BrainFlow's driver for this board cannot be loaded on this computer{detail}."
    if "failed to open file" in log:
        return f"Cannot read the playback file {settings.file!r}: it does not exist or is not readable."
    if "specify dongle port" in log:
        return _NEEDS[boards.SERIAL_PORT]

    if exit_code in (codes.INITIAL_MSG_ERROR.value, codes.BOARD_NOT_READY_ERROR.value, codes.SYNC_TIMEOUT_ERROR.value):
        # The port opened (it may have vanished since): the board itself stayed silent.
        return _DID_NOT_ANSWER
    if port and boards.SERIAL_PORT in family.fields and not os.path.exists(port):
        return f"No device at {port}: the serial port does not exist. Is the board or its dongle plugged in?"
    if exit_code == codes.UNABLE_TO_OPEN_PORT_ERROR.value and port:
        return (
            f"Cannot open {port}. Check that your user may use serial ports (the 'dialout' group on Linux) "
            "and that no other program has the port open."
        )
    if exit_code == codes.UNABLE_TO_OPEN_PORT_ERROR.value:
        return "The board was not found. Check that it is switched on, in range and not connected to another program."
    if exit_code == codes.SER_PORT_ERROR.value:
        return f"{port or 'The port'} cannot be set up as a serial port: is it the board's dongle?"
    if exit_code == codes.INCOMMING_MSG_ERROR.value:
        return "The board sent something unexpected. Check that the board type matches the device."
    if exit_code == codes.BOARD_WRITE_ERROR.value:
        return "Commands could not be sent to the board. Check the cable or the wireless link."
    if exit_code in (codes.PORT_ALREADY_OPEN_ERROR.value, codes.ANOTHER_BOARD_IS_CREATED_ERROR.value):
        return "This board is already in use, perhaps by an attempt that is still finishing. Wait a moment and retry."
    if exit_code == codes.UNSUPPORTED_BOARD_ERROR.value:
        return "BrainFlow does not support this board on this operating system."
    if exit_code == codes.INVALID_ARGUMENTS_ERROR.value:
        return missing_fields(settings, family) or (
            "The connection settings do not suit this board. Check them against the board's documentation."
        )
    if exit_code in (codes.STREAM_ALREADY_RUN_ERROR.value, codes.STREAM_THREAD_ERROR.value):
        return "The board connected but would not start streaming. Switch it off and on, then retry."
    reason = f" ({log_lines[-1]})" if log_lines else ""
    return f"BrainFlow could not start the board{reason}."
