"""MUP analysis in the main window: the MUP menu, and the MUP panel docked under the scope.

The analysis runs in the session (:class:`~emgscope.session.muap.MuapService`: off the GUI thread, one sentence
when it cannot give a result); this module asks for it and shows what comes back:

* **A** (or *MUP → Analyse*) analyses what is in front of the user: live the last 5 s of the channel heard, in
  replay the range chosen in the replay panel (select a segment in its list, or type the loop range); what the
  analysis is doing shows in the status bar, and Esc (or *MUP → Cancel the analysis*) stops it. There is no
  toolbar: the toolbar rows already fill a 1400-pixel window, and a row wider than the window makes it grow each
  time the audio strip's readout changes length;
* a guided exam's minimal contraction is analysed when its step ends (the menu turns that off), or on request;
* results appear in the docked :class:`~emgscope.gui.muap_panel.MuapPanel`, one of several in the list above it
  (a replayed recording brings back every analysis saved with it); the clinician's edits are saved beside the
  recording as they are made, and a result that could not be saved says why.
"""

from __future__ import annotations

import dataclasses

from PyQt6.QtCore import QObject, Qt
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from emgscope.analysis.muap.model import SiteAnalysis
from emgscope.core import events
from emgscope.core.controls import ReplayControl
from emgscope.core.events import Event
from emgscope.gui.host import Host
from emgscope.gui.muap_panel import MuapPanel
from emgscope.session.muap import (
    LIVE_SECONDS,
    MUAP_CANCELLED,
    MUAP_DONE,
    MUAP_FAILED,
    MUAP_LOADED,
    MUAP_PROGRESS,
    MUAP_SAVED,
    MUAP_STARTED,
    MuapResult,
)
from emgscope.session.session import Session

DOCK_TITLE = "MUP analysis"
STAGES = {"reading": "Reading the recording…", "saving": "Saving the results…"}
"""What the status bar says at each stage of an analysis (while analysing: what is analysed)."""
CANCEL_HINT = " (Esc cancels)"


class MuapFeature(QObject):
    """The MUP menu and the docked MUP panel of one main window."""

    def __init__(self, session: Session, host: Host) -> None:
        super().__init__(host.widget())
        self.session = session
        self.host = host
        self.results: list[MuapResult] = []
        self._doing = ""
        """What the analysis running was asked to do, as the status bar says it."""
        window = host.widget()
        menu = host.menu("&MUP")
        self.analyse_action = QAction(f"&Analyse the last {LIVE_SECONDS:g} s", window)
        self.analyse_action.setShortcut(QKeySequence("A"))
        self.analyse_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.analyse_action.triggered.connect(self.analyse)
        self.minimal_action = QAction("Analyse the last &minimal contraction", window)
        self.minimal_action.setToolTip("The latest MIN step of a guided exam, analysed again")
        self.minimal_action.triggered.connect(session.muap.analyse_minimal_again)
        self.auto_action = QAction("Analyse each minimal contraction &when its step ends", window)
        self.auto_action.setCheckable(True)
        self.auto_action.setChecked(session.muap.analyse_minimal)
        self.auto_action.toggled.connect(lambda on: setattr(session.muap, "analyse_minimal", on))
        self.cancel_action = QAction("&Cancel the analysis", window)
        self.cancel_action.setShortcut(QKeySequence("Esc"))
        self.cancel_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.cancel_action.setEnabled(False)
        self.cancel_action.triggered.connect(session.muap.cancel)
        for action in (self.analyse_action, self.minimal_action, self.auto_action, self.cancel_action):
            menu.addAction(action)
        window.addAction(self.analyse_action)
        window.addAction(self.cancel_action)

        self.chooser = QComboBox()
        self.chooser.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.chooser.setToolTip("Every analysis of this recording or stream")
        self.chooser.activated.connect(self._chosen)
        self.note = QLabel(objectName="muapNote")
        self.note.setWordWrap(True)
        self.panel = MuapPanel()
        self.panel.changed.connect(self._edited)
        top = QHBoxLayout()
        top.addWidget(self.chooser)
        top.addWidget(self.note, 1)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.panel, 1)
        self.dock = host.add_dock(DOCK_TITLE, body, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.dock.hide()
        host.bridge.event.connect(self._on_event)

    # --- asking -------------------------------------------------------------------------------------------

    @property
    def replaying(self) -> bool:
        return isinstance(self.session.source, ReplayControl)

    def analyse(self) -> None:
        """Key A: the last 5 s live, or the chosen range of a replayed recording."""
        channel = self.session.audio.channel
        chosen = self.host.replay_range() if self.replaying else None
        if chosen is not None:
            self.session.muap.analyse_range(channel, *chosen)
        else:
            self.session.muap.analyse_last(channel)

    # --- showing ------------------------------------------------------------------------------------------

    def show_result(self, index: int) -> None:
        """Show result ``index`` of the list in the panel."""
        result = self.results[index]
        self.chooser.setCurrentIndex(index)
        self.panel.set_result(result.site)
        self.note.setText(result.note)
        self.dock.show()
        self.dock.raise_()

    def _add(self, result: MuapResult) -> None:
        self.results.append(result)
        self.chooser.addItem(result.title)
        self.show_result(len(self.results) - 1)

    def _chosen(self, index: int) -> None:
        if 0 <= index < len(self.results):
            self.show_result(index)

    def _edited(self, site: SiteAnalysis) -> None:
        """Keep the clinician's edit with the result, and in its results file."""
        index = self.chooser.currentIndex()
        if not 0 <= index < len(self.results):
            return
        result = self.results[index]
        self.results[index] = dataclasses.replace(result, site=site)
        self.session.muap.save(result, site)
        if result.recording is None:
            self.host.flash("The edit is kept while the window is open; these results are not saved.")

    def _clear(self) -> None:
        self.results.clear()
        self.chooser.clear()
        self.note.setText("")
        self.dock.hide()

    def _on_event(self, event: Event) -> None:
        kind = event.kind
        if kind == events.CONNECTED:
            self._clear()
            if self.replaying:
                self.analyse_action.setText("&Analyse the chosen range")
                self.analyse_action.setToolTip("The range set in the replay panel (select a segment in its list)")
            else:
                self.analyse_action.setText(f"&Analyse the last {LIVE_SECONDS:g} s")
                self.analyse_action.setToolTip(f"The last {LIVE_SECONDS:g} s of the channel heard")
            return
        if kind not in (MUAP_STARTED, MUAP_PROGRESS, MUAP_DONE, MUAP_FAILED, MUAP_CANCELLED, MUAP_LOADED, MUAP_SAVED):
            return
        if kind == MUAP_STARTED:
            self._doing = event.message
            self.host.flash(event.message + CANCEL_HINT)
        elif kind == MUAP_PROGRESS:
            self.host.flash(STAGES.get(event.message, self._doing) + CANCEL_HINT)
        elif kind == MUAP_DONE:
            self._add(event.data["result"])
            self.host.flash(event.message)
        elif kind == MUAP_FAILED:
            self.host.banner.show(event.message, "warning")
        elif kind == MUAP_CANCELLED:
            self.host.flash(event.message)
        elif kind == MUAP_LOADED:
            for result in event.data["results"]:
                self.results.append(result)
                self.chooser.addItem(result.title)
            self.show_result(len(self.results) - 1)
            self.host.flash(f"MUP results reopened from {event.message}")
        elif kind == MUAP_SAVED:
            self.host.flash(event.message)
        self.cancel_action.setEnabled(self.session.muap.running)
