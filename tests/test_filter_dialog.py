"""The filter dialog says what will actually be applied at the stream's sample rate, and why it differs."""

from __future__ import annotations

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication
from support.window import open_window, wait_connected

from emgscope.core.settings import FILTER_PRESETS, Settings
from emgscope.gui.filter_dialog import FilterDialog


def dialog_note(qtbot, sample_rate: float | None, preset: str = "needle") -> FilterDialog:
    dialog = FilterDialog(FILTER_PRESETS[preset], sample_rate=sample_rate)
    qtbot.addWidget(dialog)
    return dialog


def test_at_20_khz_the_needle_band_is_held_at_9_khz_and_the_dialog_says_why(qtbot) -> None:
    dialog = dialog_note(qtbot, 20_000.0)
    assert dialog.highSpin.value() == 10_000.0  # what was asked stays in the field
    note = dialog.noteLabel.text()
    assert note.startswith("Applied at 20 kHz sampling: 10 Hz – 9 kHz. ")
    assert "held at 9 kHz, 0.45 × the sample rate" in note
    dialog.highSpin.setValue(5_000.0)
    assert dialog.noteLabel.text() == "Applied at 20 kHz sampling: 10 Hz – 5 kHz."
    dialog.notchCombo.setCurrentIndex(dialog.notchCombo.findData(50.0))
    assert dialog.noteLabel.text() == "Applied at 20 kHz sampling: 10 Hz – 5 kHz, notch 50 Hz."


def test_a_slow_board_gets_the_band_it_can_carry_and_the_warning(qtbot) -> None:
    dialog = dialog_note(qtbot, 250.0)
    note = dialog.noteLabel.text()
    assert note.startswith("Applied at 250 Hz sampling: 10 Hz – 112.5 Hz. ")
    assert "clamped to 112.5 Hz" in note


def test_without_a_stream_the_dialog_says_when_the_limit_applies(qtbot) -> None:
    dialog = dialog_note(qtbot, None, "surface")
    assert dialog.noteLabel.text().startswith("Applied when a source is connected")


def test_the_window_gives_the_dialog_its_streams_rate_and_both_show_the_same_band(qtbot) -> None:
    window = open_window(qtbot, Settings())
    wait_connected(qtbot, window)
    notes: list[str] = []

    def read_and_close() -> None:
        dialog = QApplication.activeModalWidget()
        dialog.reject()  # first: a dialog left open would hold the test in its event loop
        notes.append(dialog.noteLabel.text() if hasattr(dialog, "noteLabel") else "")

    QTimer.singleShot(300, read_and_close)
    window.edit_filters()
    assert window.scope.band_label.text() == "10 Hz – 9 kHz"
    assert notes and notes[0].startswith("Applied at 20 kHz sampling: 10 Hz – 9 kHz.")
