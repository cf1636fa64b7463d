"""The dark theme as the user sees it: every dialog and widget state read back from the real widgets' pixels."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QFileDialog,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QWidget,
)
from support.pixels import light_patches, lightness, most_common, rgb

from emgscope.core.events import EventBus
from emgscope.core.settings import FILTER_PRESETS, AudioSettings, RecordingSettings, SourceSettings
from emgscope.gui.about_dialog import AboutDialog
from emgscope.gui.audio_controls import AudioControls
from emgscope.gui.audio_dialog import AudioDialog
from emgscope.gui.bridge import EventBridge
from emgscope.gui.connection_dialog import ConnectionDialog
from emgscope.gui.exam_start_dialog import ExamStartDialog
from emgscope.gui.filter_dialog import FilterDialog
from emgscope.gui.replay_panel import FILE_FILTER
from emgscope.gui.session_dialog import SessionDialog
from emgscope.gui.theme import BASE, WINDOW
from emgscope.recording.session import SessionInfo
from emgscope.session.audio import AudioService


def file_dialog(folder: Path) -> QFileDialog:
    """The dialog ``QFileDialog.getOpenFileName`` builds for File → Open recording, on a folder of recordings."""
    for name in ("arm.bdf", "leg.edf"):
        (folder / name).write_bytes(b"")
    (folder / "older").mkdir()
    dialog = QFileDialog(None, "Open recording", str(folder), FILE_FILTER)
    dialog.resize(800, 500)
    return dialog


def connect_to_board(_folder: Path) -> ConnectionDialog:
    dialog = ConnectionDialog(SourceSettings())
    dialog.boardRadio.setChecked(True)
    dialog.select_board("CYTON_BOARD")
    return dialog


DIALOGS: dict[str, Callable[[Path], QWidget]] = {
    "session form": lambda _: SessionDialog(SessionInfo(patient_id="P1", notes="follow-up"), RecordingSettings()),
    "file dialog": file_dialog,
    "Connect: simulated patient": lambda _: ConnectionDialog(SourceSettings()),
    "Connect: board": connect_to_board,
    "Filters": lambda _: FilterDialog(FILTER_PRESETS["needle"]),
    "Output": lambda _: AudioDialog(AudioSettings()),
    "About": lambda _: AboutDialog(RecordingSettings()),
    "exam start": lambda _: ExamStartDialog(("Needle 1", "Needle 2"), True),
}


def shown(qtbot, widget: QWidget) -> QWidget:
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def hex_rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@pytest.mark.parametrize("name", list(DIALOGS))
def test_no_dialog_has_a_light_area(qtbot, themed, tmp_path: Path, name: str) -> None:
    dialog = shown(qtbot, DIALOGS[name](tmp_path))
    pixels = rgb(dialog)
    assert light_patches(pixels) == 0, f"{name}: a light field, list or scroll bar in the dark theme"
    assert np.median(lightness(pixels)) < 0.15


def test_the_session_forms_notes_and_birth_date_are_dark_and_a_disabled_field_looks_disabled(qtbot, themed) -> None:
    dialog = shown(qtbot, SessionDialog(SessionInfo(patient_id="P1"), RecordingSettings()))
    assert not dialog.birthdateCheck.isChecked() and not dialog.birthdateEdit.isEnabled()
    assert most_common(rgb(dialog.notesEdit)) == hex_rgb(BASE)
    assert most_common(rgb(dialog.birthdateEdit)) == hex_rgb(WINDOW)  # disabled: the window's colour, not a field's
    disabled_text = lightness(rgb(dialog.birthdateEdit)).max()
    enabled_text = lightness(rgb(dialog.patientIdEdit)).max()
    assert enabled_text > 0.75 and disabled_text < 0.5, (enabled_text, disabled_text)
    dialog.birthdateCheck.setChecked(True)
    assert most_common(rgb(dialog.birthdateEdit)) == hex_rgb(BASE)
    assert lightness(rgb(dialog.birthdateEdit)).max() > 0.75


def test_the_app_uses_qts_own_file_dialog_with_visible_toolbar_icons(qtbot, themed, tmp_path: Path) -> None:
    assert QApplication.testAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs)
    dialog = shown(qtbot, file_dialog(tmp_path))
    for name in ("toParentButton", "listModeButton", "detailModeButton"):
        button = dialog.findChild(QToolButton, name)
        assert button is not None and button.isEnabled()
        glyph = (lightness(rgb(button)) > 0.6).sum()
        assert glyph >= 12, f"{name}: {glyph} light pixels of icon"


def test_a_tables_headers_and_corner_cell_are_dark(qtbot, themed) -> None:
    table = QTableWidget(3, 3)  # as the exam summary builds it: both headers, so a corner cell between them
    table.setHorizontalHeaderLabels(["Segment", "RMS", "Flags"])
    table.setItem(0, 0, QTableWidgetItem("REST site 1/3"))
    table.resize(400, 200)
    shown(qtbot, table)
    corner = table.findChild(QAbstractButton)
    assert corner is not None and corner.isVisible()
    for part in (corner, table.horizontalHeader(), table.verticalHeader(), table.viewport()):
        assert lightness(np.array([most_common(rgb(part))])).max() < 0.15, part


def green_accent(pixels: np.ndarray) -> int:
    return int(((pixels[..., 1] > 200) & (pixels[..., 0] < 150) & (pixels[..., 2] < 170)).sum())


def test_the_checked_radio_button_in_connect_stands_out(qtbot, themed) -> None:
    dialog = shown(qtbot, ConnectionDialog(SourceSettings()))
    assert dialog.simRadio.isChecked()
    indicator = slice(0, 20)
    assert green_accent(rgb(dialog.simRadio)[:, indicator]) >= 20
    assert green_accent(rgb(dialog.boardRadio)[:, indicator]) == 0
    dialog.boardRadio.setChecked(True)
    assert green_accent(rgb(dialog.boardRadio)[:, indicator]) >= 20
    assert green_accent(rgb(dialog.simRadio)[:, indicator]) == 0


def amber_share(pixels: np.ndarray) -> float:
    return float(((pixels[..., 0] > 200) & (pixels[..., 1] > 150) & (pixels[..., 2] < 100)).mean())


def test_mute_on_fills_the_button(qtbot, themed, null_sink) -> None:
    bus = EventBus()
    strip = shown(qtbot, AudioControls(AudioService(AudioSettings(device=null_sink.device), bus), EventBridge(bus)))
    assert strip.mute.isEnabled() and not strip.mute.isChecked()
    assert amber_share(rgb(strip.mute)) == 0.0
    strip.mute.setChecked(True)
    assert amber_share(rgb(strip.mute)) > 0.6
    text = lightness(rgb(strip.mute)) < 0.2  # dark text on the amber
    assert text.sum() >= 20
