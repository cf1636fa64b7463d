"""The one crossing from the core's threads into Qt: core events re-emitted as a Qt signal.

The acquisition thread (and later the recorder, the protocol runner) post :class:`~emgscope.core.events.Event`
objects on an :class:`~emgscope.core.events.EventBus` from whatever thread notices them. The bridge lives on the
GUI thread; a signal emitted from another thread reaches slots on GUI-thread objects as a queued call, so every
slot runs on the GUI thread and the posting thread never waits for the GUI. Events are rare (connected, lost,
annotation added); samples never travel this way: the display pulls them from the ring on its timer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from PyQt6.QtCore import QObject, pyqtSignal

from emgscope.core.events import Event, EventBus


class EventBridge(QObject):
    """Subscribes to ``bus`` and emits :attr:`event` for each core event."""

    event = pyqtSignal(object)

    def __init__(self, bus: EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bus = bus
        relay = self._relay
        bus.subscribe(relay)
        self.destroyed.connect(lambda *_: _unsubscribe(bus, relay))

    def _relay(self, event: Event) -> None:
        self.event.emit(event)

    def close(self) -> None:
        """Stop relaying (before the window goes away while a core thread may still post)."""
        self.bus.unsubscribe(self._relay)


def _unsubscribe(bus: EventBus, relay: Callable[[Event], None]) -> None:
    """Stop relaying from a bridge Qt has destroyed, so no core thread posts into a deleted object.

    When the bus and the bridge are garbage together (a window that was never closed, collected at exit), the
    cycle collector may have emptied the bus before Qt destroys the bridge: nothing can post on it any more, and
    an exception in this slot would make PyQt abort the whole process.
    """
    with contextlib.suppress(AttributeError):
        bus.unsubscribe(relay)
