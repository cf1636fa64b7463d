"""The guided exam in the main window, driven as an operator drives it: real widgets offscreen, the real simulated
patient paced by the clock, a real recording, and the bands on the scope checked in pixels.

The whole-exam test uses a short protocol written for the test (the shipped ones last about a minute), run through
the same start path as the dialog; the dialog itself is exercised with a shipped protocol.
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np
import pyedflib
import pytest
from PyQt6.QtCore import Qt
from support.window import open_window as open_test_window
from support.window import wait_connected

from emgscope.core.settings import FILTER_PRESETS, RecordingSettings, Settings
from emgscope.gui.exam_feature import BAND_GROUP
from emgscope.gui.main_window import MainWindow
from emgscope.gui.replay_panel import file_bands
from emgscope.gui.scope_items import LANE_FLAG, LANE_SEGMENT, Band
from emgscope.gui.scope_view import ScopeView
from emgscope.protocol.annotation import SEGMENT, label_colour
from emgscope.protocol.loader import load_protocol
from emgscope.recording.session import SessionInfo
from emgscope.replay.reader import Annotation as FileAnnotation
from emgscope.replay.reader import open_recording
from emgscope.session.exam import ExamChoice, save_summary

pytestmark = pytest.mark.timeout(60)
"""The window streams from the acquisition process: a hang fails its own test."""

RATE = 20_000.0
SHORT_PROTOCOL = """
title = "Short test exam"
filter_preset = "needle"
muscles = ["Biceps brachii"]
sides = ["L", "R"]

[[step]]
label = "INS"
prompt = "Stay relaxed."
duration = 0.5

[[step]]
label = "REST"
prompt = "Relax completely."
duration = 1.5

[[step]]
label = "MIN"
prompt = "Tighten very gently."
duration = "operator"

[[step]]
label = "MAX"
prompt = "Push as hard as you can."
duration = 1.5

