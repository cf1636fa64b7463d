"""What the GUI holds of a source that runs in the acquisition process: its controls and its latest state.

The source itself lives in the child (:mod:`emgscope.acquisition.process`). The GUI must never wait for that
process, so nothing here asks it anything: a control is a command (:mod:`emgscope.core.controls`) sent at once,
and every property is read from the latest :class:`~emgscope.core.controls.SourceState` the child published
(it publishes whenever the state changes, at most every :data:`STATE_INTERVAL_S`, and right after each command).
Until the child has applied every command sent, :attr:`SourceProxy.settled` is false: a view that shows what it
just asked for (a replay's position after a seek) waits for it rather than guessing the outcome.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from emgscope.acquisition.simulator import clamp_effort
from emgscope.core.controls import (
    ClearLoop,
    Command,
    FollowStep,
    Insertion,
    Pause,
    RecordingFacts,
    ReplayState,
    Resume,
    Seek,
    Segments,
    SetEffort,
    SetLoop,
    SetSpeed,
    SimulatorState,
    SourceState,
)
from emgscope.replay.source import clamp_speed, loop_samples

STATE_INTERVAL_S = 0.02
"""How often the child looks for a change of state to publish: a replay's play head drawn at 50 Hz is smooth,
and the messages cost both processes next to nothing."""

Send = Callable[[Command], None]


class SourceProxy:
    """Any source in the acquisition process: what every kind shares is its count of skipped samples."""

    initial_state: SourceState = SourceState()

    def __init__(self, send: Send) -> None:
        """``send`` delivers a command to the child (it never blocks on the child)."""
        self._send = send
        self._state = self.initial_state
        self._lock = threading.Lock()
        self._sent = 0
        self._applied = 0

    @property
    def state(self) -> SourceState:
        return self._state

    @property
    def skipped_samples(self) -> int:
        return self._state.skipped_samples

    @property
    def settled(self) -> bool:
        """Whether the state reflects every command sent so far."""
        return self._applied >= self._sent

    def update(self, applied: int, state: SourceState) -> None:
        """The child's state after it applied ``applied`` commands (called by the thread that receives it)."""
        with self._lock:
            self._state = state
            self._applied = applied

    def _command(self, command: Command) -> None:
        with self._lock:
            self._sent += 1
        self._send(command)


class SimulatorProxy(SourceProxy):
    """The simulated patient in the acquisition process (a :class:`~emgscope.core.controls.SimulatorControl`)."""

    initial_state = SimulatorState()
    _state: SimulatorState

    @property
    def effort_percent(self) -> float:
        return self._state.effort_percent

    @effort_percent.setter
    def effort_percent(self, value: float) -> None:
        self._command(SetEffort(clamp_effort(value)))

    def insertion(self) -> None:
        self._command(Insertion())

    def follow_step(self, label: str, muscle: str, side: str, repeat: int) -> None:
        self._command(FollowStep(label, muscle, side, repeat))


class ReplayProxy(SourceProxy):
    """A replay in the acquisition process (a :class:`~emgscope.core.controls.ReplayControl`)."""

    initial_state = ReplayState()
    _state: ReplayState

    def __init__(self, send: Send) -> None:
        super().__init__(send)
        self.facts: RecordingFacts | None = None
        """Known once the child opened the file (the connection message carries it)."""

    @property
    def position_s(self) -> float:
        return self._state.position_s

    @property
    def paused(self) -> bool:
        return self._state.paused

    @property
    def speed(self) -> float:
        return self._state.speed

    @property
    def loop(self) -> tuple[float, float] | None:
        return self._state.loop

    @property
    def ended(self) -> bool:
        return self._state.ended

    @property
    def segments(self) -> Segments:
        return self._state.segments

    @property
    def duration_s(self) -> float:
        return self._state.duration_s

    @property
    def sample_rate(self) -> float:
        return self._state.sample_rate

    @property
    def n_samples(self) -> int:
        return self._state.n_samples

    def set_speed(self, speed: float) -> None:
        self._command(SetSpeed(clamp_speed(speed)))

    def pause(self) -> None:
        self._command(Pause())

    def resume(self) -> None:
        self._command(Resume())

    def seek(self, seconds: float) -> None:
        self._command(Seek(seconds))

    def set_loop(self, start_s: float, end_s: float) -> None:
        """As :meth:`~emgscope.replay.source.ReplaySource.set_loop`, whose refusal of an empty range (``ValueError``)
        is raised here, where it can be shown."""
        loop_samples(start_s, end_s, self.sample_rate, self.n_samples)
        self._command(SetLoop(start_s, end_s))

    def clear_loop(self) -> None:
        self._command(ClearLoop())


def proxy_for(kind: str, send: Send) -> SourceProxy:
    """The proxy for a source kind (``SourceSettings.kind``)."""
    return {"sim": SimulatorProxy, "replay": ReplayProxy}.get(kind, SourceProxy)(send)
