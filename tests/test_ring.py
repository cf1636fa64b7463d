"""The sample ring: wrap-around, several independent readers, overruns counted, never blocking."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from emgscope.core.ring import SampleRing
from emgscope.core.shm import SHM_DIR, owner_pid_of, remove_stale_blocks

pytestmark = pytest.mark.timeout(60)
"""A second process reads a shared ring: a hang fails its own test."""


def ramp(start: int, n: int, channels: int = 2) -> np.ndarray:
    """Samples whose value is their absolute index (channel k adds 1e6·k), so any misplacement shows."""
    idx = np.arange(start, start + n, dtype=np.float64)
    return np.vstack([idx + 1e6 * k for k in range(channels)]).astype(np.float32)


def test_wraps_around_and_keeps_order() -> None:
    ring = SampleRing(2, 100)
    reader = ring.reader("disk")
    written = 0
    got = []
    for n in (30, 45, 60, 7, 99):
        ring.write(ramp(written, n))
        written += n
        got.append(reader.read())
    data = np.hstack(got)
    assert data.shape == (2, written)
    np.testing.assert_array_equal(data, ramp(0, written))
    assert reader.overrun_samples == 0
    assert ring.write_index == 241


def test_readers_are_independent_and_overrun_is_counted() -> None:
    ring = SampleRing(2, 100)
    fast = ring.reader("audio")
    slow = ring.reader("disk")
    for i in range(5):
        ring.write(ramp(i * 50, 50))
        fast.read()
    # The slow reader fell 250 samples behind a 100-sample ring: 150 are gone, the newest 100 remain.
    data = slow.read()
    assert slow.overrun_samples == 150
    np.testing.assert_array_equal(data, ramp(150, 100))
    assert fast.overrun_samples == 0
    assert fast.position == slow.position == 250


def test_read_with_limit_and_into_preallocated_buffer() -> None:
    ring = SampleRing(2, 64)
    reader = ring.reader("audio")
    ring.write(ramp(0, 40))
    out = np.zeros((2, 16), np.float32)
    part = reader.read(max_samples=16, out=out)
    assert part.base is out or part is out
    np.testing.assert_array_equal(out, ramp(0, 16))
    assert reader.available == 24


def test_latest_and_range_before_the_oldest_sample() -> None:
    ring = SampleRing(1, 10)
    ring.write(ramp(0, 25, channels=1))
    first, data = ring.latest(4)
    assert first == 21
    np.testing.assert_array_equal(data[0], [21, 22, 23, 24])
    first, data = ring.read_range(0, 25)
    assert first == 15 and data.shape == (1, 10)


def test_chunk_larger_than_capacity_keeps_the_newest() -> None:
    ring = SampleRing(1, 8)
    reader = ring.reader("display")
    ring.write(ramp(0, 20, channels=1))
    assert ring.write_index == 20
    data = reader.read()
    np.testing.assert_array_equal(data[0], np.arange(12, 20))
    assert reader.overrun_samples == 12


def test_rejects_wrong_shape_and_duplicate_names() -> None:
    ring = SampleRing(3, 8)
    with pytest.raises(ValueError):
        ring.write(np.zeros((2, 4), np.float32))
    ring.reader("disk")
    with pytest.raises(ValueError):
        ring.reader("disk")


def test_concurrent_writer_and_reader_never_see_torn_data() -> None:
    ring = SampleRing(2, 4096)
    reader = ring.reader("detect")
    total = 400_000
    received: list[np.ndarray] = []

    def write() -> None:
        for start in range(0, total, 1000):
            ring.write(ramp(start, 1000))

    writer = threading.Thread(target=write)
    writer.start()
    while writer.is_alive() or reader.available:
        chunk = reader.read()
        if chunk.shape[1]:
            received.append((reader.position - chunk.shape[1], chunk))
    writer.join()
    # Every sample handed out is exactly the one written at that index, whatever was skipped.
    for start, chunk in received:
        np.testing.assert_array_equal(chunk, ramp(start, chunk.shape[1]))
    got = sum(c.shape[1] for _, c in received)
    assert got + reader.overrun_samples == total


def _read_shared_ring(name: str, n_channels: int, capacity: int, conn: object) -> None:
    """In another process: read what the parent wrote, then report the indices and the data seen."""
    ring = SampleRing.attach(name, n_channels, capacity)
    first, data = ring.read_range(0, ring.write_index)
    conn.send((ring.write_index, first, data, ring.written_at_s))  # type: ignore[attr-defined]


def test_shared_ring_is_read_by_another_process_and_removed_with_the_ring() -> None:
    import gc
    import multiprocessing as mp
    from multiprocessing import shared_memory

    ring = SampleRing.shared(2, 100)
    assert ring.shared_name
    before = time.monotonic()
    ring.write(ramp(0, 130))  # wraps: the other process must see the newest 100 in order
    after = time.monotonic()
    context = mp.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_read_shared_ring, args=(ring.shared_name, 2, 100, child))
    process.start()
    assert parent.poll(30), "the reading process did not answer"
    write_index, first, data, written_at = parent.recv()
    process.join(10)
    assert (write_index, first) == (130, 30)
    assert before <= written_at <= after  # the write's time, on the clock every process shares
    np.testing.assert_array_equal(data, ramp(30, 100))
    name = ring.shared_name
    if SHM_DIR.is_dir():
        assert (SHM_DIR / name).exists()  # the reader's exit (and its resource tracker) left the block alone
    del ring
    gc.collect()
    with pytest.raises(FileNotFoundError):
        shared_memory.SharedMemory(name)


def test_write_is_stamped_with_its_own_or_a_given_time() -> None:
    ring = SampleRing(1, 10)
    assert ring.written_at_s == 0.0
    ring.write(np.zeros((1, 3), dtype=np.float32), stamp_s=12.5)
    assert ring.written_at_s == 12.5
    before = time.monotonic()
    ring.write(np.zeros((1, 3), dtype=np.float32))
    assert before <= ring.written_at_s <= time.monotonic()


def test_private_ring_has_no_shared_name() -> None:
    assert SampleRing(1, 10).shared_name == ""


MAKE_SHARED_RING = """
import sys
from emgscope.core.ring import SampleRing
ring = SampleRing.shared(16, 20_000)
print(ring.shared_name, flush=True)
sys.stdin.readline()
"""
"""A process that holds a shared ring until its stdin closes, then ends normally (and unlinks it)."""


def _holding_process() -> tuple[subprocess.Popen[str], str]:
    """Start :data:`MAKE_SHARED_RING` in its own process group; returns it and its block's name."""
    process = subprocess.Popen(
        [sys.executable, "-c", MAKE_SHARED_RING],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def _ended_pid() -> int:
    """The PID of a process that has just ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_shared_block_is_named_after_its_creator() -> None:
    ring = SampleRing.shared(1, 10)
    assert ring.shared_name.startswith(f"emgscope-{os.getpid()}-")
    assert owner_pid_of(ring.shared_name) == os.getpid()
    assert owner_pid_of("psm_1234abcd") is None
    assert owner_pid_of("emgscope-x-1") is None


def test_only_blocks_of_ended_processes_are_removed(tmp_path: Path) -> None:
    dead = _ended_pid()
    for name in (f"emgscope-{dead}-aa", f"emgscope-{os.getpid()}-bb", f"emgscope-{os.getppid()}-cc", "psm_dd"):
        (tmp_path / name).touch()
    assert remove_stale_blocks(tmp_path) == [f"emgscope-{dead}-aa"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"emgscope-{os.getpid()}-bb", f"emgscope-{os.getppid()}-cc", "psm_dd"]
    )
    assert remove_stale_blocks(tmp_path / "absent") == []  # a system with no /dev/shm


@pytest.mark.skipif(not SHM_DIR.is_dir(), reason="POSIX shared memory is listed in /dev/shm on Linux only")
def test_block_left_by_a_killed_process_is_removed_and_a_live_ones_kept() -> None:
    """The crash that leaks: SIGKILL to the whole process group, so the resource tracker dies too.

    (A ``kill -9`` of the app alone is cleaned up by multiprocessing's resource tracker, which outlives it.)
    """
    crashed, crashed_name = _holding_process()
    live, live_name = _holding_process()
    try:
        os.killpg(crashed.pid, signal.SIGKILL)
        crashed.wait(10)
        assert (SHM_DIR / crashed_name).exists()
        assert (SHM_DIR / crashed_name).stat().st_size >= SampleRing.nbytes(16, 20_000)

        removed = remove_stale_blocks()
        assert crashed_name in removed
        assert not (SHM_DIR / crashed_name).exists()
        assert (SHM_DIR / live_name).exists()
        assert live_name not in removed
    finally:
        live.communicate("\n", timeout=30)
    assert live.returncode == 0
    assert not (SHM_DIR / live_name).exists()  # the live process still owned and unlinked its block
