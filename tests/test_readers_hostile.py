"""Other programs' files with impossible numbers, cut-off ends and paths: one clear sentence, or what is whole.

Each case here once gave a traceback, crashed the acquisition process, read a file outside the recording's folder
or rejected a whole file for its last line. The WFDB records are written here by the format's rules (format 16:
little-endian 16-bit samples), the BrainFlow files by BrainFlow's own ``DataFilter.write_file``; then damaged.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest
from brainflow.board_shim import BoardIds, BoardShim
from brainflow.data_filter import DataFilter
from support.events import EventLog

from emgscope import cli
from emgscope.acquisition.process import ProcessPump
from emgscope.acquisition.pump import AcquisitionPump
from emgscope.core import events
from emgscope.core.events import EventBus
from emgscope.core.settings import FilterSettings, ReplaySettings, SourceSettings
from emgscope.core.source import SourceEnded
from emgscope.replay.reader import RecordingError, open_recording
from emgscope.replay.source import ReplaySource

SAMPLES = 400
BOARD = BoardIds.SYNTHETIC_BOARD.value


def wfdb_record(folder: Path, rate: str = "4000", signal_file: str = "r.dat") -> Path:
    """A one-signal WFDB record ``r`` (format 16, gain 200/mV) whose header says ``rate`` and ``signal_file``."""
    (np.arange(SAMPLES) % 50 - 25).astype("<i2").tofile(folder / "r.dat")
    header = folder / "r.hea"
    header.write_text(f"r 1 {rate} {SAMPLES}\n{signal_file} 16 200/mV 16 0 0 0 0 EMG\n")
    return header


def brainflow_file(path: Path, n: int = 100) -> np.ndarray:
    """``n`` rows of the synthetic board's layout, written by BrainFlow; returns the table ``(rows, n)``."""
    rows = BoardShim.get_num_rows(BOARD)
    table = np.random.default_rng(3).normal(0.0, 50.0, (rows, n))
    table[BoardShim.get_package_num_channel(BOARD)] = np.arange(n) % 256
    table[BoardShim.get_timestamp_channel(BOARD)] = 1.7e9 + np.arange(n) / 250.0
    table[BoardShim.get_marker_channel(BOARD)] = 0.0
    DataFilter.write_file(table, str(path), "w")
    return table


