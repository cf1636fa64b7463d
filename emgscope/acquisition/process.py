"""The acquisition pump in its own process, so no painting in the GUI process ever delays a sample.

The sound is only as punctual as the writes to the filtered ring. In the GUI process the pump thread needs the
GIL for every chunk, and PyQt holds the GIL through each C++ call it makes (a paint, an image drawn), so the
writes came up to 6 ms late while the window drew 16 channels at 20 kHz: the audio buffer had to cover that,
and still ran dry about once a minute. In a child process the pump has an interpreter to itself.

The child builds the source from its settings (so a source the settings describe, which is every source the
app offers), runs the ordinary :class:`~emgscope.acquisition.pump.AcquisitionPump` on it with both rings in
shared memory, and reports over the pipe: the pump's events, and the source's state
(:class:`~emgscope.core.controls.SourceState`) for the GUI's proxy (:mod:`emgscope.acquisition.proxy`). The GUI's
commands go the other way: a :class:`SetFilters`, a source control (:mod:`emgscope.core.controls`), or stop.
:class:`ProcessPump` has the pump's interface, so the session's connection treats both alike.

The parent owns the rings' memory: the blocks are named after it (:mod:`emgscope.core.shm`), it maps them when
the child reports the connection and unlinks them when they are no longer used, so the audio process can still
attach to a ring after the source ended.
"""

from __future__ import annotations

import contextlib
import copy
import os
import threading
from dataclasses import dataclass
from typing import Any

from emgscope.acquisition.proxy import STATE_INTERVAL_S, SourceProxy, proxy_for
from emgscope.acquisition.pump import AcquisitionPump, Pipeline, Replaced, wait_for_previous
from emgscope.acquisition.spare import PROCESS_NAME, take_spare
from emgscope.core import events, log
from emgscope.core.child import STOP, ChildProcess, ChildStartError
from emgscope.core.controls import Command, RecordingFacts, ReplayControl
from emgscope.core.events import Event, EventBus
from emgscope.core.realtime import ACQUISITION_PRIORITY
from emgscope.core.ring import SampleRing
from emgscope.core.settings import FilterSettings, SourceSettings
from emgscope.core.source import Source

STOP_WAIT_S = 5.0
"""How long the child may take to close its source once told to stop; after that it is killed."""

_log = log.logger(__name__)


@dataclass(frozen=True)
class SetFilters:
    """The GUI changed the clinical filters."""

    settings: FilterSettings


@dataclass(frozen=True)
class Connected:
    """The child's source is open: the event, where its rings are, and the facts of a replayed recording."""

    event: Event
    raw_name: str
    filtered_name: str
    capacity: int
    facts: RecordingFacts | None


@dataclass(frozen=True)
class StateUpdate:
    applied: int
    """Commands the child had applied when it took the state (the proxy knows which are still on their way)."""
    state: Any


class _ChildLink:
    """The child's side of the pipe: events and state go out in order, from either of its threads."""

    def __init__(self, conn: Any, source: Source) -> None:
        self._conn = conn
        self._source = source
        self._lock = threading.Lock()
        self._last_state: Any = None
        self.applied = 0
        """Commands applied so far."""

    def publish_state(self, force: bool = False) -> None:
        """Send the source's state if it changed since it was last sent, or anyway with ``force`` (after a
        command, so the proxy learns it was applied)."""
        with self._lock:
            self._publish_state(force)

    def _publish_state(self, force: bool = False) -> None:
        state = self._source.state()
        if force or state != self._last_state:
            self._last_state = state
            self._send(StateUpdate(self.applied, state))

    def forward(self, pump: AcquisitionPump, event: Event) -> None:
        """One pump event; the state goes first, so the GUI sees a replay's end when it hears of it."""
        with self._lock:
            self._publish_state()
            if event.kind == events.CONNECTED and pump.pipeline is not None:
                raw, filtered = pump.pipeline.raw, pump.pipeline.filtered
                for ring in (raw, filtered):
                    ring.hand_over()
                facts = self._source.facts if isinstance(self._source, ReplayControl) else None
                self._send(Connected(event, raw.shared_name, filtered.shared_name, raw.capacity, facts))
            else:
                self._send(event)

    def _send(self, message: Any) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):  # the GUI process is gone: the command loop stops
            self._conn.send(message)


def acquisition_main(conn: Any, settings: SourceSettings, filters: FilterSettings, owner_pid: int) -> None:
    """The acquisition process: run the source ``settings`` describe until told to stop or the source ends.

    ``owner_pid`` is the GUI process, which owns the rings (passed rather than asked for: a parent that died
    early would leave ``getppid()`` naming init, and blocks named after a process that always runs are never
    cleaned up).
    """
    from emgscope.acquisition.factory import make_source

    try:
        source = make_source(settings)
    except Exception as exc:  # any failure to build the source must reach the user as a failed connect
        conn.send(Event(events.CONNECT_FAILED, f"Could not create the source: {exc}"))
        return
    link = _ChildLink(conn, source)
    bus = EventBus()
    pump = AcquisitionPump(source, filters, bus, owner_pid=owner_pid)
    bus.subscribe(lambda event: link.forward(pump, event))
    pump.start()
    try:
        while pump.running:
            if not conn.poll(STATE_INTERVAL_S):
                link.publish_state()
                continue
            message = conn.recv()
            if message == STOP:
                break
            _apply(message, pump, source)
            link.applied += 1  # counted once done: state the pump thread sends meanwhile is still "before" it
            link.publish_state(force=True)
    except (EOFError, OSError):
        pass  # the GUI process is gone: stop and release the device
    except Exception as exc:  # a defect here must not pass for an ordinary stop
        _log.exception("The acquisition process failed")
        link.forward(pump, Event(events.SOURCE_ERROR, f"The acquisition process failed: {exc!r}"))
    finally:
        pump.stop(STOP_WAIT_S)


