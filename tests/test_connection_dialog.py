"""The connection dialog and the connect-progress window, driven as a user would with qtbot, offscreen."""

from __future__ import annotations

from pathlib import Path

import pytest
from PyQt6.QtCore import QObject, Qt, pyqtSignal

from emgscope.acquisition import brainflow_boards as boards
from emgscope.acquisition.factory import make_source
from emgscope.acquisition.pump import AcquisitionPump
from emgscope.acquisition.simulator import MAX_CHANNELS, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE
from emgscope.core import events
from emgscope.core.events import EventBus
from emgscope.core.settings import BrainFlowSettings, FilterSettings, SimulatorSettings, SourceSettings
from emgscope.gui.connection_dialog import ConnectionDialog, ConnectProgressDialog

pytestmark = pytest.mark.timeout(60)
"""A real connect runs on a pump thread: a hang fails its own test."""


@pytest.fixture
def dialog(qtbot) -> ConnectionDialog:
    widget = ConnectionDialog(SourceSettings())
    qtbot.addWidget(widget)
    widget.show()
    return widget


def enabled_fields(dialog: ConnectionDialog) -> set[str]:
    return {name for name, (widget, *_) in dialog._field_widgets.items() if widget.isEnabled()}


def shown_fields(dialog: ConnectionDialog) -> set[str]:
    return {name for name, label in dialog._field_labels.items() if label.isVisibleTo(dialog)}


def visible_boards(dialog: ConnectionDialog) -> list[str]:
    items = (dialog.boardList.item(row) for row in range(dialog.boardList.count()))
    return [item.data(Qt.ItemDataRole.UserRole) for item in items if not item.isHidden()]


def click_ok(qtbot, dialog: ConnectionDialog) -> None:
    ok = dialog.buttonBox.button(dialog.buttonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)


def test_simulated_patient_settings_round_trip(qtbot) -> None:
    original = SourceSettings(simulator=SimulatorSettings(effort_percent=30.0, mains_hz=50.0))
    dialog = ConnectionDialog(original)
    qtbot.addWidget(dialog)
    assert dialog.simRadio.isChecked() and dialog.pages.currentWidget() is dialog.simPage
    dialog.pathologyCombo.setCurrentIndex(dialog.pathologyCombo.findData("neurogenic"))
    dialog.rateSpin.setValue(25_000)
    dialog.channelsSpin.setValue(4)
    dialog.seedSpin.setValue(9)
    assert dialog.mainsCombo.currentText() == "50 Hz", "the hum in the settings is shown"
    dialog.mainsCombo.setCurrentIndex(dialog.mainsCombo.findData(60.0))
    click_ok(qtbot, dialog)
    assert dialog.result() == dialog.DialogCode.Accepted
    result = dialog.source_settings()
    assert result.kind == "sim"
    assert result.simulator == SimulatorSettings("neurogenic", 30.0, 25_000.0, 4, 9, 60.0)
    assert original.simulator.pathology == "normal", "the caller's settings are not edited in place"


def test_choosing_a_serial_board_enables_the_serial_port_and_requires_it(qtbot, dialog: ConnectionDialog) -> None:
    qtbot.mouseClick(dialog.boardRadio, Qt.MouseButton.LeftButton)
    assert dialog.pages.currentWidget() is dialog.boardPage
    qtbot.keyClicks(dialog.searchEdit, "cyton")
    assert visible_boards(dialog) == ["CYTON_BOARD", "CYTON_DAISY_BOARD", "CYTON_DAISY_WIFI_BOARD", "CYTON_WIFI_BOARD"]
    dialog.select_board("CYTON_BOARD")
    assert enabled_fields(dialog) == {boards.SERIAL_PORT}
    assert dialog.serialPortLabel.text().endswith(" *")
    assert "250 Hz" in dialog.boardInfoLabel.text() and "112.5 Hz" in dialog.boardInfoLabel.text()

    click_ok(qtbot, dialog)
    assert dialog.isVisible(), "an empty required field keeps the dialog open"
    assert "needs a serial port" in dialog.errorLabel.text()

    dialog.serialPortCombo.setCurrentText("/dev/ttyUSB0")
    click_ok(qtbot, dialog)
    assert dialog.result() == dialog.DialogCode.Accepted
    result = dialog.source_settings()
    assert result.kind == "brainflow"
    assert result.brainflow.board == "CYTON_BOARD"
    assert result.brainflow.serial_port == "/dev/ttyUSB0"


