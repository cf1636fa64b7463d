"""The replay dock with real widgets (offscreen) driving a real replay in the real pump.

Each test runs twice: with the replay in the acquisition process, as the app runs it (the panel drives its
proxy), and with a :class:`ReplaySource` on a pump thread in this process, as a caller's factory runs it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QMenu
from support.waiting import wait_until, wait_until_still

from emgscope.acquisition.process import ProcessPump
from emgscope.acquisition.pump import AcquisitionPump
from emgscope.core.controls import ReplayControl
from emgscope.core.events import EventBus
from emgscope.core.settings import FilterSettings, ReplaySettings, SourceSettings
from emgscope.gui.replay_panel import ReplayPanel, fill_recent_menu, format_time, parse_time
from emgscope.replay.recent import add_recent
from emgscope.replay.source import ReplaySource

pytestmark = pytest.mark.timeout(60)
"""The replay plays in the acquisition process or on a pump thread: a hang fails its own test."""

PUMPS = pytest.mark.parametrize("pump_kind", ["acquisition process", "thread"])


def _running(path: Path, pump_kind: str, speed: float = 1.0) -> tuple[ReplayControl, AcquisitionPump | ProcessPump]:
    pump: AcquisitionPump | ProcessPump
    if pump_kind == "thread":
        pump = AcquisitionPump(ReplaySource(path, speed=speed), FilterSettings(), EventBus())
    else:
        settings = SourceSettings("replay", replay=ReplaySettings(file=str(path), speed=speed))
        pump = ProcessPump(settings, FilterSettings(), EventBus())
    pump.start()
    wait_until(lambda: pump.pipeline is not None, 15.0, "the replay to connect")
    return pump.source, pump


@PUMPS
def test_play_pause_speed_annotations_and_time(qtbot, shared_data: Path, pump_kind: str) -> None:
    source, pump = _running(shared_data / "mne_python/test.edf", pump_kind)
    try:
        panel = ReplayPanel()
        qtbot.addWidget(panel)
        panel.show()
        panel.set_source(source)
        assert panel.annotation_list.count() == 5
        assert panel.duration_label.text() == "/ 0:06.0"

        def settled() -> None:
            """The replay applied what the panel asked (at once in this process, soon in the acquisition one)."""
            qtbot.waitUntil(lambda: source.settled, timeout=10_000)

        qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
        settled()
        assert source.paused and panel.play_button.text() == "Play (Space)"
        assert pump.pipeline is not None
        wait_until_still(pump.pipeline.raw)  # fails if samples keep coming

        panel.speed_combo.setCurrentIndex(panel.speed_combo.findData(4.0))
        settled()
        assert source.speed == 4.0

        item = panel.annotation_list.item(3)
        rect = panel.annotation_list.visualItemRect(item)
        qtbot.mouseClick(panel.annotation_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        settled()
        assert source.position_s == pytest.approx(2.0, abs=1 / 512)
        qtbot.waitUntil(lambda: panel.time_edit.text() == "0:02.0", timeout=10_000)

        panel.time_edit.setFocus()
        panel.time_edit.setText("0:03.5")
        qtbot.keyClick(panel.time_edit, Qt.Key.Key_Return)
        settled()
        assert source.position_s == pytest.approx(3.5, abs=1 / 512)
        panel.time_edit.setText("soon")
        qtbot.keyClick(panel.time_edit, Qt.Key.Key_Return)
        assert "not a time" in panel.message.text() and source.position_s == pytest.approx(3.5, abs=1 / 512)

        qtbot.mouseClick(panel.previous_button, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(panel.previous_button, Qt.MouseButton.LeftButton)  # at once: counts from where it asked
        settled()
        assert source.position_s == pytest.approx(0.3904, abs=1 / 512)  # 'type A' at 2.5 s, then the one before
        qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
        settled()
        assert source.position_s == pytest.approx(2.5, abs=1 / 512)
        assert panel.loop_start.value() == pytest.approx(2.5)  # the clicked segment fills the loop range

        panel.loop_start.setValue(1.0)
        panel.loop_end.setValue(2.0)
        qtbot.mouseClick(panel.loop_button, Qt.MouseButton.LeftButton)
        settled()
        assert source.loop == pytest.approx((1.0, 2.0))
        assert source.position_s == pytest.approx(1.0, abs=1 / 512)
        panel.seek(1.5)
        settled()
        assert source.loop is not None
        panel.seek(4.0)
        settled()
        assert source.loop is None and not panel.loop_button.isChecked()

        qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
        settled()
        assert not source.paused
        start = source.position_s
        qtbot.waitUntil(lambda: source.position_s > start + 0.5, timeout=10_000)
        qtbot.waitUntil(lambda: panel.slider.value() > round(start * 100), timeout=10_000)
    finally:
        pump.stop()


@PUMPS
def test_end_of_recording_offers_restart(qtbot, shared_data: Path, pump_kind: str) -> None:
    path = shared_data / "bids_examples/emg_CustomBipolar__sub-01_task-holdWeight_emg.edf"
    source, pump = _running(path, pump_kind, 4.0)
    try:
        panel = ReplayPanel()
        qtbot.addWidget(panel)
        panel.set_source(source)
        qtbot.waitUntil(lambda: not panel.play_button.isChecked(), timeout=10_000)
        assert "End of the recording" in panel.message.text()
        with qtbot.waitSignal(panel.restart_requested, timeout=10_000) as signal:
            qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
        assert signal.args == [0.0]
    finally:
        pump.stop()


def test_time_text() -> None:
    assert parse_time("83.5") == 83.5
    assert parse_time("1:23.5") == 83.5
    assert parse_time("1:01:23.5") == 3683.5
    assert parse_time("12 s") == 12
    assert parse_time("abc") is None and parse_time("") is None
    assert format_time(83.5) == "1:23.5" and format_time(3683.5) == "1:01:23.5"


def test_empty_panel_is_disabled(qtbot) -> None:
    panel = ReplayPanel()
    qtbot.addWidget(panel)
    assert not panel.body.isEnabled()
    panel.seek(3.0)
    panel.jump_segment(1)


def test_recent_menu_reopens_a_file(qtbot, tmp_path: Path) -> None:
    menu = QMenu()
    opened: list[Path] = []
    fill_recent_menu(menu, opened.append)
    assert [a.text() for a in menu.actions()] == ["(no recent recordings)"]
    for name in ("a.bdf", "b.edf"):
        (tmp_path / name).write_bytes(b"0")
        add_recent(tmp_path / name)
    fill_recent_menu(menu, opened.append)
    assert [a.text() for a in menu.actions()] == ["b.edf", "a.bdf"]
    menu.actions()[1].trigger()
    assert opened == [(tmp_path / "a.bdf").resolve()]
