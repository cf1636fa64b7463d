"""Crash safety for real: a recording process killed with SIGKILL, and a recording that runs out of file space.

Both run the real recorder in a separate Python process fed through a real ring at real-time pace with a known
signal, so every recovered sample can be checked against what was sent. The file-size limit (RLIMIT_FSIZE, with
SIGXFSZ ignored so write() fails with EFBIG) is a real limit on that process, not a simulated error.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from emgscope.recording.journal import journal_path
from emgscope.recording.repair import RepairError, find_unfinished, repair

pytestmark = pytest.mark.timeout(90)
"""Recordings are killed in subprocesses and read back: a hang fails its own test."""

RATE = 20_000
CHANNELS = 8
REPO = Path(__file__).resolve().parent.parent


def pattern(start: int, n: int, channels: int = CHANNELS) -> np.ndarray:
    """A known signal: each sample's value says where it belongs (a lost or shifted sample shows)."""
    i = np.arange(start, start + n, dtype=np.float64)
    rows = [400.0 * np.sin(2 * np.pi * i * (c + 1) / 997.0) + (i % 5003) * 0.25 - 600.0 for c in range(channels)]
    return np.array(rows, dtype=np.float32)


CHILD = textwrap.dedent(
    """
    import resource, signal, sys, time
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from test_recording_crash import CHANNELS, RATE, pattern
    from emgscope.core.source import StreamInfo
    from emgscope.core.ring import SampleRing
    from emgscope.recording.recorder import Recorder
    from emgscope.recording.session import SessionInfo

    limit = {limit!r}
    if limit:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    ring = SampleRing(CHANNELS, RATE * 30)
    info = StreamInfo(RATE, tuple(f"Needle {{c + 1}}" for c in range(CHANNELS)), "known pattern", device="test")
    session = SessionInfo(patient_id="P042", name="Zoë Müller", muscle="First dorsal interosseous", side="right")
    recorder = Recorder(ring, info, Path({path!r}), session, "bdf")
    recorder.start()
    marks = {{0.5: "Marker 1", 1.0: "rest – µ ümlaut 中文", 1.5: "Marker 3"}}
    written, block, began = 0, RATE // 100, time.monotonic()
    while recorder.running and written < RATE * 60:
        due = int((time.monotonic() - began) * RATE)
        while written + block <= due:
            ring.write(pattern(written, block))
            written += block
        for at in [t for t in marks if written >= t * RATE]:
            recorder.add_marker(marks.pop(at))
        print("written", written, "journaled", recorder.markers_journaled, flush=True)
        time.sleep(0.01)
    print("error", recorder.error, flush=True)
    """
)


def _start_child(path: Path, limit: int = 0) -> subprocess.Popen:
    script = CHILD.format(tests=str(REPO / "tests"), path=str(path), limit=limit)
    return subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _check_signals(path: Path, n_expected: int) -> None:
    """pyEDFlib, MNE and edfio all open the file and read the known pattern back within one step."""
    import edfio
    import mne
    import pyedflib

    expected = pattern(0, n_expected)
    step = 400_000 / (2**24 - 1)
    reader = pyedflib.EdfReader(str(path))
    try:
        assert reader.getNSamples()[0] == n_expected
        for c in (0, CHANNELS - 1):
            assert np.max(np.abs(reader.readSignal(c) - expected[c])) <= step
    finally:
        reader.close()
    raw = mne.io.read_raw_bdf(path, preload=True, verbose="error")
    assert raw.get_data().shape == (CHANNELS, n_expected)
    assert np.max(np.abs(raw.get_data()[1] * 1e6 - expected[1])) <= step
    bdf = edfio.read_bdf(path)
    assert np.max(np.abs(bdf.signals[2].data - expected[2])) <= step


def _annotations(path: Path) -> dict[str, list[tuple[float, str]]]:
    import edfio
    import mne
    import pyedflib

    reader = pyedflib.EdfReader(str(path))
    try:
        onsets, _, texts = reader.readAnnotations()
    finally:
        reader.close()
    raw = mne.io.read_raw_bdf(path, verbose="error")
    return {
        "pyedflib": sorted(zip(onsets.tolist(), texts.tolist(), strict=True)),
        "mne": sorted(zip(raw.annotations.onset.tolist(), raw.annotations.description.tolist(), strict=True)),
        "edfio": sorted((a.onset, a.text) for a in edfio.read_bdf(path).annotations),
    }


@pytest.mark.slow
def test_kill_9_mid_recording_is_repaired_with_every_annotation(tmp_path: Path) -> None:
    path = tmp_path / "killed.bdf"
    child = _start_child(path)
    written = 0
    try:
        assert child.stdout is not None
        for line in child.stdout:
            fields = line.split()
            if fields[0] == "written":
                written = int(fields[1])
                if written >= 2.5 * RATE and int(fields[3]) == 3:
                    break
        # While the recorder lives its file is busy, not unfinished: a repair now would destroy what follows.
        assert find_unfinished(tmp_path) == []
        with pytest.raises(RepairError, match="still being recorded"):
            repair(path)
        assert journal_path(path).exists()
    finally:
        child.kill()  # SIGKILL: no handler, no flush, no close
        child.wait(10)
    assert child.returncode == -9
    assert find_unfinished(tmp_path) == [path]
    report = repair(path)
    assert not journal_path(path).exists()
    assert find_unfinished(tmp_path) == []
    n = round(report.seconds * RATE)
    assert written - n <= RATE, f"lost {written - n} samples, more than one second"
    assert n >= 2 * RATE
    _check_signals(path, n)
    expected_marks = [(0.5, "Marker 1"), (1.0, "rest – µ ümlaut 中文"), (1.5, "Marker 3")]
    for reader_name, found in _annotations(path).items():
        marks = [(o, text) for o, text in found if not text.startswith(("Muscle", "Side", "Device", "Patient"))]
        assert [t for _, t in marks] == [t for _, t in expected_marks], reader_name
        for (onset, _), (want, _) in zip(marks, expected_marks, strict=True):
            # stamped from the ring's write index when the marker was added: within one polling block
            assert want <= onset <= want + 0.05, (reader_name, onset, want)
        assert "Muscle: First dorsal interosseous" in [t for _, t in found], reader_name
        assert "Patient name: Zoë Müller" in [t for _, t in found], reader_name  # the header holds Zoe_Mueller