@pytest.mark.parametrize(
    ("board", "fields"),
    [
        ("SYNTHETIC_BOARD", set()),
        ("CYTON_WIFI_BOARD", {boards.IP_ADDRESS, boards.IP_PORT, boards.TIMEOUT}),
        ("GANGLION_BOARD", {boards.SERIAL_PORT, boards.MAC_ADDRESS, boards.SERIAL_NUMBER, boards.TIMEOUT}),
        ("EXPLORE_8_CHAN_BOARD", {boards.MAC_ADDRESS, boards.TIMEOUT}),
        ("PLAYBACK_FILE_BOARD", {boards.FILE, boards.MASTER_BOARD}),
        ("SHIMMER3_BOARD", set(boards.ALL_FIELDS)),
    ],
)
def test_only_the_fields_a_board_reads_are_shown_and_enabled(
    dialog: ConnectionDialog, board: str, fields: set[str]
) -> None:
    dialog.boardRadio.setChecked(True)
    dialog.select_board(board)
    assert dialog.current_board().name == board
    assert enabled_fields(dialog) == fields
    assert shown_fields(dialog) == fields
    shown_widgets = {name for name, widgets in dialog._field_widgets.items() if widgets[0].isVisibleTo(dialog)}
    assert shown_widgets == fields
    assert dialog.browseButton.isEnabled() == (boards.FILE in fields)


def test_every_board_in_the_list_enables_its_familys_fields(dialog: ConnectionDialog) -> None:
    dialog.boardRadio.setChecked(True)
    assert dialog.boardList.count() == len(boards.board_catalogue())
    for board in boards.board_catalogue():
        dialog.select_board(board.name)
        assert enabled_fields(dialog) == shown_fields(dialog) == set(board.family.fields), board.name


def test_playback_asks_for_file_and_recording_board_and_then_connects(
    qtbot, dialog: ConnectionDialog, shared_data: Path
) -> None:
    dialog.boardRadio.setChecked(True)
    qtbot.keyClicks(dialog.searchEdit, "playback")
    assert visible_boards(dialog) == ["PLAYBACK_FILE_BOARD"]
    assert dialog.current_board().name == "PLAYBACK_FILE_BOARD"
    click_ok(qtbot, dialog)
    assert "Playback needs a file" in dialog.errorLabel.text()
    dialog.fileEdit.setText("/nonexistent/recording.csv")
    dialog.masterBoardCombo.setCurrentIndex(dialog.masterBoardCombo.findData("SYNTHETIC_BOARD"))
    click_ok(qtbot, dialog)
    assert dialog.errorLabel.text() == "There is no file /nonexistent/recording.csv."
    recording = shared_data / "brainflow" / "test_data.csv"
    dialog.fileEdit.setText(str(recording))
    click_ok(qtbot, dialog)
    assert dialog.result() == dialog.DialogCode.Accepted
    settings = dialog.source_settings()
    assert settings.brainflow.board == "PLAYBACK_FILE_BOARD"
    assert settings.brainflow.file == str(recording)
    assert settings.brainflow.master_board == "SYNTHETIC_BOARD"
    # What the dialog returns is what the real source opens.
    source = make_source(settings)
    try:
        info = source.open()
    finally:
        source.close()
    assert info.sample_rate == 250.0 and info.n_channels == 16


def test_existing_board_settings_are_shown_and_survive_switching_boards(qtbot) -> None:
    settings = SourceSettings(kind="brainflow", brainflow=BrainFlowSettings(board="0", serial_port="/dev/ttyACM3"))
    dialog = ConnectionDialog(settings)
    qtbot.addWidget(dialog)
    assert dialog.boardRadio.isChecked()
    assert dialog.current_board().name == "CYTON_BOARD"
    assert dialog.serialPortCombo.currentText() == "/dev/ttyACM3"
    dialog.select_board("SYNTHETIC_BOARD")
    assert not dialog.serialPortCombo.isEnabled()
    dialog.select_board("CYTON_BOARD")
    assert dialog.source_settings().brainflow.serial_port == "/dev/ttyACM3"


