"""Connecting to a source without ever blocking the caller (the GUI thread), and letting the user cancel.

Each connection gets its own pump and its own private event bus. The sources the settings describe (every
source the app offers) run in the acquisition process (:class:`~emgscope.acquisition.process.ProcessPump`), so
the window's painting never delays a sample on its way to the loudspeaker; a source built by a caller's own
factory (an embedding program's device, a test's signal) runs on an
:class:`~emgscope.acquisition.pump.AcquisitionPump` thread in this process.
The controller forwards that bus to the application's bus only while the pump is the current one, so a
connection the user cancelled (whose thread may still sit in a blocking ``open()`` for seconds) can never
announce itself later. Stopping a pump never waits for its thread here: the thread closes its source itself.
"""

from __future__ import annotations

from collections.abc import Callable

from emgscope.acquisition.process import ProcessPump
from emgscope.acquisition.proxy import SourceProxy
from emgscope.acquisition.pump import AcquisitionPump, Pipeline
from emgscope.core import events
from emgscope.core.events import Event, EventBus
from emgscope.core.settings import FilterSettings, SourceSettings
from emgscope.core.source import Source, SourceError

SourceFactory = Callable[[SourceSettings], Source]

SHUTDOWN_WAIT_S = 2.0
"""How long closing the app waits for the acquisition process to release the device."""


class Connection:
    """Owns the current pump; posts CONNECT_FAILED on the app bus when a source cannot even be built."""

    def __init__(self, bus: EventBus, source_factory: SourceFactory | None = None) -> None:
        """``source_factory``: build sources in this process instead of the acquisition process."""
        self.bus = bus
        self.source_factory = source_factory
        self.pump: ProcessPump | AcquisitionPump | None = None
        self.settings: SourceSettings | None = None

    @property
    def pipeline(self) -> Pipeline | None:
        return self.pump.pipeline if self.pump is not None else None

    @property
    def source(self) -> SourceProxy | Source | None:
        return self.pump.source if self.pump is not None else None

    def connect(self, settings: SourceSettings, filters: FilterSettings) -> None:
        """Start connecting to ``settings`` (replacing any current source); returns at once.

        The new pump's thread opens its source only once the replaced pump's thread has closed its own, so
        reconnecting to the same board (the "Reconnect" of a lost connection) never finds it still in use.
        """
        previous = self.pump
        self.disconnect()
        self.settings = settings
        pump_bus = EventBus()
        pump: ProcessPump | AcquisitionPump
        if self.source_factory is None:
            pump = ProcessPump(settings, filters, pump_bus, previous=previous)
        else:
            try:
                source = self.source_factory(settings)
            except (SourceError, ValueError, ImportError) as exc:
                self.bus.post(Event(events.CONNECT_FAILED, f"Could not create the source: {exc}"))
                return
            pump = AcquisitionPump(source, filters, pump_bus, previous=previous)
        pump_bus.subscribe(lambda event: self._forward(pump, event))
        self.pump = pump
        pump.start()

    def reconnect(self, filters: FilterSettings) -> None:
        if self.settings is not None:
            self.connect(self.settings, filters)

    def disconnect(self, wait_s: float = 0.0) -> None:
        """Let go of the current pump; ``wait_s`` > 0 only when the app is closing."""
        pump, self.pump = self.pump, None
        if pump is not None:
            pump.stop(wait_s)

    def _forward(self, pump: ProcessPump | AcquisitionPump, event: Event) -> None:
        if pump is self.pump:
            self.bus.post(event)
