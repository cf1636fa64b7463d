"""Any LSL stream as an amplifier: a pylsl outlet on this machine's loopback, sending a known signal, taken in by
``emgscope record --source lsl`` and by a session as the window runs it (in the acquisition process)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from support.driven import DrivenSession
from support.lsl_sender import RAMP_CHANNEL, Sender, known_signal

from emgscope.acquisition.lsl_streams import lsl_minus_monotonic
from emgscope.core import events
from emgscope.core.settings import Settings
from emgscope.replay.reader import open_recording

REPO = Path(__file__).resolve().parents[2]
BDF_STEP_UV = 400_000 / (2**24 - 1)
"""One step of a BDF+ file's ±200 mV range."""


def record(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "emgscope", "record", "--no-settings", *args],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def said(stderr: str) -> list[str]:
    """emgscope's own lines (liblsl writes its log to the same stream)."""
    return [line for line in stderr.splitlines() if line.startswith("emgscope")]


def lsl_settings(name: str) -> Settings:
    settings = Settings()
    settings.source.kind = "lsl"
    settings.source.lsl.name = name
    return settings


@pytest.mark.timeout(90)
def test_record_writes_the_samples_a_pylsl_outlet_sent_and_its_markers_on_their_samples(tmp_path: Path) -> None:
    sender = Sender("amp-4x2k", channels=4, rate=2_000.0, markers="amp-4x2k markers").start()
    out = tmp_path / "lsl.bdf"
    recording = record(
        "--source", "lsl", "--lsl-name", "amp-4x2k", "--lsl-markers", "amp-4x2k markers",
        "--seconds", "3", "--out", str(out),
    )  # fmt: skip
    try:
        sender.wait_for_consumer(20)
        time.sleep(1.0)
        stim_a = sender.sent + 400  # 200 ms ahead: the source holds a marker until its sample arrives
        sender.send_marker("stim A", stim_a)
        time.sleep(0.8)
        stim_b = sender.sent - 100  # 50 ms back: a marker sent late still lands on its sample
        sender.send_marker("stim B", stim_b)
        stdout, stderr = recording.communicate(timeout=40)
    finally:
        recording.kill()
        sender.stop()
    assert recording.returncode == 0, stderr
    assert "Saved 3.0 s (4 channels at 2000 Hz)" in stdout
    rec = open_recording(out)
    signals = rec.data_signals
    assert [rec.signals[i].label for i in signals] == sender.labels
    assert [rec.signals[i].sample_rate for i in signals] == [2_000.0] * 4
    n = rec.signals[signals[0]].n_samples
    data = np.stack([rec.read(i, 0, n) for i in signals])
    first = round(float(data[RAMP_CHANNEL, 0]))
    sent = known_signal(first, n, 4, 2_000.0).T
    assert np.max(np.abs(data - sent)) <= BDF_STEP_UV  # every sample as sent, in order, none missing
    onsets = {a.text: a.onset_s for a in rec.annotations}
    for text, sample in (("stim A", stim_a), ("stim B", stim_b)):
        index = round(onsets[text] * 2_000.0)
        assert round(float(data[RAMP_CHANNEL, index])) == sample, text


@pytest.mark.timeout(60)
def test_a_stream_that_stops_is_lost_within_2_s_and_its_return_is_a_gap_of_the_outage() -> None:
    sender = Sender("amp-stop", channels=2).start()
    driven = DrivenSession(lsl_settings("amp-stop"))
    session = driven.session
    try:
        session.connect()
        driven.run_until(lambda: session.pipeline is not None and session.pipeline.raw.write_index > 2_000)
        connected = driven.log.wait_for(events.CONNECTED)
        assert connected.data["info"].channel_labels == ("Lead 1", "Lead 2")
        last_push = sender.stop()
        driven.run_until(lambda: driven.log.of(events.CONNECTION_LOST), timeout=5, what="connection lost")
        (lost,) = driven.log.of(events.CONNECTION_LOST)
        assert lost.message == "Connection lost: no data for 1.5 s."
        assert driven.log.arrived_at(lost) + lsl_minus_monotonic() - last_push < 2.0
        driven.run_for(1.0)
        sender.restart()  # the sender's app comes back with the same source id: liblsl recovers the inlet
        driven.run_until(lambda: driven.log.of(events.CONNECTION_RESUMED), timeout=30, what="the stream's return")
        driven.run_until(lambda: driven.log.of(events.SAMPLES_DROPPED), timeout=5, what="the gap")
    finally:
        driven.close()
        sender.stop()
    (gap,) = driven.log.of(events.SAMPLES_DROPPED)
    assert gap.data["cause"] == "samples of the LSL stream were lost on the way"
    assert gap.data["seconds"] > 2.5  # the outage: 1.5 s to be lost, 1 s more, and liblsl's reconnect


