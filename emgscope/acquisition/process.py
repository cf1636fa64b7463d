"""The acquisition pump in its own process, so no painting in the GUI process ever delays a sample.

The sound is only as punctual as the writes to the filtered ring. In the GUI process the pump thread needs the
GIL for every chunk, and PyQt holds the GIL through each C++ call it makes (a paint, an image drawn), so the
writes came up to 6 ms late while the window drew 16 channels at 20 kHz: the audio buffer had to cover that,
and still ran dry about once a minute. In a child process the pump has an interpreter to itself.

The child builds the source from its settings (so a source the settings describe, which is every source the
app offers), runs the ordinary :class:`~emgscope.acquisition.pump.AcquisitionPump` on it with both rings in
shared memory, and reports over a pipe: the pump's events, and the source's state for the GUI's proxy
(:mod:`emgscope.acquisition.remote_source`). The GUI's commands (filters, source controls, stop) go the other
way. :class:`ProcessPump` has the pump's interface, so the connection controller treats both alike.

The parent owns the rings' memory: the blocks are named after it (:mod:`emgscope.core.shm`), it maps them when
the child reports the connection and unlinks them when they are no longer used, so the audio process can still
attach to a ring after the source ended.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import multiprocessing as mp
import os
import signal
import threading
from typing import Any

from emgscope.acquisition.pump import AcquisitionPump, Pipeline, Replaced, wait_for_previous
from emgscope.acquisition.remote_source import (
    STATE_INTERVAL_S,
    RemoteReplay,
    RemoteSource,
    observe,
    recording_facts,
    remote_class,
)
from emgscope.core import events
from emgscope.core.events import Event, EventBus
from emgscope.core.realtime import ACQUISITION_PRIORITY, freeze_startup_heap, raise_priority
from emgscope.core.ring import SampleRing
from emgscope.core.settings import FilterSettings, SourceSettings
from emgscope.core.source import Source
from emgscope.dsp.filters import FilterBank

STOP_WAIT_S = 5.0
"""How long the child may take to close its source once told to stop; after that it is killed."""
_EXITING = threading.Event()
"""Set when this interpreter begins to exit, before multiprocessing terminates the children it left running: a
child ended that way is no news, and the GUI being torn down must not be sent any."""
atexit.register(_EXITING.set)  # runs before multiprocessing's own exit handler, registered earlier


class _ChildLink:
    """The child's side of the pipe: events and state go out in order, from either of its threads."""

    def __init__(self, conn: Any, source: Source, observed: tuple[str, ...]) -> None:
        self._conn = conn
        self._source = source
        self._observed = observed
        self._lock = threading.Lock()
        self._last_state: dict[str, Any] | None = None
        self.applied = 0
        """Control commands applied so far (the proxy ignores state from before its latest command)."""

    def publish_state(self, force: bool = False) -> None:
        """Send the source's state if it changed since it was last sent, or anyway with ``force`` (after a
        command: the proxy's guess of its effect is replaced by the truth)."""
        with self._lock:
            self._publish_state(force)

    def _publish_state(self, force: bool = False) -> None:
        """Only what changed goes (a replay's play head, 50 times a second), everything when forced."""
        state = observe(self._source, self._observed)
        last = self._last_state or {}
        changed = state if force else {name: value for name, value in state.items() if last.get(name) != value}
        if changed or force:
            self._last_state = state
            self._conn.send(("state", self.applied, changed))

    def forward(self, pump: AcquisitionPump, event: Event) -> None:
        """One pump event; the state goes first, so the GUI sees a replay's end when it hears of it."""
        with self._lock, contextlib.suppress(BrokenPipeError, OSError):
            self._publish_state()
            if event.kind == events.CONNECTED and pump.pipeline is not None:
                raw, filtered = pump.pipeline.raw, pump.pipeline.filtered
                for ring in (raw, filtered):
                    ring.hand_over()
                rings = (raw.shared_name, filtered.shared_name, raw.capacity)
                self._conn.send(("connected", event, rings, recording_facts(self._source)))
            else:
                self._conn.send(("event", event))


def _child(settings: SourceSettings, filters: FilterSettings, owner_pid: int, conn: Any) -> None:
    """The acquisition process: run the source ``settings`` describe until told to stop or the source ends.

    ``owner_pid`` is the GUI process, which owns the rings (passed rather than asked for: a parent that died
    early would leave ``getppid()`` naming init, and blocks named after a process that always runs are never
    cleaned up).
    """
    from emgscope.acquisition.factory import make_source

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the terminal is the GUI's to handle
    try:
        source = make_source(settings)
    except Exception as exc:  # any failure to build the source must reach the user as a failed connect
        conn.send(("event", Event(events.CONNECT_FAILED, f"Could not create the source: {exc}")))
        return
    proxy = remote_class(settings.kind)
    link = _ChildLink(conn, source, proxy.observed())
    bus = EventBus()
    pump = AcquisitionPump(source, filters, bus, owner_pid=owner_pid)
    bus.subscribe(lambda event: link.forward(pump, event))
    freeze_startup_heap()
    # This thread takes the GIL too (commands, state): at ordinary priority it could be preempted while holding
    # it, and the pump would wait for it to be scheduled again (measured: write gaps up to 10 ms).
    raise_priority(ACQUISITION_PRIORITY)
    pump.start()
    try:
        while pump.running:
            if conn.poll(STATE_INTERVAL_S):
                message = conn.recv()
                if message[0] == "stop":
                    break
                _apply(message, pump, source, proxy, link)
                link.publish_state(force=True)
            else:
                link.publish_state()
    except (EOFError, OSError):
        pass  # the GUI process is gone: stop and release the device
    except Exception as exc:  # a defect here must not pass for an ordinary stop
        link.forward(pump, Event(events.SOURCE_ERROR, f"The acquisition process failed: {exc!r}"))
    finally:
        pump.stop(STOP_WAIT_S)


