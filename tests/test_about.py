"""Help → About, the first-start notice and ``--version``: the version, the licence, the not-a-medical-device
notice and where the user's data lives, said the same way in all three places."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDialogButtonBox, QMessageBox

from emgscope import __version__
from emgscope.cli import main
from emgscope.core.about import LICENCE, NOT_A_MEDICAL_DEVICE
from emgscope.core.settings import RecordingSettings, Settings
from emgscope.gui.about_dialog import AboutDialog, show_notice_once
from tests.support.window import open_window


def test_version_prints_the_licence_and_the_notice(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"emgscope {__version__}"
    assert LICENCE in lines[1]
    assert lines[2] == NOT_A_MEDICAL_DEVICE  # one line, not reflowed by argparse


def test_about_shows_the_version_the_notice_and_the_folders_in_force(qtbot, tmp_path: Path) -> None:
    sessions = tmp_path / "my sessions"
    dialog = AboutDialog(RecordingSettings(sessions_folder=str(sessions)))
    qtbot.addWidget(dialog)
    assert __version__ in dialog.versionLabel.text()
    assert NOT_A_MEDICAL_DEVICE in dialog.noticeLabel.text()
    assert LICENCE in dialog.licenceLabel.text()
    # The conftest points the settings folder at a private one: the dialog names that folder, not a default.
    settings_folder = Path(os.environ["EMGSCOPE_CONFIG_DIR"])
    assert f">{settings_folder}</a>" in dialog.settingsFolder.text()
    assert f">{sessions}</a>" in dialog.sessionsFolder.text()
    assert f">{os.environ['EMGSCOPE_LOG_DIR']}</a>" in dialog.logsFolder.text()  # the log folder in force, too


def test_help_menu_opens_about(qtbot) -> None:
    window = open_window(qtbot, Settings())
    help_menu = next(action.menu() for action in window.menuBar().actions() if action.text() == "&Help")
    assert [action.text() for action in help_menu.actions()] == ["Open &log folder", "&About emgscope…"]
    help_menu.actions()[1].trigger()
    dialog = window.findChild(AboutDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.mouseClick(dialog.buttonBox.button(QDialogButtonBox.StandardButton.Close), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.findChild(AboutDialog) is None)  # it deletes itself
    window.close()


def test_notice_is_shown_at_the_first_start_only(qtbot) -> None:
    settings = Settings()
    window = open_window(qtbot, settings)
    box = show_notice_once(window, settings)
    assert box is not None and box.isVisible() and box.text() == NOT_A_MEDICAL_DEVICE
    assert not settings.notice_shown  # not yet read
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert settings.notice_shown
    assert show_notice_once(window, settings) is None
    window.close()