@pytest.mark.timeout(60)
def test_a_chunk_that_never_arrived_is_counted_as_dropped_samples_at_its_place() -> None:
    sender = Sender("amp-drop", channels=2).start()
    driven = DrivenSession(lsl_settings("amp-drop"))
    session = driven.session
    try:
        session.connect()
        driven.run_until(lambda: session.pipeline is not None and session.pipeline.raw.write_index > 1_000)
        sender.skip(100)  # 50 ms at 2 kHz: a lost packet
        driven.run_until(lambda: driven.log.of(events.SAMPLES_DROPPED), timeout=5, what="the gap")
        driven.run_for(0.2)
        ring = session.pipeline.raw
        (gap,) = driven.log.of(events.SAMPLES_DROPPED)
        before = ring.read_range(gap.sample_index - 1, gap.sample_index + 1)[1][RAMP_CHANNEL]
    finally:
        driven.close()
        sender.stop()
    assert gap.data["count"] == 100
    assert gap.message == "Gap: 0.05 s of signal missing (samples of the LSL stream were lost on the way)"
    assert before[1] - before[0] == 101  # the gap is marked exactly where the samples are missing


@pytest.mark.parametrize(
    ("kind", "said_"),
    [
        ("none", "No LSL stream named 'amp-x' was found in 2 s, nor any other"),
        ("other", "No LSL stream named 'amp-x' was found in 2 s; found: "),
        ("text", "The LSL stream 'amp-x' carries text (a marker stream), not a signal, so it cannot be used"),
        ("irregular", "The LSL stream 'amp-x' has no nominal sampling rate (its samples are irregular)"),
        ("int64", "The LSL stream 'amp-x' sends int64 samples, which emgscope cannot read"),
    ],
)
def test_a_stream_that_cannot_be_an_amplifier_gets_one_sentence(kind: str, said_: str, tmp_path: Path) -> None:
    import pylsl

    formats = {"text": ("Markers", 1, 0.0, pylsl.cf_string), "irregular": ("EMG", 2, 0.0, pylsl.cf_float32)}
    formats["int64"] = ("EMG", 2, 1_000.0, pylsl.cf_int64)
    outlets = []
    if kind in formats:
        stream_type, channels, rate, fmt = formats[kind]
        outlets.append(pylsl.StreamOutlet(pylsl.StreamInfo("amp-x", stream_type, channels, rate, fmt, "x")))
    if kind == "other":
        outlets.append(Sender("amp-y").outlet)
    out = tmp_path / "x.bdf"
    done = record("--source", "lsl", "--lsl-name", "amp-x", "--seconds", "1", "--out", str(out))
    _stdout, stderr = done.communicate(timeout=30)
    assert done.returncode == 1
    (line,) = said(stderr)  # one line, no traceback
    assert line.startswith(f"emgscope record: {said_}"), line
    if kind == "other":
        assert "'amp-y' (EMG, 4 channels at 2000 Hz, float32, on " in line
    assert not out.exists()


@pytest.mark.timeout(60)
def test_an_outlet_that_dies_mid_recording_leaves_a_valid_file_and_says_the_connection_was_lost(
    tmp_path: Path,
) -> None:
    sender = Sender("amp-dies", channels=4).start()
    out = tmp_path / "dies.bdf"
    recording = record("--source", "lsl", "--lsl-name", "amp-dies", "--seconds", "30", "--out", str(out))
    try:
        sender.wait_for_consumer(20)
        time.sleep(2.0)
        sender.stop()
        _stdout, stderr = recording.communicate(timeout=20)
    finally:
        recording.kill()
    assert recording.returncode == 1
    assert said(stderr) == ["emgscope record: the source stopped early: Connection lost: no data for 1.5 s."]
    rec = open_recording(out)
    assert 1.0 < rec.duration_s < 4.0
    n = rec.signals[0].n_samples
    data = rec.read(0, 0, n)
    assert np.all(np.diff(np.round(data)) == 1)  # what was recorded is whole


@pytest.mark.timeout(90)
def test_record_with_lsl_out_publishes_what_it_records(tmp_path: Path) -> None:
    import pylsl

    sender = Sender("amp-chain", channels=4).start()
    recording = record(
        "--source", "lsl", "--lsl-name", "amp-chain", "--lsl-out", "--lsl-out-signal", "raw",
        "--lsl-out-name", "record-out", "--seconds", "4", "--out", str(tmp_path / "chain.bdf"),
    )  # fmt: skip
    try:
        found = pylsl.resolve_byprop("name", "record-out", 1, 20.0)
        assert found, "record --lsl-out published nothing"
        inlet = pylsl.StreamInlet(found[0])
        info = inlet.info(5.0)
        inlet.open_stream(5.0)
        time.sleep(1.0)
        data, _ = inlet.pull_chunk(timeout=1.0, max_samples=100_000, as_numpy=True)
        _, stderr = recording.communicate(timeout=40)
    finally:
        recording.kill()
        sender.stop()
    assert recording.returncode == 0, stderr
    assert info.get_channel_labels() == sender.labels and info.nominal_srate() == 2_000.0
    assert len(data) > 1_000
    first = round(float(data[0, RAMP_CHANNEL]))
    assert np.array_equal(data, known_signal(first, len(data), 4, 2_000.0).astype(np.float32))
