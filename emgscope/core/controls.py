"""What can be done to a source beyond reading it, per kind: its controls, its state, and commands.

Each kind of source that has controls (the simulated patient, a replay) is described by a ``typing.Protocol``
(:class:`SimulatorControl`, :class:`ReplayControl`). The source itself implements it, and so does the proxy the
GUI holds of a source running in the acquisition process (:mod:`emgscope.acquisition.proxy`); code that drives a
source asks ``isinstance(source, ReplayControl)``, never ``hasattr``.

Crossing the process boundary is two small vocabularies:

* **state**: one immutable object per source (:class:`SourceState` and its kinds), which the source builds on
  request (:meth:`~emgscope.core.source.Source.state`) and the acquisition process publishes whenever it changes;
* **commands**: one small dataclass per control (:class:`SetEffort`, :class:`Seek`, ...), each of which knows the
  control kind it needs and applies itself to a source of that kind.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol, runtime_checkable

Segments = tuple[tuple[int, int], ...]
"""``(ring_index, file_sample)`` at the start of each continuous stretch of a replay, oldest first: from that ring
index on, ring samples continue from that file sample (a seek or a loop starts a new stretch)."""


@dataclass(frozen=True)
class SourceState:
    """What every source publishes: samples it lost before the pump saw them."""

    skipped_samples: int = 0


@dataclass(frozen=True)
class SimulatorState(SourceState):
    effort_percent: float = 0.0


@dataclass(frozen=True)
class ReplayState(SourceState):
    position_s: float = 0.0
    """File time of the next sample to be delivered."""
    paused: bool = False
    speed: float = 1.0
    loop: tuple[float, float] | None = None
    """The loop range in seconds, or ``None``."""
    ended: bool = False
    segments: Segments = ((0, 0),)
    duration_s: float = 0.0
    sample_rate: float = 0.0
    n_samples: int = 0


@dataclass(frozen=True)
class RecordingFacts:
    """What the GUI shows of a recording being replayed (the file itself stays open where the source runs)."""

    path: Path
    annotations: tuple[object, ...] = ()
    """The file's annotations (:class:`emgscope.replay.reader.Annotation`)."""
    about: str = ""
    """What the file says of itself, in a line or two: its format and rate, and its header's free text (a WFDB
    header's comments: device, muscle, diagnosis)."""


@runtime_checkable
class SimulatorControl(Protocol):
    """The simulated patient: its effort can be set, the needle moved (an insertional burst), and a guided exam's
    steps followed with the needle (into the step's muscle, a new site for each rest)."""

    effort_percent: float

    def insertion(self) -> None: ...
    def follow_step(self, label: str, muscle: str, side: str, repeat: int) -> None: ...


@runtime_checkable
class ReplayControl(Protocol):
    """A replay's transport, and where its play head is (see :class:`ReplayState`)."""

    @property
    def position_s(self) -> float: ...
    @property
    def paused(self) -> bool: ...
    @property
    def speed(self) -> float: ...
    @property
    def loop(self) -> tuple[float, float] | None: ...
    @property
    def ended(self) -> bool: ...
    @property
    def segments(self) -> Segments: ...
    @property
    def duration_s(self) -> float: ...
    @property
    def sample_rate(self) -> float: ...
    @property
    def n_samples(self) -> int: ...
    @property
    def facts(self) -> RecordingFacts | None: ...
    @property
    def settled(self) -> bool:
        """Whether the state read here reflects every control sent (a remote source's commands take a moment)."""
        ...

    def set_speed(self, speed: float) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def seek(self, seconds: float) -> None: ...
    def set_loop(self, start_s: float, end_s: float) -> None: ...
    def clear_loop(self) -> None: ...


def file_sample_at(segments: Segments, ring_index: int) -> int:
    """The file sample a replay's ring index holds (or will hold, if the stretch goes on)."""
    k = bisect.bisect_right(segments, (ring_index, math.inf)) - 1
    ring_start, file_start = segments[max(k, 0)]
    return file_start + ring_index - ring_start


def file_time_at(control: ReplayControl, ring_index: int) -> float:
    """Seconds into the recording for a ring index of a replay."""
    rate = control.sample_rate
    return file_sample_at(control.segments, ring_index) / rate if rate else 0.0


# --- commands ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetEffort:
    percent: float
    control: ClassVar[type] = SimulatorControl

    def apply(self, source: SimulatorControl) -> None:
        source.effort_percent = self.percent


@dataclass(frozen=True)
class Insertion:
    control: ClassVar[type] = SimulatorControl

    def apply(self, source: SimulatorControl) -> None:
        source.insertion()


@dataclass(frozen=True)
class FollowStep:
    label: str
    muscle: str
    side: str
    repeat: int
    control: ClassVar[type] = SimulatorControl

    def apply(self, source: SimulatorControl) -> None:
        source.follow_step(self.label, self.muscle, self.side, self.repeat)


@dataclass(frozen=True)
class SetSpeed:
    speed: float
    control: ClassVar[type] = ReplayControl

    def apply(self, source: ReplayControl) -> None:
        source.set_speed(self.speed)


@dataclass(frozen=True)
class Pause:
    control: ClassVar[type] = ReplayControl

    def apply(self, source: ReplayControl) -> None:
        source.pause()


@dataclass(frozen=True)
class Resume:
    control: ClassVar[type] = ReplayControl

    def apply(self, source: ReplayControl) -> None:
        source.resume()


@dataclass(frozen=True)
class Seek:
    seconds: float
    control: ClassVar[type] = ReplayControl

    def apply(self, source: ReplayControl) -> None:
        source.seek(self.seconds)


@dataclass(frozen=True)
class SetLoop:
    start_s: float
    end_s: float
    control: ClassVar[type] = ReplayControl

    def apply(self, source: ReplayControl) -> None:
        source.set_loop(self.start_s, self.end_s)


@dataclass(frozen=True)
class ClearLoop:
    control: ClassVar[type] = ReplayControl

    def apply(self, source: ReplayControl) -> None:
        source.clear_loop()


Command = SetEffort | Insertion | FollowStep | SetSpeed | Pause | Resume | Seek | SetLoop | ClearLoop
