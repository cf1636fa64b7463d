"""Mutation fuzz of every reader: EDF/BDF headers, WFDB headers and BrainFlow files, damaged hundreds of ways.

Each mutant of a real file from ``../shared/data`` goes through the project's reader (opened, every data signal
read whole, described as ``info`` describes it) and through ``emgscope info``'s own entry point. The only outcomes
allowed: the file opens, or a :class:`RecordingError` of one line (and ``info`` exits 1 with that line). A
traceback fails the test, and so does a case that takes longer than :data:`CASE_TIMEOUT_S` (a hang): each case
runs on a thread of its own that the test stops waiting for. The mutations are seeded, so a failure names a case
that fails again. A few mutants also go through the installed ``emgscope info`` command, as a user runs it.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from emgscope import cli
from emgscope.commands.info import describe
from emgscope.replay.reader import MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ, RecordingError, open_recording

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")
"""numpy's overflow and invalid-value warnings are lines on the user's terminal: here they fail the case."""

CASE_TIMEOUT_S = 5.0
"""Far longer than any case takes (the slowest reads a 100 KB signal file whole in milliseconds)."""
HUGE = ("nan", "inf", "-inf", "1e300", "1e-300", "-1e300", "1e308", "-1e308", "1e999", "-1e999", "1e-999")
BAD = ("0", "-1", "", "x", "99999999999999999999999", "-99999999999", "0.0", "1e", "--1", ".", "1,5", "0x10")
PATHS = ("../../../../etc/passwd", "/etc/passwd", "/dev/zero", "/dev/urandom", "sub/emg_healthy.dat", "-", "..")
_TOKEN = re.compile(rb"[^\s\t/():+x]+")


def _run_case(path: Path) -> str:
    """Open, read whole, describe, and run ``info`` on one file; the outcome, or AssertionError saying why not."""
    try:
        rec = open_recording(path)
    except RecordingError as exc:
        message = str(exc)
        assert message and "\n" not in message, f"{path.name}: a refusal of more than one line: {message!r}"
        outcome = "refused"
    else:
        assert math.isfinite(rec.duration_s), f"{path.name}: opened with a duration of {rec.duration_s} s"
        for index in rec.data_signals:
            rate = rec.signals[index].sample_rate
            assert MIN_SAMPLE_RATE_HZ <= rate <= MAX_SAMPLE_RATE_HZ, f"{path.name}: opened at {rate} Hz"
            data = rec.read(index, 0, rec.signals[index].n_samples)
            assert data.shape == (rec.signals[index].n_samples,)
            assert not np.isinf(data).any(), f"{path.name}: signal {index + 1} has infinite samples"
        describe(rec)
        outcome = "opened"
    status = cli.main(["info", str(path)])
    assert status == (0 if outcome == "opened" else 1), f"{path.name}: info exited {status} for a file {outcome}"
    return outcome


def run_all(
    cases: list[Path], capsys: pytest.CaptureFixture[str], must_refuse: frozenset[Path] = frozenset()
) -> dict[str, int]:
    """Every case on a thread of its own, waited for at most :data:`CASE_TIMEOUT_S`; counts of outcomes.

    ``must_refuse``: cases that may not open (a signal file named by a path).
    """
    counts = {"opened": 0, "refused": 0}
    for path in cases:
        result: list[str | BaseException] = []

        def case(path: Path = path, result: list = result) -> None:
            try:
                result.append(_run_case(path))
            except BaseException as exc:  # reported below with the case's name
                result.append(exc)

        worker = threading.Thread(target=case, name=f"fuzz {path.name}", daemon=True)
        worker.start()
        worker.join(CASE_TIMEOUT_S)
        assert not worker.is_alive(), f"{path.name}: still running after {CASE_TIMEOUT_S:g} s (a hang)"
        if isinstance(result[0], BaseException):
            raise AssertionError(f"{path.name}: {result[0]!r}") from result[0]
        counts[result[0]] += 1
        assert result[0] == "refused" or path not in must_refuse, f"{path.name} was opened: {path.read_bytes()!r}"
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if line]
        assert "Traceback" not in err and len(lines) <= 1, f"{path.name}: info wrote {err!r}"
        assert not lines or lines[0].startswith("emgscope info: "), f"{path.name}: {err!r}"
    return counts


def _tokens(text: bytes) -> list[re.Match[bytes]]:
    return list(_TOKEN.finditer(text))


def _mutants(good: bytes, rng: np.random.Generator, n: int, extra: Callable[[bytes, int], bytes | None]) -> list[bytes]:
    """``n`` damaged copies of ``good``: numbers swapped for huge or bad ones, cuts, flipped bytes, garbage, and
    whatever ``extra`` makes for the format (``None`` when it has nothing for that draw)."""
    out: list[bytes] = []
    tokens = _tokens(good)
    while len(out) < n:
        kind = len(out) % 6
        if kind in (0, 1):
            count = 1 if kind == 0 else int(rng.integers(2, 5))
            data = good
            for match in sorted(rng.choice(tokens, count, replace=False), key=lambda m: -m.start()):
                word = str(rng.choice(HUGE if rng.random() < 0.6 else BAD)).encode()
                data = data[: match.start()] + word + data[match.end() :]
            out.append(data)
        elif kind == 2:
            out.append(good[: int(rng.integers(0, len(good)))])
        elif kind == 3:
            data = bytearray(good)
            for position in rng.integers(0, len(good), size=int(rng.integers(1, 6))):
                data[position] = int(rng.integers(0, 256))
            out.append(bytes(data))
        elif kind == 4:
            made = extra(good, len(out))
            if made is not None:
                out.append(made)
        else:
            cut = int(rng.integers(0, len(good)))
            out.append(good[:cut] + rng.bytes(int(rng.integers(1, 200))))
    return out


# --- WFDB -----------------------------------------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_mutated_wfdb_headers_open_or_are_refused_in_one_line(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = shared_data / "physionet_emgdb"
    (tmp_path / "emg_healthy.dat").write_bytes((source / "emg_healthy.dat").read_bytes())
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "emg_healthy.dat").write_bytes(b"\x00\x01" * 60000)
    good = (source / "emg_healthy.hea").read_bytes()
    lines = good.split(b"\n")
    rng = np.random.default_rng(12)

    def extra(data: bytes, i: int) -> bytes:
        choice = i % 4
        if choice == 0:
            return data.replace(b"emg_healthy.dat", str(rng.choice(PATHS)).encode(), 1)
        if choice == 1:
            return lines[0].replace(b" 1 ", b" 3 ") + b"\n" + b"\n".join(lines[1:2] * 3)
        if choice == 2:
            return data.replace(b" 16 ", b" 16x" + str(rng.choice(HUGE + BAD)).encode() + b" ", 1)
        return b"\n".join(lines[:1] + lines[2:])

    cases = []
    for k, data in enumerate(_mutants(good, rng, 180, extra)):
        path = tmp_path / f"m{k}.hea"
        path.write_bytes(data)
        cases.append(path)
    named = frozenset(path for path in cases if any(p.encode() in path.read_bytes() for p in PATHS if "/" in p))
    counts = run_all(cases, capsys, named)
    assert len(named) >= 5 and counts["refused"] > 60 and counts["opened"] > 10, (len(named), counts)


# --- BrainFlow ------------------------------------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_mutated_brainflow_files_open_or_are_refused_in_one_line(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = (shared_data / "brainflow/test_data.csv").read_bytes().split(b"\n")
    good = b"\n".join(rows[:120]) + b"\n"
    rng = np.random.default_rng(21)

    def extra(data: bytes, i: int) -> bytes:
        choice = i % 5
        lines = data.split(b"\n")
        row = int(rng.integers(0, 119))
        if choice == 0:  # one column more, or fewer, in one row
            lines[row] = lines[row] + b"\t1.0" if rng.random() < 0.5 else lines[row].rsplit(b"\t", 1)[0]
        elif choice == 1:  # Windows line ends, blank lines, a NUL
            return data.replace(b"\n", b"\r\n").replace(b"\r\n", b"\r\n\r\n\x00", 1)
        elif choice == 2:  # every timestamp huge
            lines = [b"\t".join([*line.split(b"\t")[:30], b"1e300", b"0"]) if line else line for line in lines]
        elif choice == 3:  # a row of the largest doubles
            lines[row] = b"\t".join([b"1.7976931348623157e308"] * 32)
        else:  # only the first row, cut in its middle
            return lines[0][: len(lines[0]) // 2]
        return b"\n".join(lines)

    cases = []
    for k, data in enumerate(_mutants(good, rng, 180, extra)):
        path = tmp_path / f"m{k}.csv"
        path.write_bytes(data)
        cases.append(path)
    counts = run_all(cases, capsys)
    assert counts["refused"] > 30 and counts["opened"] > 30, counts


# --- EDF/BDF --------------------------------------------------------------------------------------------------


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", ["mne_python/test_stim_channel.edf", "pyedflib/test_generator.bdf"])
def test_mutated_edf_headers_open_or_are_refused_in_one_line(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    good = (shared_data / name).read_bytes()
    header = int(good[184:192])
    rng = np.random.default_rng(7)

    def extra(data: bytes, i: int) -> bytes:
        """A number field of the signal headers (digital/physical extremes, samples per record) made huge."""
        n_signals = int(data[252:256])
        field = int(rng.integers(0, 5))
        offset = 256 + n_signals * (16 + 80 + 8 + 8 * field) + 8 * int(rng.integers(0, n_signals))
        word = str(rng.choice(HUGE + BAD)).encode()[:8].ljust(8)
        return data[:offset] + word + data[offset + 8 :]

    cases = []
    for k, data in enumerate(_mutants(good[:header], rng, 150, extra)):
        path = tmp_path / f"m{k}{Path(name).suffix}"
        path.write_bytes(data + good[header:])
        cases.append(path)
    counts = run_all(cases, capsys)
    assert counts["refused"] > 30 and counts["opened"] > 10, counts


# --- as a user runs it ----------------------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_the_info_command_refuses_hostile_files_in_one_line(shared_data: Path, tmp_path: Path) -> None:
    """The installed command on a few of the worst: exit 1 and one line on stderr, or a description."""
    header = (shared_data / "physionet_emgdb/emg_healthy.hea").read_text()
    rows = (shared_data / "brainflow/test_data.csv").read_text().split("\n")
    (tmp_path / "emg_healthy.dat").write_bytes((shared_data / "physionet_emgdb/emg_healthy.dat").read_bytes())
    files = {
        "rate.hea": (header.replace(" 4000 ", " 1e300 "), 1),
        "nan.hea": (header.replace(" 4000 ", " nan "), 1),
        "passwd.hea": (header.replace("emg_healthy.dat", "../../../../etc/passwd"), 1),
        "huge.csv": ("\n".join(["\t".join(["1e999"] * 32), *rows[1:50]]) + "\n", 0),
        "cut.csv": ("\n".join(rows[:50]) + "\n" + rows[50][:40], 0),
    }
    for name, (text, expected) in files.items():
        path = tmp_path / name
        path.write_text(text)
        done = subprocess.run(
            [sys.executable, "-m", "emgscope", "info", str(path)], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == expected, (name, done.stderr)
        if expected:
            assert done.stderr.startswith(f"emgscope info: {name}: ") and done.stderr.count("\n") == 1, done.stderr
        else:
            assert done.stderr == "" and "Note:" in done.stdout, (name, done.stderr)