def _apply(message: SetFilters | Command, pump: AcquisitionPump, source: Source) -> None:
    """Carry out one command from the GUI; a control the source refuses is reported, never fatal."""
    if isinstance(message, SetFilters):
        pump.set_filters(message.settings)
        return
    if not isinstance(source, message.control):
        pump.bus.post(Event(events.WARNING, f"This source has no such control ({type(message).__name__})."))
        return
    try:
        message.apply(source)
    except Exception as exc:  # a control the source refused is reported; the stream goes on
        pump.bus.post(Event(events.WARNING, f"{type(message).__name__}: {exc}"))


class ProcessPump:
    """An :class:`AcquisitionPump` in a child process, seen through the pump's own interface.

    ``source`` is the :class:`~emgscope.acquisition.proxy.SourceProxy` for the settings' kind. A thread starts the
    child, then relays its messages; nothing here waits on the child from the caller's thread except
    :meth:`stop` with a timeout (only when the app closes).
    """

    def __init__(
        self,
        settings: SourceSettings,
        filter_settings: FilterSettings,
        bus: EventBus,
        previous: Replaced | None = None,
    ) -> None:
        """``previous``: the pump being replaced, whose device must be released before this child opens it."""
        self.settings = copy.deepcopy(settings)
        """As they were when connecting (the child gets this copy: later edits of the window's settings do not
        reach it half-made)."""
        self.bus = bus
        self.source: SourceProxy = proxy_for(settings.kind, self._send)
        self.pipeline: Pipeline | None = None
        self._filter_settings = filter_settings
        self._previous = previous
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._child: ChildProcess | None = None
        self._pending: list[SetFilters | Command] = []
        """Commands given before the child is listening (an effort set while the previous pump lets go)."""
        self._thread = threading.Thread(target=self._run, name="acquisition-link", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Tell the child to stop; wait up to ``timeout`` for it to have released its device."""
        with self._lock:
            self._stop.set()
            if self._child is not None:
                self._child.send(STOP)
        if timeout > 0 and self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        """Until the child has ended (its device is released then)."""
        return self._thread.is_alive()

    def set_filters(self, settings: FilterSettings) -> None:
        """Change the filters while streaming (the child warns of a design it had to adjust)."""
        self._filter_settings = settings
        self._send(SetFilters(settings))

    def _send(self, message: SetFilters | Command) -> None:
        with self._lock:
            if self._child is None:
                if not self._stop.is_set() and self.pipeline is None:
                    self._pending.append(message)
                return
            self._child.send(message)

    def _run(self) -> None:
        previous, self._previous = self._previous, None
        if not wait_for_previous(previous, self._stop):
            return
        task = (self.settings, self._filter_settings, os.getpid())
        spare = take_spare()
        child = spare or ChildProcess(PROCESS_NAME, acquisition_main, task, ACQUISITION_PRIORITY)
        with self._lock:
            if self._stop.is_set():
                if spare is not None:
                    spare.stop(0)
                return
            if spare is not None:
                spare.send(task)
            else:
                try:
                    child.start()
                except ChildStartError as exc:
                    message = f"The acquisition process could not start ({exc})."
                    self.bus.post(Event(events.CONNECT_FAILED, message))
                    return
            self._child = child
            pending, self._pending = self._pending, []
            for message in pending:
                child.send(message)
        try:
            self._relay(child)
        finally:
            with self._lock:
                self._child = None
            child.stop(0)

    def _relay(self, child: ChildProcess) -> None:
        """Pass the child's messages on until it ends; an end without STOPPED means it died."""
        stopped = connected = False
        try:
            while True:
                try:
                    message = child.conn.recv()
                except (EOFError, OSError):
                    break
                if isinstance(message, StateUpdate):
                    self.source.update(message.applied, message.state)
                    continue
                if isinstance(message, Connected):
                    self._attach(message)
                    connected = True
                    message = message.event
                stopped = stopped or message.kind in (events.STOPPED, events.CONNECT_FAILED)
                self.bus.post(message)
        except Exception as exc:  # the rings could not be mapped, or a subscriber failed: say so, then stop it
            _log.exception("Following the acquisition process failed")
            self.bus.post(Event(events.CONNECT_FAILED, f"The acquisition process could not be followed: {exc!r}"))
            stopped = True
            child.send(STOP)
        finally:
            child.join(STOP_WAIT_S)
        if stopped or self._stop.is_set() or not threading.main_thread().is_alive():
            return  # asked to stop, or the interpreter is exiting and ended its children itself: no news
        code = child.exitcode
        if not connected:
            failed = f"The acquisition process ended while connecting (exit code {code})."
            self.bus.post(Event(events.CONNECT_FAILED, failed))
            return
        index = self.pipeline.raw.write_index if self.pipeline is not None else None
        message = f"The acquisition process ended unexpectedly (exit code {code})."
        _log.error(message)
        self.bus.post(Event(events.SOURCE_ERROR, message, index))

    def _attach(self, connected: Connected) -> None:
        """Map the child's rings (this process unlinks them) before the CONNECTED event goes out."""
        info = connected.event.data["info"]
        n = info.n_channels
        raw = SampleRing.attach(connected.raw_name, n, connected.capacity, owner=True)
        filtered = SampleRing.attach(connected.filtered_name, n, connected.capacity, owner=True)
        if connected.facts is not None:
            self.source.facts = connected.facts  # type: ignore[attr-defined]
        self.pipeline = Pipeline(info, raw, filtered, None)  # the filters run in the child