def info(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``emgscope info PATH`` as the command line runs it: exit status, stdout, stderr."""
    status = cli.main(["info", str(path)])
    out = capsys.readouterr()
    return status, out.out, out.err


# --- WFDB: the sampling frequency ----------------------------------------------------------------------------


@pytest.mark.parametrize("rate", ["nan", "inf", "-inf", "1e300", "1e-300", "2e6", "0"])
def test_a_wfdb_sampling_frequency_that_is_no_rate_is_refused_in_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rate: str
) -> None:
    header = wfdb_record(tmp_path, rate)
    with pytest.raises(RecordingError) as error:
        open_recording(header)
    message = str(error.value)
    assert message.startswith("r.hea: the sampling frequency is ") and "\n" not in message
    assert f"{float(rate):g} Hz" in message
    status, out, err = info(header, capsys)
    assert (status, out) == (1, "")
    assert err == f"emgscope info: {message}\n"


def test_the_slowest_and_fastest_rates_still_open(tmp_path: Path) -> None:
    """The limits refuse damage, not slow or fast recordings: one sample a minute and 1 MHz both read."""
    for rate in ("0.0166667", "1000000"):
        rec = open_recording(wfdb_record(tmp_path, rate))
        assert rec.signals[0].sample_rate == float(rate)
        assert rec.duration_s == pytest.approx(SAMPLES / float(rate))


@pytest.mark.timeout(30)
def test_replaying_a_wfdb_record_with_an_impossible_rate_fails_to_connect_with_the_reason(tmp_path: Path) -> None:
    """Through the real acquisition process: a failed connect naming the rate, not a crashed child."""
    header = wfdb_record(tmp_path, "1e300")
    bus = EventBus()
    log = EventLog(bus)
    pump = ProcessPump(SourceSettings("replay", replay=ReplaySettings(file=str(header))), FilterSettings(), bus)
    pump.start()
    try:
        event = log.wait_for(events.CONNECT_FAILED, events.CONNECTED, events.SOURCE_ERROR, timeout=15.0)
    finally:
        pump.stop(5.0)
    assert event.kind == events.CONNECT_FAILED
    assert event.message == "r.hea: the sampling frequency is 1e+300 Hz, above the 1e+06 Hz any amplifier samples at"


def test_a_signal_too_slow_to_replay_is_described_but_not_replayed(tmp_path: Path) -> None:
    header = wfdb_record(tmp_path, "0.5")
    assert open_recording(header).duration_s == SAMPLES / 0.5
    bus = EventBus()
    log = EventLog(bus)
    pump = AcquisitionPump(ReplaySource(header), FilterSettings(), bus)
    pump.start()
    try:
        event = log.wait_for(events.CONNECT_FAILED, events.CONNECTED, timeout=5.0)
    finally:
        pump.stop()
    assert event.kind == events.CONNECT_FAILED
    assert "sampled at 0.5 Hz; replay plays signals sampled at least 1 times a second" in event.message


# --- WFDB: signal files only beside their header -------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../../../etc/passwd", "/etc/passwd", "sub/r.dat", "..", "sub\\r.dat"])
def test_a_wfdb_signal_file_is_read_only_from_beside_its_header(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    (tmp_path / "sub").mkdir()
    (np.arange(SAMPLES) % 50).astype("<i2").tofile(tmp_path / "sub" / "r.dat")  # it exists, yet is not read
    header = wfdb_record(tmp_path, signal_file=name)
    with pytest.raises(RecordingError) as error:
        open_recording(header)
    assert str(error.value) == (
        f"r.hea: signal 1: its signal file {name!r} is not a file beside the header (signal files are read only "
        "from the header's own folder)"
    )
    status, _, err = info(header, capsys)
    assert status == 1 and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("r.dat 16 1e999/mV 16 0 0 0 0 EMG", "signal 1: gain '1e999' is not a finite number"),
        ("r.dat 16 1e/mV 16 0 0 0 0 EMG", "signal 1: gain '1e' is not a number"),
        ("r.dat 16 200(99999999999999999999999)/mV 16 0", "signal 1: baseline 99999999999999999999999 is beyond"),
        ("r.dat 16 200/mV 99999999999 0 0 0 0 EMG", "signal 1: ADC resolution 99999999999 is beyond"),
        ("r.dat 16 200/mV 0 0 0 0 0 EMG", "signal 1: ADC resolution 0 bits is outside 1–32"),
        ("r.dat 16 200/mV 16 x 0 0 0 EMG", "signal 1: ADC zero 'x' is not a whole number"),
    ],
)
def test_wfdb_signal_numbers_out_of_any_range_are_named(tmp_path: Path, spec: str, fragment: str) -> None:
    header = wfdb_record(tmp_path)
    header.write_text(f"r 1 4000 {SAMPLES}\n{spec}\n")
    with pytest.raises(RecordingError) as error:
        open_recording(header)
    assert fragment in str(error.value) and "\n" not in str(error.value)


# --- BrainFlow files ------------------------------------------------------------------------------------------


def test_a_brainflow_file_cut_mid_row_reads_its_whole_rows_and_says_the_end_was_cut(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = tmp_path / "whole.csv"
    table = brainflow_file(whole, 100)
    text = whole.read_bytes()
    rows = text.split(b"\n")
    for keep in (1, 17, len(rows[60]) - 1):  # cut inside the first field, mid-row, in the last field of row 61
        cut = tmp_path / f"cut{keep}.csv"
        cut.write_bytes(b"\n".join(rows[:60]) + b"\n" + rows[60][:keep])
        rec = open_recording(cut)
        assert rec.signals[0].n_samples == 60
        np.testing.assert_allclose(rec.read(0, 0, 60), table[1, :60], atol=1e-6)
        assert rec.warnings[0] == (
            "the file ends in the middle of row 61 (its writer stopped mid-row): the 60 whole rows before it are read"
        )
        status, out, _ = info(cut, capsys)
        assert status == 0 and "Note:       the file ends in the middle of row 61" in out


@pytest.mark.timeout(20)
def test_a_replayed_file_whose_end_was_cut_says_so_once_connected(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    brainflow_file(path, 500)
    path.write_bytes(path.read_bytes()[:-25])
    bus = EventBus()
    log = EventLog(bus)
    pump = AcquisitionPump(ReplaySource(path), FilterSettings(), bus)
    pump.start()
    try:
        log.wait_for(events.CONNECTED, events.CONNECT_FAILED, timeout=5.0)
        log.wait_for(events.SOURCE_ENDED, timeout=10.0)
    finally:
        pump.stop()
    assert log.kinds()[0] == events.CONNECTED
    warnings = [event.message for event in log.of(events.WARNING)]
    assert warnings[-1] == (  # after the filters' clamp: the banner shows the last one
        "cut.csv: the file ends in the middle of row 500 (its writer stopped mid-row): the 499 whole rows before it "
        "are read"
    )


def test_a_brainflow_file_with_no_whole_row_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    brainflow_file(path, 3)
    path.write_bytes(path.read_bytes().split(b"\n")[0][:200])
    with pytest.raises(RecordingError, match=r"^x\.csv: the file holds no whole row of numbers$"):
        open_recording(path)


@pytest.mark.parametrize("value", ["1e308", "-1e308", "1e999", "inf", "nan"])
def test_huge_values_and_timestamps_in_a_brainflow_file_read_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    """A row of 1e308 (every column, the timestamp too), then only the timestamps: read, never an OverflowError."""
    path = tmp_path / "big.csv"
    table = brainflow_file(path, 50)
    rows = path.read_text().split("\n")
    rows[0] = "\t".join([value] * table.shape[0])
    path.write_text("\n".join(rows))
    rec = open_recording(path)
    channels = len(rec.data_signals)
    assert rec.start is None
    assert f"the first timestamp ({float(value):g}) is not a time: start time unknown" in rec.warnings
    assert f"samples read as missing: {channels} (NaN, infinite or beyond ±1e+09 µV" in rec.warnings[0]
    first = rec.read(0, 0, 50)
    assert math.isnan(first[0]) and np.allclose(first[1:], table[1, 1:], atol=1e-6)
    assert rec.signals[0].physical_max == pytest.approx(table[1, 1:].max(), abs=1e-6)
    status, out, err = info(path, capsys)
    assert status == 0 and "Start:      unknown" in out and err == ""

    timestamps = BoardShim.get_timestamp_channel(BOARD)
    with np.errstate(over="ignore"):
        table[timestamps] = float(value) * np.arange(1, 51)
    DataFilter.write_file(table, str(path), "w")
    rec = open_recording(path)
    assert rec.start is None and rec.signals[0].n_samples == 50
    np.testing.assert_allclose(rec.read(0, 0, 50), table[1], atol=1e-6)


def test_a_brainflow_replay_of_huge_values_plays_them_as_silence(tmp_path: Path) -> None:
    """What the ring receives is finite: a 1e308 sample would otherwise poison the filters for good."""
    path = tmp_path / "big.csv"
    table = brainflow_file(path, 300)
    rows = path.read_text().split("\n")
    rows[10] = "\t".join(["1e308"] * table.shape[0])
    path.write_text("\n".join(rows))
    source = ReplaySource(path, speed=4.0)
    source.open()
    source.seek(0.0)
    chunks = []
    while sum(c.shape[1] for c in chunks) < 300:
        try:
            chunks.append(source.read())
        except SourceEnded:
            break
        time.sleep(0.005)
    data = np.concatenate(chunks, axis=1)
    assert np.isfinite(data).all() and data[0, 10] == 0.0
    np.testing.assert_allclose(data[0, 11:300], table[1, 11:300], atol=1e-6)
