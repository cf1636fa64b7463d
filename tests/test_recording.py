"""Recording: the files we write read back the same in pyEDFlib, MNE and edfio; layout, naming, export, CLI."""

from __future__ import annotations

import argparse
import time
from datetime import date
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from emgscope.commands import export as cli_export
from emgscope.commands import record as cli_record
from emgscope.core.ring import SampleRing
from emgscope.core.settings import FilterSettings
from emgscope.core.source import StreamInfo
from emgscope.recording import edfplus
from emgscope.recording.export import ExportError, export_copy
from emgscope.recording.journal import journal_path
from emgscope.recording.naming import session_file
from emgscope.recording.recorder import Recorder
from emgscope.recording.repair import find_unfinished
from emgscope.recording.session import SessionInfo
from emgscope.recording.writer import EdfPlusWriter
from emgscope.replay.reader import open_recording

SESSION = SessionInfo(
    patient_id="P-0042",
    name="Zoë Müller",
    birthdate=date(1961, 3, 2),
    sex="F",
    operator="T. Nurse",
    muscle="Tibialis anterior",
    side="left",
    notes="Fibs at 2 sites",
    admin_code="EMG-7",
)
MARKS = ("1", "fibrillations – 中文 µV", "note: ünïcödé ✓")


def _record(path: Path, file_format: str, rate: float = 20_000, channels: int = 4, seconds: float = 1.0):
    """Record a known random signal through a real ring and the recorder thread; returns (signal, marker onsets)."""
    ring = SampleRing(channels, int(rate * 10))
    info = StreamInfo(rate, tuple(f"EMG{c + 1}" for c in range(channels)), "test signal", device="test-amp")
    recorder = Recorder(ring, info, path, SESSION, file_format, FilterSettings())
    recorder.start()
    rng = np.random.default_rng(7)
    scale = 3000.0 if file_format == "bdf" else 2000.0
    sent = (rng.standard_normal((channels, int(rate * seconds))) * scale).astype(np.float32)
    block = int(rate // 50)
    onsets = []
    for start in range(0, sent.shape[1], block):
        ring.write(sent[:, start : start + block])
        if len(onsets) < len(MARKS) and start >= (len(onsets) + 1) * sent.shape[1] // 4:
            onsets.append(recorder.add_marker(MARKS[len(onsets)]))
        time.sleep(0.001)
    recorder.stop(ring.write_index)
    assert recorder.join(10)
    assert recorder.error is None
    return sent, onsets, recorder


@pytest.mark.parametrize("file_format", ["bdf", "edf"])
def test_file_reads_back_the_same_in_pyedflib_mne_and_edfio(tmp_path: Path, file_format: str) -> None:
    import edfio
    import mne
    import pyedflib

    path = tmp_path / f"session.{file_format}"
    rate = 20_000
    sent, onsets, recorder = _record(path, file_format, rate)
    layout = recorder.layout
    step = layout.gain
    n = sent.shape[1]
    assert recorder.samples_written == n
    assert not journal_path(path).exists()
    assert (path.stat().st_size - layout.header_bytes) % layout.record_bytes == 0
    assert layout.record_bytes <= edfplus.MAX_RECORD_BYTES

    reader = pyedflib.EdfReader(str(path))
    try:
        assert reader.getSampleFrequency(0) == rate
        assert reader.getPhysicalDimension(0) == "uV"
        assert reader.getPatientCode() == "P-0042"
        assert reader.getPatientName() == "Zoe Mueller"  # underscores read back as spaces; ü as ICAO 9303 writes it
        assert reader.getBirthdate() == "02 mar 1961"
        assert reader.getTechnician() == "T. Nurse"
        assert reader.getAdmincode() == "EMG-7"
        assert reader.getEquipment() == "test-amp"
        for c in range(sent.shape[0]):
            assert np.max(np.abs(reader.readSignal(c) - sent[c])) <= step
        py_ann = reader.readAnnotations()
    finally:
        reader.close()
    read_mne = mne.io.read_raw_bdf if file_format == "bdf" else mne.io.read_raw_edf
    raw = read_mne(path, preload=True, verbose="error")
    assert raw.info["sfreq"] == rate
    assert np.max(np.abs(raw.get_data() * 1e6 - sent)) <= step * 1.0001
    read_edfio = edfio.read_bdf if file_format == "bdf" else edfio.read_edf
    copy = read_edfio(path)
    assert np.max(np.abs(np.array([s.data for s in copy.signals]) - sent)) <= step * 1.0001

    by_reader = {
        "pyedflib": list(zip(py_ann[0].tolist(), py_ann[2].tolist(), strict=True)),
        "mne": list(zip(raw.annotations.onset.tolist(), raw.annotations.description.tolist(), strict=True)),
        "edfio": [(a.onset, a.text) for a in copy.annotations],
    }
    for name, found in by_reader.items():
        texts = [t for _, t in found]
        assert "Muscle: Tibialis anterior" in texts and "Side: left" in texts, name
        assert "Notes: Fibs at 2 sites" in texts, name
        assert any(t.startswith("Review filters (needle): LFF 10 Hz, HFF 10000 Hz") for t in texts), name
        assert any(t.startswith("Device: test signal; 20000 Hz; 4 channels") for t in texts), name
        marks = [(o, t) for o, t in found if t in MARKS]
        assert [t for _, t in marks] == list(MARKS), name
        for (onset, _), want in zip(marks, onsets, strict=True):
            assert abs(onset - want) <= 1 / rate, (name, onset, want)


@pytest.mark.parametrize(
    ("rate", "channels", "bdf", "expected"),
    [
        (20_000, 16, True, "0.05"),
        (20_000, 1, True, "0.5"),
        (250, 16, True, "0.5"),
        (20_000, 64, True, "0.01"),
        (487.5, 2, False, "0.48"),
        (30_000, 16, False, "0.05"),
    ],
)
def test_record_duration_is_exact_short_enough_and_fits(rate: float, channels: int, bdf: bool, expected: str) -> None:
    layout = edfplus.make_layout(bdf, tuple(f"c{i}" for i in range(channels)), rate)
    assert layout.record_duration == expected
    assert len(layout.record_duration) <= 8
    assert Fraction(layout.samples_per_record) / Fraction(layout.record_duration) == Fraction(str(rate))
    assert layout.record_bytes <= edfplus.MAX_RECORD_BYTES
    assert Fraction(layout.record_duration) <= Fraction(1, 2)


def test_a_rate_without_an_exact_record_duration_is_refused() -> None:
    with pytest.raises(edfplus.FormatError, match="exact in 8 characters"):
        edfplus.make_layout(True, ("a",), 333.3)


def test_header_fields_follow_edf_plus_subfields(tmp_path: Path) -> None:
    path = tmp_path / "h.bdf"
    _record(path, "bdf", 2000, 1, 0.5)
    head = path.read_bytes()[:256]
    assert head[:8] == b"\xffBIOSEMI"
    assert head[8:88].decode().rstrip() == "P-0042 F 02-MAR-1961 Zoe_Mueller"
    recording = head[88:168].decode().rstrip().split(" ")
    assert recording[0] == "Startdate" and recording[2:] == ["EMG-7", "T._Nurse", "test-amp"]
    assert head[192:236].decode().rstrip() == "BDF+C"
    assert int(head[236:244]) == 1  # 0.5 s in one record of 0.5 s


def test_file_names_come_from_the_session_and_nothing_is_overwritten(tmp_path: Path) -> None:
    from datetime import datetime

    when = datetime(2026, 11, 25, 14, 3, 12)
    first = session_file(tmp_path / "sessions", SESSION, when)
    assert first.name == "2026-11-25_140312_P-0042_tibialis-anterior-left.bdf"
    first.write_bytes(b"precious")
    second = session_file(tmp_path / "sessions", SESSION, when)
    assert second.name == "2026-11-25_140312_P-0042_tibialis-anterior-left_2.bdf"
    layout = edfplus.make_layout(True, ("a",), 1000)
    with pytest.raises(FileExistsError):
        EdfPlusWriter(first, layout, "X X X X", "Startdate X X X X", when)
    assert first.read_bytes() == b"precious"
    assert not journal_path(first).exists()


def test_record_command_refuses_an_existing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "exists.bdf"
    out.write_bytes(b"keep me")
    assert _run(cli_record, ["--seconds", "1", "--out", str(out), "--no-settings"]) == 1
    assert "never overwritten" in capsys.readouterr().err
    assert out.read_bytes() == b"keep me"


def test_record_command_records_the_simulated_patient_for_the_time_asked(tmp_path: Path) -> None:
    import pyedflib

    out = tmp_path / "sim.bdf"
    args = ["--seconds", "1.5", "--out", str(out), "--no-settings", "--rate", "20000", "--channels", "2"]
    args += ["--patient-id", "P9", "--muscle", "Deltoid", "--side", "right", "--mark", "0.5:rest"]
    assert _run(cli_record, args) == 0
    reader = pyedflib.EdfReader(str(out))
    try:
        assert reader.signals_in_file == 2
        assert reader.getNSamples()[0] == 30_000
        onsets, _, texts = reader.readAnnotations()
        assert "Muscle: Deltoid" in texts and "Side: right" in texts
        rest = float(onsets[list(texts).index("rest")])
        assert 0.5 <= rest <= 0.6
        assert 0.5 < np.std(reader.readSignal(0)) < 5000  # a real signal in µV, neither flat nor volts
    finally:
        reader.close()


def test_deidentified_export_keeps_signals_and_annotations_and_no_patient_field(tmp_path: Path) -> None:
    import pyedflib

    source = tmp_path / "source.bdf"
    sent, onsets, recorder = _record(source, "bdf", 4000, 2, 2.0)
    target = tmp_path / "teaching.bdf"
    assert _run(cli_export, [str(source), "--out", str(target), "--deidentify", "--start", "0.5", "--end", "1.5"]) == 0
    data = target.read_bytes()
    for secret in (b"P-0042", b"Zoe", b"Muller", b"Mueller", b"1961", b"02-MAR", b"EMG-7", b"Nurse"):
        assert secret not in data, secret
    assert "Müller".encode() not in data  # the source's "Patient name: Zoë Müller" annotation was dropped
    assert data[8:88].decode().rstrip() == "X X X X"
    assert data[168:184] == b"01.01.8500.00.00"
    reader = pyedflib.EdfReader(str(target))
    try:
        assert reader.getPatientCode() == "" and reader.getBirthdate() == "" and reader.getSex() in ("", None)
        assert reader.getNSamples()[0] == 4000
        assert np.max(np.abs(reader.readSignal(1) - sent[1, 2000:6000])) <= recorder.layout.gain
        onsets_out, _, texts = reader.readAnnotations()
    finally:
        reader.close()
    assert "Muscle: Tibialis anterior" in texts
    inside = [(o, t) for o, t in zip(onsets, MARKS, strict=False) if 0.5 <= o < 1.5]
    assert inside
    for onset, text in inside:
        position = list(texts).index(text)
        assert abs(onsets_out[position] - (onset - 0.5)) <= 1 / 4000
    with pytest.raises(ExportError, match="never overwritten"):
        export_copy(source, target, deidentify=True)


def test_recorder_that_falls_behind_keeps_time_true_and_says_what_was_lost(tmp_path: Path) -> None:
    import pyedflib

    rate, capacity = 1000, 500
    ring = SampleRing(1, capacity)
    info = StreamInfo(rate, ("EMG",), "test")
    path = tmp_path / "lapped.edf"
    recorder = Recorder(ring, info, path, SessionInfo(patient_id="P1"), "edf")
    recorder.start()
    ring.write(np.full((1, 3000), 100.0, dtype=np.float32))  # laps the disk reader before it can read
    recorder.stop(ring.write_index)
    assert recorder.join(10)
    assert recorder.lost_samples == 2500
    reader = pyedflib.EdfReader(str(path))
    try:
        signal = reader.readSignal(0)
        _, _, texts = reader.readAnnotations()
    finally:
        reader.close()
    assert signal.shape[0] == 3000
    assert np.all(np.abs(signal[:2500]) < 0.5) and np.all(np.abs(signal[2500:] - 100) < 0.5)
    assert "Gap: 2.50 s of signal missing (the recorder fell behind; written as zeros)" in texts
    assert (recorder.gaps, recorder.gap_samples) == (1, 2500)


def test_a_clean_stop_leaves_nothing_to_repair(tmp_path: Path) -> None:
    _record(tmp_path / "clean.bdf", "bdf", 2000, 1, 1.0)
    assert find_unfinished(tmp_path) == []
    assert find_unfinished(tmp_path / "missing") == []


def test_a_recording_shorter_than_one_record_leaves_no_empty_file(tmp_path: Path) -> None:
    ring = SampleRing(1, 10_000)
    path = tmp_path / "short.bdf"
    recorder = Recorder(ring, StreamInfo(2000, ("EMG",), "test"), path, SessionInfo(patient_id="P1"))
    recorder.start()
    ring.write(np.zeros((1, 600), dtype=np.float32))  # 0.3 s, and then the source ends
    recorder.stop(ring.write_index)
    assert recorder.join(5)
    assert recorder.error == "Nothing was recorded: the source delivered less than one record (0.5 s)."
    assert list(tmp_path.iterdir()) == []


def _run(module, argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return module.run(parser.parse_args(argv))


def test_export_copies_real_needle_emg_from_another_program_without_losing_a_sample(
    tmp_path: Path, shared_data: Path
) -> None:
    import pyedflib
    import wfdb

    source = shared_data / "physionet_emgdb" / "emg_neuropathy.hea"
    target = tmp_path / "neuropathy.bdf"
    report = export_copy(source, target, deidentify=True)
    expected = wfdb.rdrecord(str(source.with_suffix(""))).p_signal[:, 0] * 1000.0  # mV → µV
    reader = pyedflib.EdfReader(str(target))
    try:
        copied = reader.readSignal(0)
        step = (reader.getPhysicalMaximum(0) - reader.getPhysicalMinimum(0)) / (2**24 - 1)
        assert reader.getPhysicalDimension(0) == "uV"
    finally:
        reader.close()
    assert copied.shape == expected.shape == (147_858,)
    assert report.seconds == pytest.approx(147_858 / 4000)
    assert np.max(np.abs(copied - expected)) <= step


def test_export_refuses_a_multi_rate_file_with_a_reason(tmp_path: Path, shared_data: Path) -> None:
    with pytest.raises(ExportError, match="5 different rates"):
        export_copy(shared_data / "pyedflib" / "test_generator.bdf", tmp_path / "x.bdf")
    assert not (tmp_path / "x.bdf").exists()


def test_edf_recording_that_clips_says_so_in_the_file_and_the_summary(tmp_path: Path) -> None:
    """EDF+ holds ±10 mV: a larger signal is clipped, never silently (annotation + summary); one channel is
    "1 channel" in both."""
    import pyedflib

    ring = SampleRing(1, 20_000)
    path = tmp_path / "loud.edf"
    recorder = Recorder(ring, StreamInfo(2000, ("EMG",), "test"), path, SessionInfo(patient_id="P1"), "edf")
    recorder.start()
    signal = np.zeros((1, 4000), dtype=np.float32)
    signal[0, 2500:2600] = 25_000.0  # 25 mV from 1.25 s
    ring.write(signal)
    recorder.stop(ring.write_index)
    assert recorder.join(10) and recorder.error is None
    assert recorder.clipped_samples == 100
    assert recorder.summary() == f"Saved 2.0 s (1 channel at 2000 Hz) to {path}; 100 samples clipped at ±10000 uV"
    reader = pyedflib.EdfReader(str(path))
    try:
        onsets, _, texts = reader.readAnnotations()
        assert reader.readSignal(0)[2550] == pytest.approx(10_000, abs=1)
    finally:
        reader.close()
    clipped = [(o, t) for o, t in zip(onsets, texts, strict=True) if t.startswith("Clipped")]
    assert len(clipped) == 1 and "±10000 uV" in clipped[0][1]
    assert clipped[0][0] <= 1.25
    assert "Device: test; 2000 Hz; 1 channel" in texts


def _source_with_identifiers(path: Path) -> np.ndarray:
    """A closed BDF+ whose free-text annotations name the patient, with a REST segment 0.2–1.2 s."""
    from datetime import datetime

    layout = edfplus.make_layout(True, ("EMG1", "EMG2"), 2000, prefilter="HP:10Hz LP:5kHz")
    patient = SESSION.patient_field()
    writer = EdfPlusWriter(path, layout, patient, "Startdate 02-MAR-2026 EMG-7 T._Nurse amp", datetime(2026, 3, 2, 9))
    signal = (np.random.default_rng(1).standard_normal((2, 4000)) * 500).astype(np.float32)
    for text in SESSION.annotations():  # as the recorder writes them: "Patient name: Zoë Müller", "Muscle: …"
        writer.annotate(0.0, text)
    writer.annotate(0.2, "REST", 1.0)
    writer.annotate(0.9, "Notes: Zoë Müller (zoe muller, P-0042, born 02-MAR-1961) tolerated it well")
    writer.write(signal)
    assert writer.close()
    return signal


def test_deidentified_copy_strips_the_patient_from_annotations_and_keeps_overlapping_segments(tmp_path: Path) -> None:
    import pyedflib

    source = tmp_path / "source.bdf"
    signal = _source_with_identifiers(source)
    target = tmp_path / "teaching.bdf"
    report = export_copy(source, target, deidentify=True, start_s=0.5, end_s=1.5)
    data = target.read_bytes()
    for secret in (b"P-0042", b"Zoe", b"Muller", b"Mueller", b"zoe muller", b"1961", b"02-MAR", b"EMG-7", b"Nurse"):
        assert secret not in data, secret
    assert "Müller".encode() not in data and "Zoë".encode() not in data and b"Patient" not in data
    reader = pyedflib.EdfReader(str(target))
    try:
        onsets, durations, texts = reader.readAnnotations()
        assert reader.getPrefilter(0) == "HP:10Hz LP:5kHz"
        step = edfplus.make_layout(True, ("a",), 2000).gain
        np.testing.assert_allclose(reader.readSignal(0), signal[0, 1000:3000], atol=step)
    finally:
        reader.close()
    found = {t: (o, d) for o, d, t in zip(onsets, durations, texts, strict=True)}
    assert report.annotations == 5  # muscle, side and notes at 0 s, the segment and the note in the span
    assert found["REST"] == pytest.approx((0.0, 0.7))  # began before the span: cut to it, not dropped
    notes = [t for t in texts if t.startswith("Notes")]
    assert notes == [
        "Notes: Fibs at 2 sites",
        "Notes: [removed] ([removed], [removed], born [removed]) tolerated it well",
    ]


def test_a_plain_copy_keeps_the_patient_and_starts_when_its_first_sample_was_taken(tmp_path: Path) -> None:
    from datetime import datetime

    source = tmp_path / "source.bdf"
    _source_with_identifiers(source)
    target = tmp_path / "copy.bdf"
    export_copy(source, target, start_s=1.0)
    head = target.read_bytes()[:256]
    assert head[8:88] == source.read_bytes()[8:88]
    copy = open_recording(target)
    assert copy.start == datetime(2026, 3, 2, 9, 0, 1)
    assert copy.duration_s == pytest.approx(1.0)


def test_copies_of_other_formats_get_edf_plus_header_fields_not_their_raw_bytes(
    tmp_path: Path, shared_data: Path
) -> None:
    """A WFDB header's text, or a BrainFlow table, must not be pasted into the patient field; odd ranges fit."""
    wfdb_copy = tmp_path / "healthy.bdf"
    export_copy(shared_data / "physionet_emgdb" / "emg_healthy.hea", wfdb_copy)
    head = wfdb_copy.read_bytes()[8:256].decode("ascii")
    assert head[:80].rstrip() == "X M X X age_44"
    assert head[80:160].rstrip() == "Startdate X X X WFDB_emg_healthy"
    source = shared_data / "brainflow" / "test_data.csv"
    brainflow_copy = tmp_path / "brainflow.bdf"
    report = export_copy(source, brainflow_copy)  # its range ±969.867… needs rounding up to fit 8 characters
    assert report.n_channels == 16
    original, copy = open_recording(source), open_recording(brainflow_copy)
    step = (copy.signals[0].physical_max - copy.signals[0].physical_min) / (2**24 - 1)
    for k in (0, 15):
        np.testing.assert_allclose(copy.read(k, 0, 2502), original.read(original.data_signals[k], 0, 2502), atol=step)
