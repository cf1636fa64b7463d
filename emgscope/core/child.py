"""A helper process with a pipe to it: how the acquisition and the audio processes are started and stopped.

Both run work that must never wait for the GUI's GIL, each in a spawned interpreter of its own. What they share is
here, once: the child is started with ``spawn`` (no copy of the GUI's threads or Qt state), its set-up is done in
one place before its work begins (Ctrl-C left to the parent, the log, real-time priority, the startup heap frozen so
a full garbage collection never stalls it), and stopping is always the same: a stop message, a wait, then ``kill``.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import signal
from collections.abc import Callable
from typing import Any

from emgscope.core import log
from emgscope.core.realtime import freeze_startup_heap, raise_priority

STOP = ("stop",)
"""The message that asks a child to finish its work and return."""


class ChildStartError(Exception):
    """The process could not be started (e.g. a frozen app whose entry point lacks ``freeze_support()``)."""


def _child_main(
    target: Callable[..., None], priority: int, log_setup: log.ChildLogSetup, conn: Any, *args: Any
) -> None:
    """Runs in the child: the common set-up, then ``target(conn, *args)``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the terminal is the parent's to handle
    log.setup_child(log_setup)
    raise_priority(priority)
    freeze_startup_heap()  # the imports are done: a full collection takes ~20 ms and would stall the work
    try:
        target(conn, *args)
    except Exception:
        log.logger(__name__).exception("The %s process failed", mp.current_process().name)
        raise


class ChildProcess:
    """One spawned child and the parent's end of its pipe."""

    def __init__(self, name: str, target: Callable[..., None], args: tuple[Any, ...], priority: int) -> None:
        """``target(conn, *args)`` is a module-level function (``spawn`` pickles it by name); ``priority`` is the
        real-time priority the child asks for (see :func:`~emgscope.core.realtime.raise_priority`)."""
        self.name = name
        self._target = target
        self._args = args
        self._priority = priority
        self.conn: Any = None
        self._process: Any = None

    def start(self) -> None:
        """Start the child; raises :class:`ChildStartError`."""
        context = mp.get_context("spawn")
        self.conn, child_conn = context.Pipe()
        self._process = context.Process(
            target=_child_main,
            args=(self._target, self._priority, log.child_setup(), child_conn, *self._args),
            name=self.name,
            daemon=True,
        )
        try:
            self._process.start()
        except (OSError, RuntimeError) as exc:
            self._process = None
            raise ChildStartError(f"the {self.name} process could not start ({exc})") from exc
        finally:
            child_conn.close()

    def send(self, message: Any) -> bool:
        """Send ``message``; ``False`` if the child is gone (it has nothing left to change)."""
        if self.conn is None:
            return False
        try:
            self.conn.send(message)
        except (BrokenPipeError, OSError):
            return False
        return True

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def exitcode(self) -> int | None:
        return None if self._process is None else self._process.exitcode

    def join(self, timeout: float) -> None:
        """Wait up to ``timeout`` for the child to end; kill it if it has not."""
        process = self._process
        if process is None:
            return
        process.join(timeout)
        if process.is_alive():
            process.kill()
            process.join()

    def stop(self, timeout: float) -> None:
        """Ask the child to stop, wait up to ``timeout``, then kill it; close the pipe. Safe to call twice."""
        self.send(STOP)
        self.join(timeout)
        if self.conn is not None:
            with contextlib.suppress(OSError):
                self.conn.close()
            self.conn = None
