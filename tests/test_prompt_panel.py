"""The prompt panel: real Qt widgets offscreen, driven by a real runner on the sample clock."""

from __future__ import annotations

import threading

import pytest
from PyQt6.QtCore import Qt
from pytestqt.qtbot import QtBot

from emgscope.analysis.monitor import MUSCLE_SUMMARY
from emgscope.analysis.summary import SegmentSummary
from emgscope.core.events import Event
from emgscope.gui.prompt_panel import CUE_OFF, PromptPanel
from emgscope.protocol.annotation import FLAG_CUT_SHORT, FLAG_REPEAT, FLAG_REPEATED, FLAG_SKIPPED
from emgscope.protocol.loader import load_protocol, shipped_protocols
from emgscope.protocol.model import build_plan
from emgscope.protocol.runner import ExamRunner

pytestmark = pytest.mark.timeout(60)
"""Events cross from other threads: a hang fails its own test."""

RATE = 1000.0


def make_panel(qtbot: QtBot) -> tuple[PromptPanel, ExamRunner]:
    protocol = load_protocol(next(p for p in shipped_protocols() if p.stem == "needle_one_muscle"))
    runner = ExamRunner(build_plan(protocol, [("Tibialis anterior", "L")]), RATE)
    panel = PromptPanel(runner)
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow, timeout=10_000)  # the keys are window shortcuts: the window must be active
    return panel, runner


def test_panel_shows_prompt_instruction_countdown_step_and_muscle(qtbot: QtBot) -> None:
    panel, runner = make_panel(qtbot)
    assert panel.prompt_label.text() == "Ready" and panel.cue == CUE_OFF
    assert not panel.buttons["next"].isEnabled()
    runner.start(0)
    runner.advance_to(1200)  # INS lasts 3 s
    panel.refresh()
    assert panel.step_label.text() == "Step 1 of 8: INS"
    assert panel.place_label.text() == "Tibialis anterior L"
    assert panel.countdown_label.text() == " 1.8 s"
    assert panel.prompt_label.font().pointSize() >= 36
    # The countdown is read across the room too: large and bold, on its own line under the prompt, clear of
    # the header's step and muscle.
    count = panel.countdown_label
    assert count.font().pointSize() >= 30 and count.font().bold()
    assert count.font().pointSize() >= 2 * panel.step_label.font().pointSize()
    prompt_box = panel.prompt_label.geometry()
    assert count.geometry().top() >= prompt_box.bottom() and count.geometry().left() >= prompt_box.left()
    assert not count.geometry().intersects(panel.step_label.geometry())
    assert count.fontMetrics().horizontalAdvance("10.0 s") <= count.width()
    runner.advance_to(3000)
    qtbot.waitUntil(lambda: panel.prompt_label.text() == "Relax completely.", timeout=10_000)
    assert panel.step_label.text() == "Step 2 of 8: REST (site 1/3)"
    assert "spontaneous activity" in panel.instruction_label.text()


def test_buttons_and_keys_act_on_the_runner_at_the_current_sample(qtbot: QtBot) -> None:
    panel, runner = make_panel(qtbot)
    runner.start(0)
    runner.advance_to(500)
    qtbot.mouseClick(panel.buttons["next"], Qt.MouseButton.LeftButton)  # INS cut short at 500
    runner.advance_to(700)
    qtbot.keyClick(panel, Qt.Key.Key_R, Qt.KeyboardModifier.ShiftModifier)  # REST 1/3 repeated at 700
    runner.advance_to(900)
    qtbot.keyClick(panel, Qt.Key.Key_S)  # its second attempt skipped at 900
    qtbot.waitUntil(lambda: len(runner.annotations) == 3, timeout=10_000)
    rows = [(a.label, a.onset, a.duration, a.flags) for a in runner.annotations]
    assert rows == [
        ("INS", 0, 500, (FLAG_CUT_SHORT,)),
        ("REST", 500, 200, (FLAG_REPEATED,)),
        ("REST", 700, 200, (FLAG_REPEAT, FLAG_SKIPPED)),
    ]
    assert panel.step_label.text() == "Step 3 of 8: REST (site 2/3)"
    qtbot.keyClick(panel, Qt.Key.Key_Escape, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: runner.status.aborted, timeout=10_000)
    assert panel.prompt_label.text() == "Exam aborted"
    assert not panel.buttons["next"].isEnabled()


def test_events_from_another_thread_reach_the_panel_on_the_gui_thread(qtbot: QtBot) -> None:
    panel, runner = make_panel(qtbot)
    seen_threads: list[threading.Thread] = []
    original = panel._on_event

    def spy(event: Event) -> None:
        seen_threads.append(threading.current_thread())
        original(event)

    panel._bridge.event.disconnect()
    panel._bridge.event.connect(spy)
    worker = threading.Thread(target=lambda: (runner.start(0), runner.advance_to(3000)))
    worker.start()
    worker.join()
    row = SegmentSummary("Tibialis anterior", "L", "MAX", 1, 1.0, 4.0, 210.5, 3100.0, 160.0, 97.5, "")
    rest = SegmentSummary("Tibialis anterior", "L", "REST", 1, 5.0, 10.0, 4.1, 30.0, 900.0, 0.0, "", "site 2/3")
    threading.Thread(
        target=runner.bus.post, args=(Event(MUSCLE_SUMMARY, "Tibialis anterior L", 3000, {"rows": [row, rest]}),)
    ).start()
    qtbot.waitUntil(lambda: panel.summary_table.rowCount() == 2, timeout=10_000)
    assert seen_threads and all(t is threading.main_thread() for t in seen_threads)
    assert panel.summary_table.item(0, 0).text() == "MAX"
    assert panel.summary_table.item(0, 2).text() == "210.5"
    assert panel.summary_table.item(1, 0).text() == "REST site 2/3"  # which site, in the end-of-muscle table
    assert panel.summary_title.text() == "Summary: Tibialis anterior L"
    panel.detach()
