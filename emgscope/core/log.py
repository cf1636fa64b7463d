"""The log: what happened at an examination, kept after the banner that said it has closed.

One file, ``emgscope.log`` in the platform's log folder (``~/.local/state/emgscope/log`` on Linux, or
``$EMGSCOPE_LOG_DIR``), rotated at :data:`MAX_BYTES` with :data:`BACKUPS` old files kept. The app and every
headless command write to it, and so do the acquisition and audio processes (each appends to the same file and
reopens it when the app has rotated it). INFO by default: connect and disconnect, recording start, stop and
repair, exam steps, audio open and close with its figures, and every error with its traceback.

**No patient data goes into the log**: no name, birth date or note text; a recording is named by its file.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import platformdirs

ROOT = "emgscope"
FILE_NAME = "emgscope.log"
MAX_BYTES = 2_000_000
BACKUPS = 5
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
FORMAT = "%(asctime)s %(processName)s %(levelname)s %(name)s: %(message)s"

logging.getLogger(ROOT).addHandler(logging.NullHandler())  # a library's manners: silent until set up


@dataclass(frozen=True)
class ChildLogSetup:
    """What a spawned child needs to write to the parent's log (pickled to it)."""

    path: str | None
    level: int


def log_dir() -> Path:
    """Where the log lives (``$EMGSCOPE_LOG_DIR`` overrides the platform's folder, for tests)."""
    override = os.environ.get("EMGSCOPE_LOG_DIR")
    return Path(override) if override else Path(platformdirs.user_log_dir(ROOT, appauthor=False))


def log_path() -> Path:
    return log_dir() / FILE_NAME


def logger(name: str) -> logging.Logger:
    """The logger of module ``name`` (``emgscope.*`` names reach the log file)."""
    return logging.getLogger(name)


def setup(level: str = "INFO") -> Path | None:
    """Log to the rotating file from now on; the file's path, or ``None`` (said once on stderr) when the folder
    cannot be written: the app runs without a log rather than not at all."""
    root = logging.getLogger(ROOT)
    root.setLevel(level)
    _drop_file_handlers(root)
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except OSError as exc:
        print(f"emgscope: no log file ({path.parent}: {exc.strerror or exc})", file=sys.stderr)
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_thread_exception
    return path


def child_setup() -> ChildLogSetup:
    """This process's log, for a child to join (nothing to join when no file was set up)."""
    root = logging.getLogger(ROOT)
    files = [h for h in root.handlers if isinstance(h, logging.FileHandler)]
    return ChildLogSetup(files[0].baseFilename if files else None, root.level)


def setup_child(setup_: ChildLogSetup) -> None:
    """In a child: append to the parent's file, reopening it when the parent rotates it."""
    if setup_.path is None:
        return
    root = logging.getLogger(ROOT)
    root.setLevel(setup_.level)
    _drop_file_handlers(root)
    try:
        handler = logging.handlers.WatchedFileHandler(setup_.path, encoding="utf-8")
    except OSError:
        return
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)


def _drop_file_handlers(root: logging.Logger) -> None:
    for handler in [h for h in root.handlers if isinstance(h, logging.FileHandler)]:
        root.removeHandler(handler)
        handler.close()


def _log_uncaught(kind: type[BaseException], value: BaseException, trace: TracebackType | None) -> None:
    if not issubclass(kind, KeyboardInterrupt):
        logging.getLogger(ROOT).critical("Uncaught exception", exc_info=(kind, value, trace))
    sys.__excepthook__(kind, value, trace)


def _log_thread_exception(hook: threading.ExceptHookArgs) -> None:
    if hook.exc_type is not SystemExit:
        name = hook.thread.name if hook.thread is not None else "?"
        logging.getLogger(ROOT).error(
            "Uncaught exception in thread %s", name, exc_info=(hook.exc_type, hook.exc_value, hook.exc_traceback)
        )
    threading.__excepthook__(hook)