def _apply(
    message: tuple[Any, ...], pump: AcquisitionPump, source: Source, proxy: type[RemoteSource], link: _ChildLink
) -> None:
    """Carry out one command from the GUI; a refused control is reported, never fatal."""
    command = message[0]
    if command == "filters":
        pump.set_filters(message[1])
        return
    name = message[1]
    try:
        if command == "call" and name in proxy.commands:
            getattr(source, name)(*message[2])
        elif command == "set" and name in proxy.settable():
            setattr(source, name, message[2])
    except Exception as exc:  # a control the source refused is reported; the stream goes on
        pump.bus.post(Event(events.WARNING, f"{name}: {exc}"))
    link.applied += 1  # counted once done: state the pump thread sends meanwhile is still "before" it


class ProcessPump:
    """An :class:`AcquisitionPump` in a child process, seen through the pump's own interface.

    ``source`` is the :class:`~emgscope.acquisition.remote_source.RemoteSource` for the settings' kind. The
    thread that starts the child then relays its messages; nothing here waits on the child from the caller's
    thread except :meth:`stop` with a timeout (only when the app closes).
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
        self.source = remote_class(settings.kind)(self._send)
        self.pipeline: Pipeline | None = None
        self._filter_settings = filter_settings
        self._previous = previous
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._conn: Any = None
        self._pending: list[tuple[Any, ...]] = []
        """Commands given before the child is listening (an effort set while the previous pump lets go)."""
        self._thread = threading.Thread(target=self._run, name="acquisition-link", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Tell the child to stop; wait up to ``timeout`` for it to have released its device."""
        with self._lock:
            self._stop.set()
            self._send_locked(("stop",))
        if timeout > 0 and self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        """Until the child has ended (its device is released then)."""
        return self._thread.is_alive()

    def set_filters(self, settings: FilterSettings) -> None:
        """Change the filters while streaming (the child warns of a design it had to adjust)."""
        with self._lock:
            self._filter_settings = settings
            if self.pipeline is not None:
                self.pipeline.filters.update(settings)
            self._send_locked(("filters", settings))

    def _send(self, message: tuple[Any, ...]) -> None:
        with self._lock:
            self._send_locked(message)

    def _send_locked(self, message: tuple[Any, ...]) -> None:
        if self._conn is None:
            if not self._stop.is_set() and self.pipeline is None:
                self._pending.append(message)
            return
        with contextlib.suppress(BrokenPipeError, OSError):
            self._conn.send(message)  # a child that ended has nothing left to change

    def _run(self) -> None:
        previous, self._previous = self._previous, None
        if not wait_for_previous(previous, self._stop):
            return
        context = mp.get_context("spawn")
        conn, child_conn = context.Pipe()
        with self._lock:
            if self._stop.is_set():
                return
            process = context.Process(
                target=_child,
                args=(self.settings, self._filter_settings, os.getpid(), child_conn),
                name="emgscope-acquisition",
                daemon=True,
            )
            try:
                process.start()
            except (OSError, RuntimeError) as exc:
                self.bus.post(Event(events.CONNECT_FAILED, f"The acquisition process could not start ({exc})."))
                return
            self._conn = conn
            pending, self._pending = self._pending, []
            for message in pending:
                self._send_locked(message)
        child_conn.close()
        try:
            self._relay(conn, process)
        finally:
            with self._lock:
                self._conn = None
            conn.close()

    def _relay(self, conn: Any, process: Any) -> None:
        """Pass the child's messages on until it ends; an end without STOPPED means it died."""
        stopped = connected = False
        state = None
        try:
            while True:
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    break
                kind = message[0]
                if kind == "state":
                    state = {**(state or {}), **message[2]}
                    self.source.update(message[1], message[2])
                    continue
                event: Event = message[1]
                if kind == "connected":
                    self._attach(event.data["info"], *message[2], message[3])
                    connected = True
                stopped = stopped or event.kind in (events.STOPPED, events.CONNECT_FAILED)
                self.bus.post(event)
        except Exception as exc:  # the rings could not be mapped, or a subscriber failed: say so, then stop it
            self.bus.post(Event(events.CONNECT_FAILED, f"The acquisition process could not be followed: {exc!r}"))
            stopped = True
            with contextlib.suppress(BrokenPipeError, OSError):
                conn.send(("stop",))
        finally:
            process.join(STOP_WAIT_S)
            if process.is_alive():
                process.kill()
                process.join()
        if state is not None:
            self.source.settle(state)
        if stopped or self._stop.is_set() or _EXITING.is_set():
            return
        code = process.exitcode
        if not connected:
            failed = f"The acquisition process ended while connecting (exit code {code})."
            self.bus.post(Event(events.CONNECT_FAILED, failed))
            return
        index = self.pipeline.raw.write_index if self.pipeline is not None else None
        message = f"The acquisition process ended unexpectedly (exit code {code})."
        self.bus.post(Event(events.SOURCE_ERROR, message, index))

    def _attach(self, info: Any, raw_name: str, filtered_name: str, capacity: int, facts: Any) -> None:
        """Map the child's rings (this process unlinks them) before the CONNECTED event goes out."""
        n = info.n_channels
        raw = SampleRing.attach(raw_name, n, capacity, owner=True)
        filtered = SampleRing.attach(filtered_name, n, capacity, owner=True)
        if isinstance(self.source, RemoteReplay):
            self.source.recording = facts
        with self._lock:
            filters = FilterBank(self._filter_settings, info.sample_rate, n)
            self.pipeline = Pipeline(info, raw, filtered, filters)
