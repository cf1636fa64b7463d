"""What the GUI holds of a source that runs in the acquisition process: its controls and a mirror of its state.

The source itself lives in the child (:mod:`emgscope.acquisition.process`). The GUI must never wait for that
process, so nothing here asks it anything: a control call is a message sent at once, and every property is read
from a mirror the child refreshes whenever the source's observable state changes (at most every
:data:`STATE_INTERVAL_S`, and right after each command it applies). A command's expected effect (a new speed, a
seek) is written into the mirror when it is sent, and mirror updates from before the child applied it are
ignored, so the GUI reads back what it just set.

Each proxy class declares the source's properties it mirrors (:class:`Mirrored`: what the child publishes, and
which of them the GUI may set) and the methods the GUI may call (``commands``): the child checks every message
against them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from emgscope.acquisition.simulator import clamp_effort
from emgscope.core.source import Source
from emgscope.replay.reader import Annotation
from emgscope.replay.source import ReplaySource, clamp_speed, loop_samples

STATE_INTERVAL_S = 0.02
"""How often the child looks for a change of state to publish: a replay's play head drawn at 50 Hz is smooth,
and the messages cost both processes next to nothing."""

Send = Callable[[tuple[Any, ...]], None]


class Mirrored:
    """A property of the source, read from the proxy's mirror (``default`` until the child's state arrives).

    With ``clamp`` the GUI may set it too: the clamped value is sent to the child and mirrored at once.
    """

    def __init__(self, default: Any, clamp: Callable[[Any], Any] | None = None) -> None:
        self.default = default
        self.clamp = clamp
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, proxy: RemoteSource | None, owner: type | None = None) -> Any:
        return self if proxy is None else proxy._state.get(self.name, self.default)

    def __set__(self, proxy: RemoteSource, value: Any) -> None:
        if self.clamp is None:
            raise AttributeError(f"{self.name} is the source's to change")
        proxy._set(self.name, self.clamp(value))


class RemoteSource:
    """Any source in the acquisition process: what every kind shares is its count of skipped samples."""

    skipped_samples = Mirrored(0)
    commands: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, send: Send) -> None:
        """``send`` delivers a command tuple to the child (it never blocks on the child)."""
        self._send = send
        self._state: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._sent = 0
        """Commands sent: a mirror update from the child counts the ones it had applied."""

    @classmethod
    def mirrored(cls) -> dict[str, Mirrored]:
        """The properties the child publishes for this kind of source, by name."""
        found: dict[str, Mirrored] = {}
        for klass in reversed(cls.__mro__):
            found.update({name: v for name, v in vars(klass).items() if isinstance(v, Mirrored)})
        return found

    @classmethod
    def observed(cls) -> tuple[str, ...]:
        return tuple(cls.mirrored())

    @classmethod
    def settable(cls) -> frozenset[str]:
        return frozenset(name for name, prop in cls.mirrored().items() if prop.clamp is not None)

    def update(self, applied: int, state: dict[str, Any]) -> None:
        """The child's view of the source after ``applied`` commands (called by the receiving thread)."""
        with self._lock:
            if applied >= self._sent:
                self._state = {**self._state, **state}

    def _command(self, message: tuple[Any, ...], expected: dict[str, Any]) -> None:
        """Only the GUI thread sends commands, so they leave in order without the lock held while sending."""
        with self._lock:
            self._sent += 1
            self._state = {**self._state, **expected}
        self._send(message)

    def settle(self, state: dict[str, Any]) -> None:
        """The child's last word, once it has ended: the truth, whatever commands it did not get to."""
        with self._lock:
            self._state = {**self._state, **state}

    def _call(self, name: str, *args: Any, **expected: Any) -> None:
        self._command(("call", name, args), expected)

    def _set(self, name: str, value: Any) -> None:
        self._command(("set", name, value), {name: value})


class RemoteSimulator(RemoteSource):
    """The simulated patient: its effort can be set and an insertional burst provoked."""

    effort_percent = Mirrored(0.0, clamp=clamp_effort)
    commands = frozenset({"insertion"})

    def insertion(self) -> None:
        self._call("insertion")


@dataclass(frozen=True)
class RecordingFacts:
    """What the GUI shows of the recording being replayed (the file itself stays open in the child)."""

    path: Path
    annotations: list[Annotation] = field(default_factory=list)


class RemoteReplay(RemoteSource):
    """A replay: the transport controls and where the play head is (see :class:`ReplaySource`)."""

    position_s = Mirrored(0.0)
    """File time of the next sample to be delivered."""
    paused = Mirrored(False)
    speed = Mirrored(1.0)
    loop = Mirrored(None)
    """The loop range in seconds, or ``None``."""
    ended = Mirrored(False)
    segments = Mirrored(((0, 0),))
    """``(ring_index, file_sample)`` at the start of each continuous stretch (see :class:`ReplaySource`)."""
    duration_s = Mirrored(0.0)
    sample_rate = Mirrored(0.0)
    n_samples = Mirrored(0)
    commands = frozenset({"set_speed", "pause", "resume", "seek", "set_loop", "clear_loop"})

    def __init__(self, send: Send) -> None:
        super().__init__(send)
        self.recording: RecordingFacts | None = None
        """Known once the child opened the file (the connection message carries it)."""

    def set_speed(self, speed: float) -> None:
        self._call("set_speed", speed, speed=clamp_speed(speed))

    def pause(self) -> None:
        self._call("pause", paused=True)

    def resume(self) -> None:
        self._call("resume", paused=False)

    def seek(self, seconds: float) -> None:
        self._call("seek", seconds, position_s=min(max(seconds, 0.0), self.duration_s))

    def set_loop(self, start_s: float, end_s: float) -> None:
        """As :meth:`ReplaySource.set_loop`, whose refusal of an empty range is checked here, where it is shown."""
        loop_samples(start_s, end_s, self.sample_rate, self.n_samples)
        position = self.position_s if start_s <= self.position_s < end_s else start_s
        self._call("set_loop", start_s, end_s, loop=(start_s, end_s), position_s=position)

    def clear_loop(self) -> None:
        self._call("clear_loop", loop=None)


def remote_class(kind: str) -> type[RemoteSource]:
    """The proxy for a source kind (``SourceSettings.kind``)."""
    return {"sim": RemoteSimulator, "replay": RemoteReplay}.get(kind, RemoteSource)


def observe(source: Source, names: tuple[str, ...]) -> dict[str, Any]:
    """The child's snapshot of ``names`` on the real source."""
    return {name: getattr(source, name) for name in names}


def recording_facts(source: Source) -> RecordingFacts | None:
    """What the proxy needs of a replayed recording, or ``None`` for any other source."""
    if isinstance(source, ReplaySource) and source.recording is not None:
        return RecordingFacts(source.recording.path, list(source.recording.annotations))
    return None


Replay = ReplaySource | RemoteReplay
"""A replay as the GUI drives it: in the acquisition process (the app), or in this one (a caller's factory)."""
