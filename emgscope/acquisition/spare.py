"""The acquisition process started ahead of the first connection, so the app's start-up does two things at once.

From launch to the first drawn frame, the window's imports (about 1.1 s) and the acquisition process's (about
1.2 s, scipy.signal most of it) used to run one after the other: the process was spawned only when the window
connected. :func:`prestart` spawns it first thing, from a module that imports nothing heavy, so both import side
by side on two cores; the process then waits for the first connection's task, which
:class:`~emgscope.acquisition.process.ProcessPump` hands it through :func:`take_spare`. Only the app's own start
uses this; a reconnect spawns a process as before.
"""

from __future__ import annotations

from typing import Any

from emgscope.core.child import STOP, ChildProcess, ChildStartError
from emgscope.core.realtime import ACQUISITION_PRIORITY, freeze_startup_heap

PROCESS_NAME = "emgscope-acquisition"
STOP_WAIT_S = 2.0
"""A spare holds no device: it is stopped, or killed, at once."""


def _wait_for_task(conn: Any) -> None:
    """Runs in the spare: import what the acquisition needs, then run the first task it is handed."""
    from emgscope.acquisition.process import acquisition_main

    freeze_startup_heap()  # the imports made since the common set-up froze the heap
    try:
        task = conn.recv()
    except (EOFError, OSError):
        return  # the app closed before it connected
    if task != STOP:
        acquisition_main(conn, *task)


class _Spare:
    child: ChildProcess | None = None


def prestart() -> None:
    """Spawn the acquisition process for the first connection now. One that cannot start here is left to the
    connection, which starts its own and says why if it cannot either."""
    if _Spare.child is not None:
        return
    child = ChildProcess(PROCESS_NAME, _wait_for_task, (), ACQUISITION_PRIORITY)
    try:
        child.start()
    except ChildStartError:
        return
    _Spare.child = child


def take_spare() -> ChildProcess | None:
    """The waiting process, once (``None`` if there is none or it has ended); the taker sends it its task."""
    child, _Spare.child = _Spare.child, None
    if child is not None and not child.alive:
        child.stop(0)
        return None
    return child


def discard_spare() -> None:
    """Stop a spare no connection took (the app closed before it connected)."""
    child = take_spare()
    if child is not None:
        child.stop(STOP_WAIT_S)
