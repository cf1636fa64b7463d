"""The sidecar journal: every fact a crashed recording needs to be rebuilt, on disk the moment it is known.

EDF+ keeps annotations inside data records, and a record is only written once its samples are in; a marker
dropped a moment before a crash would be lost with them. So each annotation, and first the header facts, is
appended to ``<file>.journal`` as one JSON line and fsync'd before anything else happens. A journal that still
exists when the app starts means the recording did not finish: :mod:`emgscope.recording.repair` uses it.

A journal also exists while its recording is still going, in this process or another one (a second window, a
headless ``emgscope record``, ``emgscope info`` run on the file being written). Repairing that file would rename
a copy over it and leave the recorder writing into a deleted inode, so the writer holds an exclusive ``flock``
on its journal for as long as it records; the kernel drops the lock when the process dies, ``kill -9`` included,
which is exactly when repair is wanted.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SUFFIX = ".journal"


def journal_path(recording: Path) -> Path:
    return recording.with_name(recording.name + SUFFIX)


def recording_path(journal: Path) -> Path:
    return journal.with_name(journal.name[: -len(SUFFIX)])


def sync_folder(folder: Path) -> None:
    """Make new or renamed names in ``folder`` durable (a power cut must not lose a file that was created)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def in_use(journal: Path) -> bool:
    """Whether a live recorder (any process) still holds ``journal``: its recording is not unfinished, only busy."""
    try:
        fd = os.open(journal, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@contextlib.contextmanager
def exclusive(journal: Path) -> Iterator[None]:
    """Hold ``journal`` for a repair; raises ``BlockingIOError`` when a recorder or another repair holds it."""
    fd = os.open(journal, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield
    finally:
        os.close(fd)


class Journal:
    """Append-only, fsync'd JSON lines; created exclusively so a journal is never overwritten either.

    Locked (``flock``) from creation to :meth:`close`: see the module docstring.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX)  # blocking: a repair that found the new name lets go within moments

    def append(self, entry: dict) -> None:
        """Write one entry and wait until it is on the disk (raises ``OSError`` when the disk is full)."""
        os.write(self._fd, (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8"))
        os.fsync(self._fd)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)

    def remove(self) -> None:
        """The recording is complete and valid: the journal has nothing left to say.

        Unlinked before it is closed, so no repair can take the lock in between and find it still there.
        """
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self.close()


@dataclass
class JournalContents:
    """What a journal holds: the ``start`` entry and the annotations, in the order they were made."""

    start: dict
    annotations: list[dict] = field(default_factory=list)


def read_journal(path: Path) -> JournalContents:
    """Parse a journal; a torn last line (the crash came mid-write) is ignored, nothing else is."""
    lines = path.read_bytes().split(b"\n")
    entries = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError):
            if number == len(lines):
                break
            raise ValueError(f"{path.name}: line {number} is damaged") from None
    if not entries or entries[0].get("kind") != "start":
        raise ValueError(f"{path.name}: the journal does not begin with the recording's header facts")
    return JournalContents(entries[0], [e for e in entries[1:] if e.get("kind") == "annotation"])