@pytest.fixture
def small_disk(tmp_path: Path):
    """A real 2 MB file system (tmpfs); mounting needs root, as in CI."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (the file-size-limit test covers the same path)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def _check_stopped_cleanly(path: Path, out: str, reason: str) -> None:
    last = out.strip().splitlines()[-1]
    assert last.startswith(f"error Recording stopped: {reason}."), last
    assert f"{path.name} was closed and keeps the first" in last
    assert not journal_path(path).exists()
    import pyedflib

    reader = pyedflib.EdfReader(str(path))
    n = int(reader.getNSamples()[0])
    reader.close()
    assert n >= 2 * RATE
    _check_signals(path, n)
    assert [t for _, t in _annotations(path)["pyedflib"] if t.startswith("Marker")] == ["Marker 1", "Marker 3"]


@pytest.mark.slow
def test_file_size_limit_stops_recording_with_a_clear_message_and_a_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "full.bdf"
    limit = 1_500_000  # about 3 s of 8 channels at 20 kHz in BDF
    child = _start_child(path, limit)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert path.stat().st_size <= limit
    _check_stopped_cleanly(path, out, "the file reached the size the system allows")


@pytest.mark.slow
def test_full_disk_stops_recording_with_a_clear_message_and_a_valid_file(small_disk: Path) -> None:
    path = small_disk / "full.bdf"
    child = _start_child(path)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    _check_stopped_cleanly(path, out, "the disk is full")


RECORD_COMMAND = (
    "import argparse, sys; from emgscope.commands import record as cli_record; parser = argparse.ArgumentParser(); "
    "cli_record.add_arguments(parser); sys.exit(cli_record.run(parser.parse_args(sys.argv[1:])))"
)


@pytest.mark.slow
def test_record_command_killed_with_the_simulated_patient_is_repaired(tmp_path: Path) -> None:
    """The whole headless path (source, pump, recorder, --mark) killed with SIGKILL, then repaired and read."""
    import pyedflib

    path = tmp_path / "cli.bdf"
    args = ["--seconds", "60", "--out", str(path), "--no-settings", "--channels", "4", "--progress"]
    args += ["--patient-id", "P7", "--muscle", "Deltoid", "--mark", "0.5:first", "--mark", "1:zweite Marke ü"]
    command = [sys.executable, "-c", RECORD_COMMAND, *args]
    child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    recorded = 0
    try:
        assert child.stdout is not None
        for line in child.stdout:
            recorded = int(line.split()[1])
            journal = journal_path(path).read_text(encoding="utf-8") if journal_path(path).exists() else ""
            if recorded >= 2 * RATE and "zweite Marke ü" in journal:
                break
    finally:
        child.kill()
        child.wait(10)
    assert child.returncode == -9
    report = repair(path)
    n = round(report.seconds * RATE)
    assert n >= recorded - RATE  # the exact one-second bound is checked with a known signal above
    reader = pyedflib.EdfReader(str(path))
    try:
        assert reader.signals_in_file == 4 and reader.getNSamples()[0] == n
        _, _, texts = reader.readAnnotations()
    finally:
        reader.close()
    assert {"Muscle: Deltoid", "first", "zweite Marke ü"} <= set(texts)
    _annotations(path)  # MNE and edfio open it too


def test_signal_written_faster_than_real_time_is_made_durable_after_every_second_of_it(tmp_path: Path) -> None:
    """A headless exam writes about 70× faster than real time: syncing once a wall-clock second would leave up to
    70 s of signal to a power cut. The writer syncs (and brings the header's record count up to date with it) after
    each second of *signal*; here 5.5 s are written in a few milliseconds."""
    from datetime import datetime

    from emgscope.recording import edfplus
    from emgscope.recording.writer import EdfPlusWriter

    rate = 2_000
    layout = edfplus.make_layout(True, ("EMG",), float(rate))
    assert layout.record_duration == "0.5"
    path = tmp_path / "fast.bdf"
    writer = EdfPlusWriter(path, layout, "X X X X", "Startdate X X X X", datetime(2026, 1, 1))
    counts = []
    for k in range(55):
        writer.write(pattern(k * rate // 10, rate // 10, 1))
        counts.append(int(path.read_bytes()[236:244]))
        assert writer.records - max(counts[-1], 0) <= 2, f"after {(k + 1) / 10:g} s only {counts[-1]} records synced"
    assert sorted(set(counts)) == [-1, 2, 4, 6, 8, 10]  # once per second of signal, not per record
    writer.close()
    assert int(path.read_bytes()[236:244]) == 11
