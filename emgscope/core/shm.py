"""emgscope's shared memory blocks: named after the process that owns them, so a crash's leftovers can go.

The filtered ring (tens of MB) and the audio figures live in POSIX shared memory, which outlives its process.
multiprocessing's resource tracker unlinks the blocks of a process killed on its own, but a crash that takes the
tracker with it (a process group killed, a session logged out) leaves them in ``/dev/shm``, which is RAM, until
the machine restarts. Each block is therefore called ``emgscope-<pid>-<random>``, and every start of the app or of
a headless command that makes rings removes the blocks whose owner no longer runs. A live process's block is
never touched, whoever made it.
"""

from __future__ import annotations

import os
import secrets
from multiprocessing import shared_memory
from pathlib import Path

PREFIX = "emgscope-"
SHM_DIR = Path("/dev/shm")
"""Where Linux shows POSIX shared memory as files; elsewhere there is nothing to list and nothing is removed."""


def create_block(size: int, owner_pid: int | None = None) -> shared_memory.SharedMemory:
    """A new shared memory block of ``size`` bytes named after the process that owns and unlinks it: this one, or
    ``owner_pid`` (the acquisition process makes the rings its parent owns, which outlive it).

    The name stays under macOS's 31 characters, as the standard library's own ``psm_`` names do.
    """
    pid = os.getpid() if owner_pid is None else owner_pid
    while True:
        name = f"{PREFIX}{pid}-{secrets.token_hex(4)}"
        try:
            return shared_memory.SharedMemory(name, create=True, size=size)
        except FileExistsError:
            continue  # the same random part twice: draw again, as the standard library does


def owner_pid_of(name: str) -> int | None:
    """The PID in an emgscope block's name, or ``None`` for any other name."""
    if not name.startswith(PREFIX):
        return None
    pid, sep, _ = name[len(PREFIX) :].partition("-")
    return int(pid) if sep and pid.isdigit() and int(pid) > 0 else None


def is_running(pid: int) -> bool:
    """Whether a process with this PID exists (another user's counts: it may be using its block)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def remove_stale_blocks(directory: Path = SHM_DIR) -> list[str]:
    """Unlink the emgscope blocks whose owning process has ended; returns their names.

    The file is removed directly rather than through :class:`~multiprocessing.shared_memory.SharedMemory`, so
    this process's resource tracker never hears of blocks it did not make. A block that cannot be removed
    (another user's, or gone meanwhile) is left alone.
    """
    if not directory.is_dir():
        return []
    removed = []
    for path in directory.iterdir():
        pid = owner_pid_of(path.name)
        if pid is None or pid == os.getpid() or is_running(pid):
            continue
        try:
            path.unlink()
        except OSError:
            continue
        removed.append(path.name)
    return removed
