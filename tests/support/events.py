"""Collecting a bus's events in a test, with the time each arrived."""

from __future__ import annotations

import threading
import time

from emgscope.core.events import Event, EventBus


class EventLog:
    """Collects the pump's events with the time each arrived, and lets a test wait for one kind."""

    def __init__(self, bus: EventBus) -> None:
        self.events: list[tuple[float, Event]] = []
        self._arrived = threading.Condition()
        bus.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        with self._arrived:
            self.events.append((time.monotonic(), event))
            self._arrived.notify_all()

    def wait_for(self, kind: str, timeout: float) -> tuple[float, Event]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for stamp, event in self.events:
                    if event.kind == kind:
                        return stamp, event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    kinds = [event.kind for _, event in self.events]
                    raise AssertionError(f"no {kind!r} event within {timeout} s (got {kinds})")
                self._arrived.wait(remaining)

    def clear(self) -> None:
        with self._arrived:
            self.events.clear()

    def kinds(self) -> list[str]:
        with self._arrived:
            return [event.kind for _, event in self.events]
