"""Help → About (version, licence, the not-a-medical-device notice, where the user's data lives), and the notice
shown once at the first start.

The form is ``ui/about_dialog.ui``; the words and the folders come from :mod:`emgscope.core.about`, which the
command line's ``--version`` uses too, so the three places say the same.
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import Qt, QUrl
from PyQt6.QtGui import QAction, QIcon
from PyQt6.QtWidgets import QDialog, QMainWindow, QMenu, QMessageBox, QWidget

from emgscope import __version__
from emgscope.core.about import LICENCE, LICENCE_URL, NOT_A_MEDICAL_DEVICE, data_folders
from emgscope.core.paths import resource
from emgscope.core.settings import RecordingSettings, Settings
from emgscope.gui.forms import load_form

ICON_SIZE = 64
LINK_STYLE = "color: #8fd3ff"
"""Links light enough to read on the app's dark style sheet (Qt's default link blue is not)."""
NOTICE_TITLE = "emgscope is not a medical device"


def _folder_link(folder: Path) -> str:
    """The folder as a link that opens it in the file manager (its path as the text, to copy)."""
    return f'<a style="{LINK_STYLE}" href="{QUrl.fromLocalFile(str(folder)).toString()}">{folder}</a>'


class AboutDialog(QDialog):
    """What this emgscope is, and where it keeps the user's settings, sessions and logs."""

    def __init__(self, recording: RecordingSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        load_form("about_dialog.ui", self)
        self.iconLabel.setPixmap(QIcon(str(resource("icons", "emgscope.svg"))).pixmap(ICON_SIZE, ICON_SIZE))
        self.versionLabel.setText(f"Version {__version__}")
        self.noticeLabel.setText(f"<b>{NOT_A_MEDICAL_DEVICE}</b>")
        self.licenceLabel.setText(
            f'Free software under the <a style="{LINK_STYLE}" href="{LICENCE_URL}">GNU General Public License</a> '
            f"({LICENCE}), with no warranty."
        )
        folders = data_folders(recording)
        self.settingsFolder.setText(_folder_link(folders.settings))
        self.sessionsFolder.setText(_folder_link(folders.sessions))
        self.logsFolder.setText(_folder_link(folders.logs))


def add_about(menu: QMenu, window: QMainWindow, settings: Settings) -> None:
    """Add About emgscope… to ``menu`` (the Help menu; the dialog shows ``settings``' sessions folder)."""
    about = QAction("&About emgscope…", window)
    about.setMenuRole(QAction.MenuRole.AboutRole)
    about.triggered.connect(lambda: show_about(window, settings))
    menu.addAction(about)


def show_about(window: QWidget, settings: Settings) -> AboutDialog:
    """Open the About dialog over ``window`` (it deletes itself when closed)."""
    dialog = AboutDialog(settings.recording, window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


def show_notice_once(window: QWidget, settings: Settings) -> QMessageBox | None:
    """At the first start, tell the user emgscope is not a medical device (without blocking the window); the
    settings remember it was acknowledged. The message box, or ``None`` when it has been shown before."""
    if settings.notice_shown:
        return None
    box = QMessageBox(
        QMessageBox.Icon.Warning, NOTICE_TITLE, NOT_A_MEDICAL_DEVICE, QMessageBox.StandardButton.Ok, window
    )
    box.setInformativeText("Help → About emgscope shows this again, with where your data is kept.")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.finished.connect(lambda _result: setattr(settings, "notice_shown", True))
    box.open()
    return box
