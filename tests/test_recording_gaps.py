"""Signal that never reached the ring is annotated in the recording at its place, counted and reported.

The stalls are real: the ``emgscope record`` process and the acquisition process are stopped with SIGSTOP and
resumed with SIGCONT, as a busy or suspended machine stops them, and the simulated patient skips what fell due
meanwhile. Lost BrainFlow packets are counted from real BrainFlow rows (its synthetic board's file, rows removed).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from support.events import EventLog

from emgscope.acquisition.brainflow_packages import PackageCounter
from emgscope.acquisition.brainflow_source import BrainFlowSource
from emgscope.acquisition.process import ProcessPump
from emgscope.core import events
from emgscope.core.events import EventBus
from emgscope.core.ring import SampleRing
from emgscope.core.settings import BrainFlowSettings, FilterSettings, SimulatorSettings, SourceSettings
from emgscope.core.source import StreamInfo
from emgscope.recording.recorder import Recorder
from emgscope.recording.session import SessionInfo
from emgscope.replay.reader import open_recording

RATE = 20_000.0
GAP = "Gap: {:.2f} s of signal missing (the source stalled)"


def gap_annotations(path: Path) -> list[tuple[float, str]]:
    return [(a.onset_s, a.text) for a in open_recording(path).annotations if a.text.startswith("Gap:")]


@pytest.mark.timeout(60)
def test_a_stalled_record_command_annotates_the_gap_where_it_was_and_reports_it(tmp_path: Path) -> None:
    """The issue's reproduction, shortened: stop ``emgscope record`` for 2 s in the middle of a 4 s recording."""
    out = tmp_path / "stalled.bdf"
    command = [sys.executable, "-m", "emgscope", "record", "--no-settings", "--seconds", "4", "--progress"]
    child = subprocess.Popen([*command, "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None
    first = child.stdout.readline()
    assert first.startswith("recorded"), first
    time.sleep(1.0)
    os.kill(child.pid, signal.SIGSTOP)
    time.sleep(2.0)
    os.kill(child.pid, signal.SIGCONT)
    stdout, stderr = child.communicate(timeout=30)
    assert child.returncode == 0, stderr
    rec = open_recording(out)
    assert rec.duration_s == pytest.approx(4.0, abs=0.06)
    ((onset, text),) = gap_annotations(out)
    seconds = float(text.split()[1])
    assert 1.6 <= seconds <= 2.1 and text == GAP.format(seconds)
    assert 0.8 <= onset <= 2.0  # about a second after recording began: where the stall was
    summary = stdout.strip().splitlines()[-1]
    assert summary.endswith(f"; 1 gap in the signal, {seconds:.2f} s missing in all, each annotated in the file")


@pytest.mark.timeout(60)
def test_a_stalled_acquisition_process_posts_the_gap_and_the_recording_marks_it_where_the_operator_saw_it(
    tmp_path: Path,
) -> None:
    """The window's case: the acquisition process stops 1.5 s while the operator drops two markers."""
    bus = EventBus()
    log = EventLog(bus)
    settings = SourceSettings(simulator=SimulatorSettings(channels=2, sample_rate=RATE, effort_percent=20.0))
    pump = ProcessPump(settings, FilterSettings(), bus)
    pump.start()
    try:
        log.wait_for(events.CONNECTED, timeout=15.0)
        pipeline = pump.pipeline
        assert pipeline is not None
        path = tmp_path / "gap.bdf"
        recorder = Recorder(pipeline.raw, pipeline.info, path, SessionInfo(patient_id="P1"), "bdf", bus=bus)
        recorder.start()
        time.sleep(0.6)
        (child,) = multiprocessing.active_children()
        os.kill(child.pid, signal.SIGSTOP)
        time.sleep(0.3)
        shown = pipeline.raw.write_index  # the trace froze here: what the operator sees while typing
        markers = [recorder.add_marker("Marker 1"), recorder.add_marker("Marker 2")]
        time.sleep(1.2)
        os.kill(child.pid, signal.SIGCONT)
        dropped = log.wait_for(events.SAMPLES_DROPPED, timeout=5.0)
        time.sleep(0.5)
        recorder.stop()
        assert recorder.join(10)
    finally:
        pump.stop(5.0)
    # The gap follows what the child had generated when it stopped: at most one more chunk than the screen showed.
    assert shown <= dropped.sample_index <= shown + 0.01 * RATE
    assert 1.3 * RATE <= dropped.data["count"] <= 1.6 * RATE
    assert dropped.message == GAP.format(dropped.data["count"] / RATE)
    seen = (shown - recorder.start_index) / RATE
    assert markers == [seen, seen]
    gap = (dropped.sample_index - recorder.start_index) / RATE
    texts = {(round(a.onset_s, 4), a.text) for a in open_recording(path).annotations}
    assert {(round(gap, 4), dropped.message), (round(seen, 4), "Marker 1"), (round(seen, 4), "Marker 2")} <= texts
    assert (recorder.gaps, recorder.gap_samples) == (1, dropped.data["count"])
    assert "1 gap in the signal" in recorder.summary()


def test_gaps_outside_the_recording_are_not_annotated(tmp_path: Path) -> None:
    """A stall before Record was pressed, or after Stop, is not this file's gap."""
    bus = EventBus()
    ring = SampleRing(1, 20_000)
    ring.write(np.zeros((1, 500), np.float32))
    path = tmp_path / "edges.edf"
    recorder = Recorder(ring, StreamInfo(1000.0, ("EMG",), "test"), path, SessionInfo(patient_id="P1"), "edf", bus=bus)
    recorder.start()
    bus.post(events.samples_dropped(400, 300, 1000.0, "the source stalled"))  # before the recording began
    ring.write(np.ones((1, 1000), np.float32))
    bus.post(events.samples_dropped(1000, 250, 1000.0, "the source stalled"))
    ring.write(np.ones((1, 1000), np.float32))
    recorder.stop(2500)
    bus.post(events.samples_dropped(2600, 100, 1000.0, "the source stalled"))  # after Stop
    assert recorder.join(10)
    assert gap_annotations(path) == [(0.5, GAP.format(0.25))]
    assert (recorder.gaps, recorder.gap_samples) == (1, 250)


def test_lost_brainflow_packages_are_counted_from_the_package_numbers(shared_data: Path) -> None:
    """Rows removed from a real synthetic-board file: 3, then 300 (more than the 0–255 counter shows alone)."""
    table = np.loadtxt(shared_data / "brainflow/test_data.csv", delimiter="\t").T
    numbers, timestamps = table[0], table[30]
    keep = np.ones(table.shape[1], bool)
    keep[500:503] = False
    keep[1000:1300] = False
    counter = PackageCounter(256, 250.0)
    lost = sum(
        counter.missing(numbers[keep][k : k + 37], timestamps[keep][k : k + 37]) for k in range(0, keep.sum(), 37)
    )
    assert lost == 303
    assert PackageCounter(256, 250.0).missing(numbers, timestamps) == 0


@pytest.mark.timeout(30)
def test_a_live_synthetic_board_that_loses_nothing_reports_nothing() -> None:
    source = BrainFlowSource(BrainFlowSettings(board="SYNTHETIC_BOARD"))
    source.open()
    try:
        delivered = 0
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            delivered += source.read().shape[1]
            time.sleep(0.05)
    finally:
        source.close()
    assert delivered > 250 and source.skipped_samples == 0
