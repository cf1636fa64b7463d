"""Guided exams in files: ``emgscope record --protocol`` headless, and the recorder's annotations by sample index.

The command runs as a user runs it (a subprocess of ``python -m emgscope``) on the real simulated patient, and the
file it writes is read back by the app's own reader and by pyEDFlib (EDFlib, another program's parser). The
crash test kills a real recording process with SIGKILL and repairs what it left.
"""

from __future__ import annotations

import csv
import itertools
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyedflib
import pytest
from support.exams import record

from emgscope.core.ring import SampleRing
from emgscope.core.source import StreamInfo
from emgscope.protocol.loader import load_protocol, protocols_dir
from emgscope.recording.recorder import Recorder
from emgscope.recording.repair import repair
from emgscope.recording.session import SessionInfo
from emgscope.replay.reader import open_recording

pytestmark = pytest.mark.timeout(60)
"""Exams run as subprocesses and a killed child is read from a pipe: a hang fails its own test."""

REPO = Path(__file__).resolve().parent.parent
LABELS = ("INS", "REST", "MIN", "MOD", "MAX")
SITES = ("", "site 1/3", "site 2/3", "site 3/3", "", "", "", "")
"""The numbered rest sites of ``needle_one_muscle``, step by step."""


def expected_segments(protocol_name: str, operator_s: float) -> list[tuple[float, float, str]]:
    """Onset, duration and label of every step of a one-muscle protocol run without operator actions."""
    protocol = load_protocol(protocols_dir() / f"{protocol_name}.toml")
    onset, found = 0.0, []
    for step, _repeat, _repeats in protocol.steps:
        duration = operator_s if step.duration_s is None else step.duration_s
        found.append((onset, duration, step.label))
        onset += duration
    return found


@pytest.mark.parametrize("pathology", ["normal", "myopathic", "neurogenic"])
def test_headless_exam_writes_a_labelled_recording_and_its_summary(tmp_path: Path, pathology: str) -> None:
    """Unpaced, a minute's exam records in a few seconds: that figure is ``emgscope bench``'s
    (``headless_exam_x_realtime``)."""
    out = tmp_path / f"{pathology}.bdf"
    result = record("--protocol", "needle_one_muscle", "--out", str(out), "--pathology", pathology, "--seed", "3")
    assert result.returncode == 0, result.stderr
    expected = expected_segments("needle_one_muscle", 6.0)
    total = sum(duration for _, duration, _ in expected)
    assert total == 53.0

    recording = open_recording(out)
    assert recording.duration_s == pytest.approx(total)
    segments = [a for a in recording.annotations if a.text.split(" ")[0] in LABELS]
    assert [(a.onset_s, a.duration_s, a.text) for a in segments] == [
        (onset, duration, f"{label} Tibialis anterior L {site}".strip())
        for (onset, duration, label), site in zip(expected, SITES, strict=True)
    ]
    texts = [a.text for a in recording.annotations]
    at_rest = [(a.onset_s, a.duration_s, a.text) for a in recording.annotations if "activity at rest" in a.text]
    activity = [(a.onset_s, a.duration_s) for a in recording.annotations if a.text.startswith("ACT ")]
    # The insertional burst is found although no baseline existed yet: the first rest's baseline is applied back
    # to the start of the exam.
    assert activity[0][0] < 0.05, activity
    if pathology == "neurogenic":
        # Fibrillations and positive sharp waves fill every rest, the first site included, from the moment the
        # patient has had time to relax (1.5 s); the muscle is never quiet enough for a reaction time.
        # Each rest after the first is a new site (the needle is moved), whose trains start at their own phase.
        flagged = [
            (4.5, 8.5, "CHECK Tibialis anterior L site 1/3 [activity at rest]"),
            (14.5, 8.5, "CHECK Tibialis anterior L site 2/3 [activity at rest]"),
            (24.5, 8.5, "CHECK Tibialis anterior L site 3/3 [activity at rest]"),
            (49.5, 3.5, "CHECK Tibialis anterior L [activity at rest]"),
        ]
        assert [text for _, _, text in at_rest] == [text for _, _, text in flagged]
        for (onset, duration, _), (first, length, _) in zip(at_rest, flagged, strict=True):
            assert first <= onset <= first + 1.0 and onset + duration == pytest.approx(first + length)
    else:
        assert any(t.startswith("RT Tibialis anterior L [") and t.endswith(" ms]") for t in texts), texts
        assert at_rest == []
        # The insertional burst fades out within 300 ms in a normal muscle (SIMULATION_PARAMETERS §2, issue 13).
        assert 0.08 <= activity[0][1] <= 0.3, activity
    assert f"simulated patient ({pathology}, compliant)" in " ".join(texts)

    reader = pyedflib.EdfReader(str(out))
    try:
        onsets, durations, edf_texts = reader.readAnnotations()
        assert reader.getSampleFrequency(0) == 20_000.0
    finally:
        reader.close()
    by_edflib = [(float(o), float(d), str(t)) for o, d, t in zip(onsets, durations, edf_texts, strict=True)]
    assert [row for row in by_edflib if row[2].split(" ")[0] in LABELS] == [
        (a.onset_s, a.duration_s, a.text) for a in segments
    ]

    with open(out.with_name(f"{pathology}_summary.csv"), newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(float(r["onset_s"]), float(r["duration_s"]), r["label"]) for r in rows] == expected
    assert [r["repeat"] for r in rows] == list(SITES)
    rest_flagged = [r["repeat"] for r in rows if r["label"] == "REST" and "activity at rest" in r["flags"]]
    assert rest_flagged == (["site 1/3", "site 2/3", "site 3/3", ""] if pathology == "neurogenic" else [])
    rms = {r["label"]: float(r["rms_uv"]) for r in rows}
    first_rest = float(rows[1]["rms_uv"])
    # The simulated patient followed the prompts. A myopathic muscle recruits early: its weak units already give a
    # full pattern at minimal effort (SIMULATION_PARAMETERS §1), so only the others grow much more at maximal effort.
    assert rms["MIN"] > 2 * first_rest
    assert rms["MAX"] > (0.9 if pathology == "myopathic" else 2) * rms["MIN"]


