"""A subscriber that keeps every event a bus carries, with the time each arrived, so a test can wait for one."""

from __future__ import annotations

import threading
import time

from emgscope.core.events import Event, EventBus


class EventLog:
    """Collects a bus's events in order; :meth:`wait_for` blocks until one of the given kinds arrives."""

    def __init__(self, bus: EventBus) -> None:
        self.events: list[Event] = []
        self.stamps: list[float] = []
        """``time.monotonic()`` when each event arrived."""
        self._arrived = threading.Condition()
        bus.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        with self._arrived:
            self.events.append(event)
            self.stamps.append(time.monotonic())
            self._arrived.notify_all()

    def wait_for(self, *kinds: str, timeout: float = 10.0) -> Event:
        """The first event of one of ``kinds``; fails the test, naming what did arrive, after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for event in self.events:
                    if event.kind in kinds:
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {kinds} event within {timeout:g} s (got {self.kinds()})")
                self._arrived.wait(remaining)

    def arrived_at(self, event: Event) -> float:
        """When ``event`` arrived (``time.monotonic()``)."""
        with self._arrived:
            return self.stamps[self.events.index(event)]

    def kinds(self) -> list[str]:
        with self._arrived:
            return [event.kind for event in self.events]

    def of(self, kind: str) -> list[Event]:
        with self._arrived:
            return [event for event in self.events if event.kind == kind]

    def clear(self) -> None:
        with self._arrived:
            self.events.clear()
            self.stamps.clear()
