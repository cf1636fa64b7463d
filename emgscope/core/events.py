"""Events that cross threads: a source connected, the connection was lost, an annotation was added.

The core posts events from whatever thread notices them. Subscribers are called on the posting thread and must
return at once; the GUI subscribes through a Qt bridge that re-emits each event as a queued signal, so the core
never imports Qt and the GUI never polls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    """Something that happened, stamped with the sample index it happened at (the app's clock)."""

    kind: str
    message: str = ""
    sample_index: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


# Kinds of event the acquisition pump posts.
CONNECTED = "connected"
CONNECT_FAILED = "connect_failed"
CONNECTION_LOST = "connection_lost"
CONNECTION_RESUMED = "connection_resumed"
SOURCE_ERROR = "source_error"
SOURCE_ENDED = "source_ended"
STOPPED = "stopped"
WARNING = "warning"
INFO = "info"
SAMPLES_DROPPED = "samples_dropped"
"""A stretch of signal is missing: samples that never reached the ring (a source that stalled, a board whose
packets were lost), or that a reader of the ring lost because the ring lapped it. Posted once per stretch, by
:func:`samples_dropped`: ``sample_index`` is the ring index the stretch is missing *before* (the first sample
after it), ``data`` holds ``count`` (samples per channel), ``seconds`` and ``cause`` (words, e.g. "the source
stalled"); the message is the sentence the recording's annotation carries."""

ANNOTATION = "annotation"
"""The source's stream says something of one of its samples (a marker an LSL marker stream sent): ``sample_index``
is the ring index of that sample, the message its text (see :meth:`~emgscope.core.source.Source.annotations`)."""


def samples_dropped(ring_index: int, count: int, sample_rate: float, cause: str) -> Event:
    """The :data:`SAMPLES_DROPPED` event for ``count`` samples missing before ring index ``ring_index``."""
    seconds = count / sample_rate
    return Event(
        SAMPLES_DROPPED,
        f"Gap: {seconds:.2f} s of signal missing ({cause})",
        ring_index,
        {"count": count, "seconds": seconds, "cause": cause},
    )


class EventBus:
    """Fan-out of :class:`Event` to subscribers; thread-safe, subscribers called synchronously."""

    def __init__(self) -> None:
        self._subscribers: list[Callable[[Event], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Callable[[Event], None]) -> None:
        with self._lock:
            self._subscribers.append(callback)

    def unsubscribe(self, callback: Callable[[Event], None]) -> None:
        with self._lock:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

    def post(self, event: Event) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            callback(event)
