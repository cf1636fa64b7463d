"""What a GUI feature may ask of the window it lives in: a small interface, never the whole window.

A feature (the recording controls, the replay dock, the guided exam) gets the :class:`~emgscope.session.Session`
it drives and a :class:`Host`: places to put its widgets, the banner, the scope's bands, and the app's events as a
Qt signal. :class:`~emgscope.gui.main_window.MainWindow` is the one host; a test can be another.
"""

from __future__ import annotations

from typing import Protocol

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDockWidget, QMenu, QToolBar, QWidget

from emgscope.gui.banner import Banner
from emgscope.gui.bridge import EventBridge
from emgscope.gui.scope_items import Band


class Host(Protocol):
    """The window, as a feature sees it."""

    bridge: EventBridge
    """The session's events, re-emitted on the GUI thread (``bridge.event``)."""
    banner: Banner

    def widget(self) -> QWidget:
        """The parent for a feature's dialogs."""
        ...

    def add_toolbar_section(self, title: str, new_row: bool = False) -> QToolBar: ...

    def add_dock(
        self, title: str, widget: QWidget, area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea
    ) -> QDockWidget: ...

    def remove_dock(self, dock: QDockWidget) -> None: ...

    def menu(self, title: str) -> QMenu:
        """The menu bar's menu of that title (``"&File"``, ``"E&xam"``), made if it does not exist yet."""
        ...

    def set_bands(self, group: str, bands: list[Band]) -> None:
        """Show ``bands`` on the scope for one owner, replacing that owner's earlier ones."""
        ...

    def connect_source(self) -> None:
        """Connect to the source in the settings, with the window's progress and failure display."""
        ...

    def lock_source(self, locked: bool) -> None:
        """While recording, the source cannot be changed (the file holds one stream)."""
        ...

    def start_from_study_defaults(self, reason: str, filters: bool = True) -> None:
        """Set the study defaults (the scales, and the filters unless ``filters`` is off) and say why
        (``"New patient"``, ``"Guided exam"``)."""
        ...

    def flash(self, text: str) -> None:
        """A passing message in the status bar (a marker dropped)."""
        ...

    def show_patient_effort(self, percent: float, driven: bool) -> None:
        """The simulated patient's effort on its control; ``driven``: a guided exam sets it, the control only shows."""
        ...

    def replay_range(self) -> tuple[float, float] | None:
        """The range (s) chosen in the replay panel (its loop range), or ``None`` while nothing is replayed."""
        ...
