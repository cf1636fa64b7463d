"""A :class:`~emgscope.session.session.Session` driven from a test's thread, as the window and ``emgscope record``
drive theirs: every event goes back to :meth:`Session.handle` on the driving thread, in order."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable

from emgscope.core.events import Event
from emgscope.core.settings import Settings
from emgscope.session.connection import SourceFactory
from emgscope.session.session import Session
from support.events import EventLog


class DrivenSession:
    """The session, the log of its events (:attr:`log`), and :meth:`run_until` to let it work."""

    def __init__(self, settings: Settings, factory: SourceFactory | None = None) -> None:
        self.session = Session(settings, factory)
        self._inbox: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self.session.bus.subscribe(self._inbox.put)
        self.log = EventLog(self.session.bus)

    def run_until(self, done: Callable[[], object], timeout: float = 10.0, what: str = "the condition") -> None:
        """Hand events to the session until ``done()`` is true; fails the test after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            self.handle_pending()
            if done():
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} not reached within {timeout:g} s (events: {self.log.kinds()})")
            time.sleep(0.005)

    def run_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        self.run_until(lambda: time.monotonic() >= end, seconds + 1)

    def handle_pending(self) -> None:
        while True:
            try:
                event = self._inbox.get_nowait()
            except queue.Empty:
                return
            self.session.handle(event)

    def close(self) -> None:
        self.session.close()
        self.handle_pending()
