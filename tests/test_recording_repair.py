"""Repair edge cases that a kill cannot produce on demand: a torn journal line, a damaged journal, start-up repair.

The files are left unfinished by the real writer (never closed, as after a crash); only the torn tail bytes are
appended by hand, because a kill landing exactly mid-line cannot be timed. The kill itself is tested for real in
test_recording_crash.py.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from support.crash import unfinished_recording

from emgscope.bench.recorder import measure_recorder
from emgscope.core import events
from emgscope.core.events import Event, EventBus
from emgscope.recording.journal import journal_path
from emgscope.recording.repair import RepairError, find_unfinished, repair, repair_in_background

pytestmark = pytest.mark.timeout(90)
"""Recorders run on threads and in subprocesses: a hang fails its own test."""

RATE = 1000
REPO = Path(__file__).resolve().parent.parent


def test_torn_record_and_torn_journal_line_are_dropped_and_the_rest_kept(tmp_path: Path) -> None:
    import pyedflib

    path = tmp_path / "torn.edf"
    unfinished_recording(path)
    with path.open("ab") as fh:
        fh.write(b"\x01" * 300)  # part of a seventh record
    with journal_path(path).open("ab") as fh:
        fh.write(b'{"kind": "annotation", "onset_s": 2.9, "te')  # the line being written when it died
    assert find_unfinished(tmp_path) == [path]
    report = repair(path)
    assert (report.records, report.seconds, report.annotations, report.moved_annotations) == (6, 3.0, 2, 1)
    assert report.dropped_bytes == 300
    assert "repaired; 3.00 s of signal and 2 annotations kept, 1 moved" in report.message
    reader = pyedflib.EdfReader(str(path))
    try:
        step = 20_000 / 65_535  # EDF's ±10 mV in 16 bits
        assert np.max(np.abs(reader.readSignal(0) - np.arange(3000))) <= step
        onsets, _, texts = reader.readAnnotations()
        assert reader.getStartdatetime() == datetime(2026, 1, 2, 3, 4, 5)
    finally:
        reader.close()
    assert list(texts) == ["Muscle: Deltoid", "after the last record"]
    assert onsets[1] == pytest.approx(2.999)  # moved onto the last saved sample
    assert find_unfinished(tmp_path) == []


def test_a_damaged_journal_leaves_the_original_untouched(tmp_path: Path) -> None:
    path = tmp_path / "damaged.edf"
    unfinished_recording(path)
    journal = journal_path(path)
    journal.write_bytes(b"not json\n" + journal.read_bytes())
    before = path.read_bytes()
    with pytest.raises(RepairError, match="line 1 is damaged"):
        repair(path)
    assert path.read_bytes() == before and journal.exists()


def test_start_up_repair_runs_off_the_calling_thread_and_reports(tmp_path: Path) -> None:
    unfinished_recording(tmp_path / "a.edf")
    bus = EventBus()
    seen: list[Event] = []
    bus.subscribe(seen.append)
    thread = repair_in_background(tmp_path, bus)
    assert thread is not threading.current_thread()
    thread.join(10)
    assert [e.kind for e in seen] == [events.WARNING]
    assert seen[0].message.startswith("Unfinished recording found. a.edf: repaired; 3.00 s")


def test_the_recorder_benchmark_writes_every_sample_and_does_not_leak() -> None:
    """Its speed bar (``recorder_x_realtime`` >= 20) is ``emgscope bench``'s, on a machine left to it; memory does
    not depend on the machine's load, so its bar is held here too."""
    figures = measure_recorder(30.0)  # raises if a sample is missing from the file on disk
    assert np.isfinite(figures["recorder_x_realtime"]) and figures["recorder_x_realtime"] > 0
    assert figures["recorder_rss_growth_mb"] < 20


def test_recording_never_imports_qt() -> None:
    code = (
        "import sys, emgscope.recording.recorder, emgscope.recording.repair, emgscope.recording.export, "
        "emgscope.commands.record, emgscope.commands.export, emgscope.commands.repair, "
        "emgscope.bench.recorder; print(sorted(m for m in sys.modules if m.startswith(('PyQt6', 'pyqtgraph'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