def test_an_unknown_board_in_the_settings_falls_back_to_the_synthetic_board(qtbot) -> None:
    dialog = ConnectionDialog(SourceSettings(kind="brainflow", brainflow=BrainFlowSettings(board="toaster")))
    qtbot.addWidget(dialog)
    assert dialog.current_board().name == "SYNTHETIC_BOARD"


def test_searching_by_id_and_with_no_match(qtbot, dialog: ConnectionDialog) -> None:
    dialog.boardRadio.setChecked(True)
    dialog.searchEdit.setText("-1)")
    assert visible_boards(dialog) == ["SYNTHETIC_BOARD"]
    dialog.searchEdit.setText("no such board")
    assert visible_boards(dialog) == []
    dialog.select_board("CYTON_BOARD")
    assert dialog.searchEdit.text() == "" and dialog.current_board().name == "CYTON_BOARD"


def test_progress_cancel_emits_once_and_the_window_is_not_modal(qtbot) -> None:
    progress = ConnectProgressDialog("Cyton on /dev/ttyUSB0")
    qtbot.addWidget(progress)
    progress.show()
    assert not progress.isModal()
    assert progress.messageLabel.text() == "Connecting to Cyton on /dev/ttyUSB0…"
    received = []
    progress.cancelled.connect(lambda: received.append(True))
    with qtbot.waitSignal(progress.cancelled, timeout=10_000):
        qtbot.mouseClick(progress.cancelButton, Qt.MouseButton.LeftButton)
    progress.reject()
    assert received == [True]
    assert not progress.isVisible() and not progress.connecting


def test_progress_success_closes_without_cancelling(qtbot) -> None:
    progress = ConnectProgressDialog("Synthetic")
    qtbot.addWidget(progress)
    progress.show()
    with qtbot.assertNotEmitted(progress.cancelled):
        progress.succeed()
        progress.close()
    assert not progress.isVisible()


class Relay(QObject):
    """Carries pump events to the GUI thread as a queued signal (what the app's event bridge does)."""

    failed = pyqtSignal(str)


def test_a_real_connect_failure_is_shown_in_plain_words(qtbot) -> None:
    progress = ConnectProgressDialog("Cyton on /dev/ttyNOPE")
    qtbot.addWidget(progress)
    progress.show()
    relay = Relay()
    relay.failed.connect(progress.fail)
    bus = EventBus()
    bus.subscribe(lambda event: relay.failed.emit(event.message) if event.kind == events.CONNECT_FAILED else None)
    settings = SourceSettings(kind="brainflow", brainflow=BrainFlowSettings("CYTON_BOARD", serial_port="/dev/ttyNOPE"))
    pump = AcquisitionPump(make_source(settings), FilterSettings(), bus)
    pump.start()
    qtbot.waitUntil(lambda: not progress.connecting, timeout=10_000)
    pump.stop()
    assert progress.messageLabel.text().startswith("No device at /dev/ttyNOPE: the serial port does not exist")
    assert progress.cancelButton.text() == "Close" and progress.progressBar.isHidden()
    with qtbot.assertNotEmitted(progress.cancelled):
        qtbot.mouseClick(progress.cancelButton, Qt.MouseButton.LeftButton)
    assert not progress.isVisible()


def test_the_simulator_fields_reach_the_simulators_own_limits(qtbot) -> None:
    """A patient started from the command line (``--channels 64 --rate 200000``) survives the dialog's OK."""
    original = SourceSettings(simulator=SimulatorSettings(sample_rate=MAX_SAMPLE_RATE, channels=MAX_CHANNELS))
    dialog = ConnectionDialog(original)
    qtbot.addWidget(dialog)
    result = dialog.source_settings().simulator
    assert (result.sample_rate, result.channels) == (MAX_SAMPLE_RATE, MAX_CHANNELS)
    assert dialog.rateSpin.minimum() == MIN_SAMPLE_RATE and dialog.channelsSpin.minimum() == 1