[[step]]
label = "REST"
prompt = "And relax."
duration = 1.5
"""


def open_window(qtbot, settings: Settings | None = None) -> MainWindow:
    window = open_test_window(qtbot, settings or Settings())
    wait_connected(qtbot, window)
    return window


def test_whole_exam_through_the_gui_is_recorded_with_every_segment(qtbot, tmp_path: Path) -> None:
    settings = Settings()
    settings.filters = FILTER_PRESETS["surface"]
    window = open_window(qtbot, settings)
    feature = window.exam
    controls = window.sessions.record_controls
    controls.start_recording(SessionInfo(patient_id="T-1"), RecordingSettings(str(tmp_path), "bdf"))
    qtbot.waitUntil(lambda: controls.recorder is not None and controls.recorder.path is not None, timeout=10_000)
    recorder = controls.recorder

    protocol_file = tmp_path / "short.toml"
    protocol_file.write_text(SHORT_PROTOCOL, encoding="utf-8")
    exam = feature.start(ExamChoice(load_protocol(protocol_file), [("Biceps brachii", "L")], 0, "compliant"))
    assert exam is not None
    assert window.settings.filters.preset == "needle"  # the protocol's preset replaced the surface one
    panel = feature.dock.widget()
    runner = exam.runner
    assert not feature.start_action.isEnabled() and feature.abort_action.isEnabled()

    # 0.3 s into the first REST (of 1.5 s), by the signal: the operator asks for it again.
    def into_first_rest() -> bool:
        status = runner.status
        return status.index == 1 and status.sample_index >= status.onset + 0.3 * RATE

    qtbot.waitUntil(into_first_rest, timeout=10_000)
    qtbot.mouseClick(panel.buttons["repeat"], Qt.MouseButton.LeftButton)  # "again, please": a new REST attempt
    assert runner.status.attempt == 2 and "attempt 2" in panel.step_label.text()
    qtbot.waitUntil(lambda: runner.status.planned is not None and runner.status.planned.label == "MIN", timeout=10_000)
    assert panel.countdown_label.text() == "until you advance"
    # The operator lets the gentle contraction run 1.2 s of signal, long enough for its reaction time.
    qtbot.waitUntil(lambda: runner.status.sample_index >= runner.status.onset + 1.2 * RATE, timeout=10_000)
    qtbot.mouseClick(panel.buttons["next"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.exam is None, timeout=20_000)
    assert panel.prompt_label.text() == "Exam finished"
    assert panel.summary_table.isVisibleTo(panel) and panel.summary_table.rowCount() == 6

    segments = [a for a in runner.annotations if a.kind == SEGMENT]
    assert [a.label for a in segments] == ["INS", "REST", "REST", "MIN", "MAX", "REST"]
    assert segments[1].flags == ("repeated",) and segments[2].flags == ("repeat",) and segments[2].attempt == 2
    assert all(b.onset == a.end for a, b in itertools.pairwise(segments))
    assert segments[4].duration == segments[5].duration == round(1.5 * RATE)
    truth = exam.driver.truth
    assert [c.label for c in truth][:2] == ["MIN", "MAX"] and truth[0].effort_percent == 10.0

    bands = window.scope.bands.bands(BAND_GROUP)
    drawn = [b for b in bands if b.lane == LANE_SEGMENT]
    assert [(b.onset, b.end, b.text) for b in drawn] == [(a.onset, a.end, a.text) for a in segments]
    assert [b.colour for b in drawn] == [label_colour(a.label) for a in segments]
    assert any(b.text.startswith("RT ") and b.lane == LANE_FLAG for b in bands)

    controls.stop()
    qtbot.waitUntil(lambda: controls.recorder is None, timeout=10_000)
    path = recorder.path
    start = recorder.start_index
    in_file = [a for a in open_recording(path).annotations if a.text.split(" ")[0] in ("INS", "REST", "MIN", "MAX")]
    assert [a.text for a in in_file] == [a.text for a in segments]
    times = [(a.onset_s, a.duration_s) for a in in_file]
    assert np.allclose(times, [((a.onset - start) / RATE, a.duration / RATE) for a in segments], atol=0.5 / RATE)
    assert "REST Biceps brachii L [repeated]" in [a.text for a in in_file]
    assert "REST Biceps brachii L [repeat 2]" in [a.text for a in in_file]
    reader = pyedflib.EdfReader(str(path))
    try:
        texts = list(reader.readAnnotations()[2])
    finally:
        reader.close()
    assert all(a.text in texts for a in segments)

    for future in feature.csv_writes:
        assert future.result(5) == path.with_name(path.stem + "_summary.csv")
    with open(path.with_name(path.stem + "_summary.csv"), newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["label"] for r in rows] == ["INS", "REST", "REST", "MIN", "MAX", "REST"]
    assert float(rows[4]["rms_uv"]) > 2 * float(rows[1]["rms_uv"])


def test_exam_menu_dialog_and_abort(qtbot) -> None:
    window = open_window(qtbot)
    feature = window.exam
    actions = [a.text() for a in feature.menu.actions()]
    assert actions == ["&Start guided exam…", "&Abort exam", "Spontaneous activity of the last 10 s"]
    feature.start_action.trigger()
    dialog = feature.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.compliance_combo.isEnabled()  # the simulated patient can be told how to behave
    dialog.select("needle_multi_muscle", [], ["L"])
    dialog.accept()
    assert "Tick at least one muscle" in dialog.error.text() and dialog.isVisible()
    dialog.select("needle_multi_muscle", ["Deltoid", "Extensor hallucis longus"], ["L", "R"])
    choice = dialog.choice()
    assert choice.muscles == [
        ("Deltoid", "L"),
        ("Deltoid", "R"),
        ("Extensor hallucis longus", "L"),
        ("Extensor hallucis longus", "R"),
    ]
    dialog.accept()
    qtbot.waitUntil(lambda: feature.dialog is None, timeout=10_000)
    exam = feature.exam
    assert exam is not None and len(exam.runner.plan) == 4 * len(choice.protocol.steps)
    qtbot.waitUntil(lambda: exam.runner.status.sample_index > exam.runner.status.onset + 0.3 * RATE, timeout=10_000)
    feature.abort_action.trigger()
    assert window.session.exam is None and feature.start_action.isEnabled()
    aborted = exam.runner.annotations[-1]
    assert aborted.label == "INS" and "aborted" in aborted.flags
    assert [b.text for b in window.scope.bands.bands(BAND_GROUP) if b.lane == LANE_SEGMENT] == [
        "INS Deltoid L [aborted]"
    ]
    assert window.pipeline.filtered.readers.get("detect") is None  # the exam's reader went with it


def test_start_dialog_loads_its_form_laid_out_and_with_its_defaults(qtbot) -> None:
    from emgscope.gui.exam_start_dialog import ExamStartDialog
    from emgscope.protocol.loader import shipped_protocols

    dialog = ExamStartDialog(("Ch1", "Ch2"), simulated=False)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.windowTitle() == "Start guided exam"
    assert dialog.protocol_combo.count() == len(shipped_protocols()) == 3 and dialog.error.text() == ""
    assert dialog.protocol_combo.currentData() == "needle_multi_muscle" and dialog.ok_button.isEnabled()
    assert [b.text() for b in dialog.side_boxes] == ["L", "R"] and [b.isChecked() for b in dialog.side_boxes] == [
        True,
        False,
    ]
    assert dialog.muscle_list.count() > 10
    assert all(dialog.muscle_list.item(i).checkState() == Qt.CheckState.Unchecked for i in range(10))
    assert [dialog.channel_combo.itemText(i) for i in range(2)] == ["Ch1", "Ch2"]
    assert not dialog.compliance_combo.isEnabled() and dialog.compliance_combo.currentData() == "compliant"
    dialog.select("needle_one_muscle", ["Deltoid"], ["R"])
    assert "Runs once" in dialog.description.text()
    choice = dialog.choice()
    assert choice.compliance is None and choice.channel == 0 and choice.muscles == [("Deltoid", "R")]

    qtbot.waitUntil(lambda: all(box.isVisible() for box in dialog.side_boxes))  # the new protocol's boxes
    dialog.layout().activate()
    fields = [
        dialog.protocol_combo,
        dialog.description,
        dialog.muscle_list,
        dialog.other_muscles,
        *dialog.side_boxes,
        dialog.channel_combo,
        dialog.compliance_combo,
        dialog.ok_button,
    ]
    boxes = [w.geometry().translated(w.parentWidget().mapTo(dialog, w.pos()) - w.pos()) for w in fields]
    assert all(w.isVisible() and w.width() >= w.minimumSizeHint().width() for w in fields)
    assert not any(a.intersects(b) for a, b in itertools.combinations(boxes, 2))
    assert all(dialog.rect().contains(box) for box in boxes)
    assert dialog.description.height() >= dialog.description.heightForWidth(dialog.description.width())
    left, right = (box for box in boxes[4:6])
    assert 0 <= right.left() - left.right() < 40  # the side boxes sit together, not spread over the row
    focus = [dialog.other_muscles]
    while len(focus) < 4:
        focus.append(focus[-1].nextInFocusChain())
    assert focus[1:] == [*dialog.side_boxes, dialog.channel_combo]


def _column_blue(image, x: int, top: int, bottom: int) -> float:
    return float(np.mean([image.pixelColor(x, y).blue() for y in range(top, bottom, 7)]))


@pytest.mark.parametrize("mode", ["sweep", "scroll"])
def test_bands_follow_the_trace_in_sweep_and_scroll(qtbot, mode: str) -> None:
    from emgscope.acquisition.pump import Pipeline
    from emgscope.core.ring import SampleRing
    from emgscope.core.settings import FilterSettings
    from emgscope.core.source import StreamInfo
    from emgscope.dsp.filters import FilterBank

    view = ScopeView()
    qtbot.addWidget(view)
    view.resize(1000, 600)
    view.show()
    qtbot.waitExposed(view)
    view.timer.stop()
    view.set_mode(mode)
    info = StreamInfo(RATE, ("Ch1",), "test")
    pipeline = Pipeline(info, SampleRing(1, 60_000), SampleRing(1, 60_000), FilterBank(FilterSettings(), RATE, 1))
    view.set_pipeline(pipeline)
    view.timer.stop()
    ring = pipeline.filtered
    for _ in range(30):  # 1.5 s of silence: one and a half sweeps at 100 ms/div
        ring.write(np.zeros((1, 1000), np.float32))
        view.tick()
    band = Band(25_000, 28_000, "REST Biceps brachii L", label_colour("REST"))
    view.set_bands("test", [band])
    image = view.plot.grab().toImage()
    raster = view.raster
    origin = view.plot.mapFromScene(view.view_box.mapToScene(view.view_box.rect().topLeft()))
    scale = image.width() / view.plot.width()
    top, bottom = round((origin.y() + 40) * scale), round((origin.y() + raster.height - 5) * scale)

    def x_of(sample: int) -> int:
        column = int(sample * raster.columns_per_sample)
        x = column % raster.width if mode == "sweep" else raster.width - 1 - (raster.last_column - column)
        return round((origin.x() + x) * scale)

    inside = _column_blue(image, x_of(26_500), top, bottom)
    outside = _column_blue(image, x_of(21_500), top, bottom)
    assert inside > outside + 15, (inside, outside)
    assert _column_blue(image, x_of(29_000), top, bottom) < inside - 15
    view.set_bands("test", [])
    assert _column_blue(view.plot.grab().toImage(), x_of(26_500), top, bottom) < inside - 15


def test_file_annotations_map_onto_ring_indices_across_seeks() -> None:
    annotations = [
        FileAnnotation(0.0, 0.0, "Device: test"),
        FileAnnotation(1.0, 2.0, "REST Deltoid L"),
        FileAnnotation(3.0, 0.5, "RT Deltoid L [300 ms]"),
    ]
    rate = 100.0
    # Played from 0 for 250 ring samples, then a seek back to file sample 50 (0.5 s).
    bands = file_bands(annotations, ((0, 0), (250, 50)), rate, 1000)
    assert [(b.onset, b.end, b.text, b.lane) for b in bands] == [
        (100, 250, "REST Deltoid L", LANE_SEGMENT),  # cut where the seek happened
        (300, 500, "REST Deltoid L", LANE_SEGMENT),  # the same span again, after the seek
        (500, 550, "RT Deltoid L [300 ms]", LANE_FLAG),
    ]
    assert bands[0].colour == label_colour("REST")


def test_replayed_exam_shows_its_segments_as_bands(qtbot, tmp_path: Path) -> None:
    from emgscope.cli import main

    out = tmp_path / "library.bdf"
    made = main(["record", "--no-settings", "--protocol", "needle_one_muscle", "--out", str(out), "--seed", "5"])
    assert made == 0
    settings = Settings()
    settings.source.kind = "replay"
    settings.source.replay.file = str(out)
    settings.source.replay.start_s = 2.0
    window = open_window(qtbot, settings)
    qtbot.waitUntil(lambda: bool(window.scope.bands.bands("replay")), timeout=10_000)
    bands = window.scope.bands.bands("replay")
    # Replay began 2 s into the file: ring index 0 is file sample 40 000, so the REST from 3 s is at ring 20 000.
    rest = next(b for b in bands if b.text == "REST Tibialis anterior L site 1/3")
    assert (rest.onset, rest.end) == (20_000, 220_000)
    assert rest.colour == label_colour("REST") and rest.lane == LANE_SEGMENT  # the site does not hide the label
    assert bands[0].text == "INS Tibialis anterior L" and (bands[0].onset, bands[0].end) == (0, 20_000)
    source = window.session.source
    source.seek(40.0)
    qtbot.waitUntil(lambda: len(source.segments) == 2, timeout=10_000)
    qtbot.waitUntil(lambda: window.scope.bands.bands("replay") != bands, timeout=10_000)
    ring_at, file_at = source.segments[1]
    assert file_at == 800_000
    after = window.scope.bands.bands("replay")
    before_seek = [b for b in after if b.onset < ring_at]
    assert before_seek and all(b.end <= ring_at for b in before_seek)  # what was played stops at the seek
    mod = next(b for b in after if b.onset >= ring_at and b.text == "MOD Tibialis anterior L")
    assert (mod.onset, mod.end) == (ring_at, ring_at + 4 * 20_000)  # MOD 39-44 s, entered at 40 s
    assert mod.colour == label_colour("MOD")


def test_summary_is_written_beside_the_recording_and_never_over_another_file(tmp_path: Path) -> None:
    from emgscope.analysis.summary import SegmentSummary

    def row(muscle: str) -> SegmentSummary:
        return SegmentSummary(muscle, "L", "REST", 1, 0.0, 10.0, 2.4, 21.0, 4400.0, 0.0, "")

    target = tmp_path / "exam_summary.csv"
    save_summary(target, [row("Deltoid")], False)
    save_summary(target, [row("Deltoid"), row("Biceps brachii")], True)  # the next muscle replaces it
    with open(target, newline="", encoding="utf-8") as handle:
        assert [r["muscle"] for r in csv.DictReader(handle)] == ["Deltoid", "Biceps brachii"]
    foreign = tmp_path / "other_summary.csv"
    foreign.write_text("someone else's\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        save_summary(foreign, [row("Deltoid")], False)
    assert foreign.read_text(encoding="utf-8") == "someone else's\n"
    assert not list(tmp_path.glob("*.part"))
