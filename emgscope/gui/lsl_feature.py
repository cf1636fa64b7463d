"""LSL out in the window: a toggle on the toolbar (and in the File menu), the choice of signal, and what is published.

Publishing is the session's (:class:`~emgscope.session.lsl_out.LslPublisher`); this only switches it and shows it.
It starts off each time the app starts (``--lsl-out`` turns it on), since it puts the patient's signal on the lab's
network; while on, the toolbar button stays pressed and its tooltip names the streams.
"""

from __future__ import annotations

from PyQt6.QtCore import QObject
from PyQt6.QtGui import QAction, QActionGroup

from emgscope.core.events import Event
from emgscope.gui.host import Host
from emgscope.session.lsl_out import LSL_OUT, LslPublisher

OFF_TIP = "Publish the signal and the markers as Lab Streaming Layer streams, for LSL recorders and analysis tools"


class LslFeature(QObject):
    """The LSL out toggle, over the session's publisher."""

    def __init__(self, publisher: LslPublisher, host: Host) -> None:
        super().__init__(host.widget())
        self.publisher = publisher
        self.host = host
        parent = host.widget()
        self.toggle_action = QAction("LSL out", parent)
        self.toggle_action.setCheckable(True)
        self.toggle_action.setToolTip(OFF_TIP)
        self.toggle_action.toggled.connect(self._toggled)
        self.filtered_action = QAction("Publish the &filtered signal (as drawn and heard)", parent)
        self.raw_action = QAction("Publish the &raw signal (as recorded)", parent)
        group = QActionGroup(parent)
        for action, signal in ((self.filtered_action, "filtered"), (self.raw_action, "raw")):
            action.setCheckable(True)
            action.setChecked(publisher.settings.signal == signal)
            action.triggered.connect(lambda _checked, signal=signal: publisher.set_signal(signal))
            group.addAction(action)
        menu = host.menu("&File").addMenu("&Lab Streaming Layer")
        self.toggle_action.setText("Publish on &LSL")
        menu.addAction(self.toggle_action)
        menu.addSeparator()
        menu.addAction(self.filtered_action)
        menu.addAction(self.raw_action)
        host.add_toolbar_section("LSL").addAction(self.toggle_action)
        self.toggle_action.setIconText("LSL out")
        host.bridge.event.connect(self._on_event)
        self.sync()

    def _toggled(self, on: bool) -> None:
        if on != self.publisher.enabled:
            self.publisher.set_enabled(on)

    def sync(self) -> None:
        """Show the publisher's state (it may have been switched on before the window, by ``--lsl-out``)."""
        self.toggle_action.blockSignals(True)
        self.toggle_action.setChecked(self.publisher.enabled)
        self.toggle_action.blockSignals(False)
        publishing = self.publisher.publishing
        waiting = "LSL out is on: publishing starts when a source connects."
        self.toggle_action.setToolTip(
            f"Publishing {publishing}" if publishing else waiting if self.publisher.enabled else OFF_TIP
        )

    def _on_event(self, event: Event) -> None:
        if event.kind != LSL_OUT:
            return
        self.sync()
        self.host.flash(f"Publishing {event.message}" if event.message else "Nothing is published on LSL any more.")
