"""The sample ring: wrap-around, several independent readers, overruns counted, never blocking."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from emgscope.core.ring import SampleRing


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
    del ring
    gc.collect()
    with pytest.raises(FileNotFoundError):
        shared_memory.SharedMemory(name)


def test_write_is_stamped_with_its_own_or_a_given_time() -> None:
    ring = SampleRing(1, 10)
    assert ring.written_at_s == 0.0
    ring.write(np.zeros((1, 3), dtype=np.float32), stamp_s=12.5)
    assert ring.written_at_s == 12.5
    ring.write(np.zeros((1, 3), dtype=np.float32))
    assert abs(ring.written_at_s - time.monotonic()) < 0.1


def test_private_ring_has_no_shared_name() -> None:
    assert SampleRing(1, 10).shared_name == ""