def test_headless_exam_of_several_muscles_with_a_non_compliant_patient(tmp_path: Path) -> None:
    out = tmp_path / "multi.edf"
    result = record(
        "--protocol",
        "needle_multi_muscle",
        "--out",
        str(out),
        "--format",
        "edf",
        "--muscles",
        "Biceps brachii:L,Deltoid:R",
        "--compliance",
        "not relaxing",
        "--operator-seconds",
        "3",
    )
    assert result.returncode == 0, result.stderr
    recording = open_recording(out)
    segments = [a for a in recording.annotations if a.text.split(" ")[0] in LABELS]
    protocol = load_protocol(protocols_dir() / "needle_multi_muscle.toml")
    assert len(segments) == 2 * len(protocol.steps)
    places = {"Biceps brachii L", "Deltoid R"}
    assert {a.text.split(" ", 1)[1] for a in segments} == places | {f"{p} site {k}/2" for p in places for k in (1, 2)}
    assert all(b.onset_s == pytest.approx(a.onset_s + a.duration_s) for a, b in itertools.pairwise(segments))
    flags = [a.text for a in recording.annotations if a.text.startswith("CHECK")]
    assert any("activity at rest" in text for text in flags), flags  # a patient who does not relax is flagged
    with open(out.with_name("multi_summary.csv"), newline="", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == len(segments)


def test_headless_exam_refuses_bad_input_with_one_clear_line(tmp_path: Path) -> None:
    missing = record("--protocol", "no_such_exam", "--out", str(tmp_path / "x.bdf"))
    assert missing.returncode == 1
    assert "no protocol 'no_such_exam'" in missing.stderr and "needle_one_muscle" in missing.stderr
    assert missing.stderr.count("\n") == 1
    existing = tmp_path / "taken.bdf"
    existing.write_bytes(b"not ours")
    refused = record("--protocol", "needle_one_muscle", "--out", str(existing))
    assert refused.returncode == 1 and "never overwritten" in refused.stderr
    assert existing.read_bytes() == b"not ours"
    no_seconds = record("--out", str(tmp_path / "y.bdf"))
    assert no_seconds.returncode == 1 and "--seconds is required" in no_seconds.stderr
    assert not list(tmp_path.glob("x*")) and not list(tmp_path.glob("y*"))


def test_annotate_at_stamps_ring_indices_and_cuts_spans_to_the_recording(tmp_path: Path) -> None:
    rate = 1000.0
    ring = SampleRing(1, 30_000)
    ring.write(np.zeros((1, 2000), np.float32))
    recorder = Recorder(ring, StreamInfo(rate, ("Needle 1",), "test"), tmp_path / "a.bdf", SessionInfo(), "bdf")
    recorder.start()
    assert recorder.start_index == 2000
    assert recorder.annotate_at(2500, 1000, "REST M L") == 0.5
    assert recorder.annotate_at(1500, 1000, "INS M L") == 0.0  # began before the recording: cut to its start
    assert recorder.annotate_at(500, 1000, "too early") is None
    ring.write(np.zeros((1, 4000), np.float32))
    recorder.stop(5000)
    assert recorder.annotate_at(4500, 2000, "MAX M L") == 2.5  # cut at the Stop sample
    assert recorder.annotate_at(5200, 100, "after the end") is None
    assert recorder.join(5)
    spans = [(a.onset_s, a.duration_s, a.text) for a in open_recording(tmp_path / "a.bdf").annotations]
    assert (0.5, 1.0, "REST M L") in spans
    assert (0.0, 0.5, "INS M L") in spans
    assert (2.5, 0.5, "MAX M L") in spans
    assert not any(text in ("too early", "after the end") for _, _, text in spans)


CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import numpy as np
    from emgscope.core.source import StreamInfo
    from emgscope.core.ring import SampleRing
    from emgscope.recording.recorder import Recorder
    from emgscope.recording.session import SessionInfo

    ring = SampleRing(1, 20_000 * 30)
    recorder = Recorder(ring, StreamInfo(20_000.0, ("Needle 1",), "test"), Path({path!r}), SessionInfo(), "bdf")
    recorder.start()
    block, written, began = 200, 0, time.monotonic()
    while True:
        while written + block <= int((time.monotonic() - began) * 20_000):
            ring.write(np.zeros((1, block), np.float32))
            written += block
        if written >= 30_000 and recorder.markers_journaled == 0:
            recorder.annotate_at(10_000, 12_345, "MAX Biceps brachii L [repeat 2]")
        if recorder.markers_journaled:
            print("journaled", flush=True)
        time.sleep(0.01)
    """
)


@pytest.mark.timeout(60)
def test_exam_annotations_survive_kill_9(tmp_path: Path) -> None:
    """The child's first line may never come (it would block here): the timeout fails this test alone."""
    path = tmp_path / "killed.bdf"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(path=str(path))], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == "journaled"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    repair(path)
    spans = [(a.onset_s, a.duration_s, a.text) for a in open_recording(path).annotations]
    assert (0.5, 0.61725, "MAX Biceps brachii L [repeat 2]") in spans


def test_a_seeded_headless_exam_is_reproducible_to_its_last_annotation(tmp_path: Path) -> None:
    """The monitor settles the last step after the exam ends; its flags must still reach the file, every time."""
    runs = []
    for k in range(3):
        out = tmp_path / f"run{k}.bdf"
        args = ("--protocol", "needle_multi_muscle", "--muscles", "Biceps brachii:L,Deltoid:R")
        result = record(*args, "--compliance", "mixed", "--pathology", "neurogenic", "--seed", "4", "--out", str(out))
        assert result.returncode == 0, result.stderr
        runs.append([(round(a.onset_s, 4), a.text) for a in open_recording(out).annotations])
    assert runs[0] == runs[1] == runs[2]
    verdicts = [text for _, text in runs[0] if not text.startswith("SPONT")]  # trains found at rest come last too
    assert verdicts[-1].startswith(("ACT Deltoid R", "CHECK Deltoid R"))  # the last step's own verdict is kept
    assert any(text.startswith("SPONT Deltoid R") for _, text in runs[0])
