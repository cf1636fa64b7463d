"""``emgscope info`` and our own sessions: what the recorder writes, we read back; a crashed one is repaired first."""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from emgscope.commands import info as info_command
from emgscope.recording.edfplus import make_layout
from emgscope.replay.reader import open_recording

pytestmark = pytest.mark.timeout(90)
"""The command runs as a subprocess: a hang fails its own test."""

REPO_ROOT = Path(__file__).resolve().parent.parent


def _info(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    info_command.add_arguments(parser)
    code = info_command.run(parser.parse_args(list(argv)))
    out, err = capsys.readouterr()
    return code, out, err


def test_info_describes_a_file(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _info(capsys, str(shared_data / "mne_python/test_uneven_samp.edf"))
    assert code == 0 and err == ""
    assert "Format:     EDF" in out and "Start:      2000-07-13 12:05:48" in out and "110.000 s" in out
    assert "12.8 Hz" in out and "100 Hz" in out and " V " in out and " uV " in out
    assert "Replay plays the 1 signal at 100 Hz" in out
    code, out, _ = _info(capsys, str(shared_data / "edfio/SC4001EC-Hypnogram.edf"), "--annotations", "2")
    assert code == 0 and "Annotations: 154" in out and "Sleep stage W" in out and "… and 152 more" in out


def test_info_through_the_cli(shared_data: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    """With the SUBCOMMANDS entry the report asks for, ``emgscope info FILE`` dispatches here."""
    from emgscope import cli

    monkeypatch.setitem(cli.SUBCOMMANDS, "info", ("emgscope.commands.info", "describe a recording"))
    assert cli.main(["info", str(shared_data / "physionet_emgdb/emg_healthy.hea")]) == 0
    out = capsys.readouterr().out
    assert "Format:     WFDB" in out and "4000 Hz" in out and "sex=M, additional=age 44" in out
    assert cli.main(["info", str(shared_data / "backyardbrains_spikerbox/amp_off.wav")]) == 1
    assert "WAV audio file" in capsys.readouterr().err


def test_info_refuses_with_one_line(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _info(capsys, str(shared_data / "bids_examples/emg_Multimodal__sub-01_task-pullstand_emg.edf"))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "header field 'number of signals' is not a number" in err


def _write_session(path: Path, crash: bool) -> np.ndarray:
    """A session written by the recorder's writer in another process; ``crash`` kills it before closing."""
    rng = np.random.default_rng(5)
    uv = (rng.standard_normal((2, 20000 * 3)) * 200).astype(np.float32)
    np.save(path.with_suffix(".npy"), uv)
    script = textwrap.dedent(
        f"""
        import os, numpy as np
        from datetime import datetime
        from pathlib import Path
        from emgscope.recording.edfplus import make_layout
        from emgscope.recording.writer import EdfPlusWriter
        uv = np.load({str(path.with_suffix(".npy"))!r})
        layout = make_layout(True, ("EMG 1", "EMG 2"), 20000.0)
        start = datetime(2026, 11, 25, 9, 30, 0)
        w = EdfPlusWriter(Path({str(path)!r}), layout, "X X X X", "Startdate X X X X", start)
        w.annotate(0.5, "REST", 1.0)
        w.write(uv[:, :30000])
        w.annotate(2.0, "MAX")
        w.write(uv[:, 30000:])
        w.sync()
        if {crash}:
            os._exit(0)
        w.close()
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=REPO_ROOT, timeout=60)
    return uv


def test_our_session_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "session.bdf"
    uv = _write_session(path, crash=False)
    rec = open_recording(path)
    assert rec.format == "BDF+C" and rec.start == datetime(2026, 11, 25, 9, 30)
    assert [(a.onset_s, a.duration_s, a.text) for a in rec.annotations] == [(0.5, 1.0, "REST"), (2.0, 0.0, "MAX")]
    layout = make_layout(True, ("EMG 1", "EMG 2"), 20000.0)
    assert rec.signals[0].sample_rate == 20000.0 and rec.signals[0].label == "EMG 1"
    n = rec.signals[0].n_samples
    assert n == (60000 // layout.samples_per_record) * layout.samples_per_record
    step = (rec.signals[0].physical_max - rec.signals[0].physical_min) / (2**24 - 1)
    np.testing.assert_allclose(rec.read(1, 0, n), uv[1, :n], atol=step)


def test_info_repairs_a_crashed_session(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "crashed.bdf"
    _write_session(path, crash=True)
    code, out, _ = _info(capsys, str(path))
    assert code == 0
    assert "Unfinished recording: crashed.bdf: repaired" in out
    assert "Annotations: 2" in out and "REST" in out and "MAX" in out
    rec = open_recording(path)
    assert rec.warnings == [] and rec.duration_s >= 2.0


def test_info_on_a_file_still_being_recorded_leaves_it_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second look (``info``, another window's start-up repair) must not "repair" a live recording away."""
    from emgscope.recording.repair import find_unfinished
    from emgscope.recording.writer import EdfPlusWriter

    path = tmp_path / "live.bdf"
    layout = make_layout(True, ("EMG 1",), 2000.0)
    writer = EdfPlusWriter(path, layout, "X X X X", "Startdate X X X X", datetime(2026, 11, 25, 9, 30))
    ramp = np.arange(8000, dtype=np.float32)[np.newaxis, :]
    writer.write(ramp[:, :4000])
    writer.sync()
    code, out, _ = _info(capsys, str(path))
    assert code == 0 and out.startswith("Still being recorded")
    assert find_unfinished(tmp_path) == []
    writer.write(ramp[:, 4000:])
    assert writer.close()
    rec = open_recording(path)
    assert rec.signals[0].n_samples == 8000
    np.testing.assert_allclose(rec.read(0, 0, 8000), ramp[0], atol=layout.gain)
