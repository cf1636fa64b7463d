"""``emgscope record`` never hangs and never prints a traceback: a source that sends nothing, a board that goes
quiet, a folder that cannot take the file. Each case ends in seconds with one line, and keeps what was recorded."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.sources import SineSource

from emgscope.commands import record
from emgscope.core.settings import Settings
from emgscope.recording.session import SessionInfo
from emgscope.replay.reader import open_recording

REPO = Path(__file__).resolve().parent.parent


def run_record(*args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emgscope", "record", "--no-settings", *args],
        cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "content", [bytes(range(256)) * 20, b"", b"1\t2\t3\n4\t5\t6\n"], ids=["garbage", "empty", "3 columns"]
)
def test_a_playback_file_brainflow_did_not_write_for_that_board_ends_at_once(tmp_path: Path, content: bytes) -> None:
    playback = tmp_path / "g.csv"
    playback.write_bytes(content)
    out = tmp_path / "pb.bdf"
    began = time.monotonic()
    done = run_record(
        "--source", "brainflow", "--board", "PLAYBACK_FILE_BOARD", "--file", str(playback),
        "--master-board", "SYNTHETIC_BOARD", "--seconds", "4", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 1 and time.monotonic() - began < 20
    (line,) = done.stderr.strip().splitlines()  # one line, no traceback
    assert line.startswith("emgscope record: Not a file BrainFlow wrote for SYNTHETIC_BOARD: g.csv:")
    assert not out.exists()


@pytest.mark.timeout(60)
def test_a_source_that_goes_quiet_ends_the_recording_within_the_silence_timeout(tmp_path: Path, capsys) -> None:
    # A fake device: unplugging an amplifier mid-recording cannot be produced here. It sends 1.5 s, then nothing.
    quiet = SineSource(rate=4_000.0, channels=1, stop_after=1.5)
    quiet.silence_timeout_s = 1.5  # what every hardware source has (Source.silence_timeout_s)
    out = tmp_path / "unplugged.bdf"
    parser = argparse.ArgumentParser()
    record.add_arguments(parser)
    args = parser.parse_args(["--seconds", "30", "--out", str(out), "--no-settings"])
    began = time.monotonic()
    status = record._record(Settings(), SessionInfo(), out, args, [], source_factory=lambda _: quiet)
    assert status == 1 and time.monotonic() - began < 10  # not the 30 s asked for, and no hang
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["emgscope record: the source stopped early: Connection lost: no data for 1.5 s."]
    assert open_recording(out).duration_s == pytest.approx(1.5, abs=0.5)  # what came before is kept


@pytest.mark.parametrize(
    ("where", "said"),
    [
        (["--protocol", "needle_one_muscle", "--out", "{tmp}/nope/x.bdf"], "the folder {tmp}/nope does not exist"),
        (["--seconds", "2", "--folder", "{tmp}/afile/sub"], "the sessions folder {tmp}/afile/sub cannot be made"),
        (["--seconds", "2", "--out", "{tmp}/afile/x.bdf"], "{tmp}/afile is not a folder"),
        (["--seconds", "2", "--out", "/proc/emgscope-test.bdf"], "/proc"),
    ],
    ids=["missing folder", "file as a folder", "file as the parent", "read-only"],
)
def test_a_folder_that_cannot_take_the_file_gets_one_line(tmp_path: Path, where: list[str], said: str) -> None:
    (tmp_path / "afile").write_text("not a folder", encoding="utf-8")
    done = run_record(*[w.format(tmp=tmp_path) for w in where])
    assert done.returncode == 1, done.stdout
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("emgscope record: ") and said.format(tmp=tmp_path) in line
