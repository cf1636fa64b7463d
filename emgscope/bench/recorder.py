"""The recorder's figures for ``emgscope bench``: how much faster than real time it writes, and whether it leaks.

16 channels at 20 kHz go through a real ring to a real BDF+ file in a temporary folder, written by the real
recorder thread. The producer writes as fast as the recorder keeps up (it never laps the ``disk`` reader, which
would count as lost samples), so the time taken is the recorder's throughput, with the data on disk and fsync'd.
The file is checked afterwards: a run that left samples out of it fails instead of reporting a figure.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from emgscope.core.ring import SampleRing
from emgscope.core.source import StreamInfo
from emgscope.recording.recorder import Recorder
from emgscope.recording.session import SessionInfo

CHANNELS = 16
RATE = 20_000.0
CHUNK_SAMPLES = 2_000
"""100 ms per chunk: the producer is not what is being measured."""


def measure_recorder(seconds_equivalent: float = 600.0) -> dict[str, float]:
    """``recorder_x_realtime`` and ``recorder_rss_growth_mb`` over ``seconds_equivalent`` of recording."""
    info = StreamInfo(RATE, tuple(f"Ch{i + 1}" for i in range(CHANNELS)), "bench", device="bench")
    ring = SampleRing(CHANNELS, int(RATE * 30))
    chunk = np.random.default_rng(0).normal(0, 100, (CHANNELS, CHUNK_SAMPLES)).astype(np.float32)
    total = int(seconds_equivalent * RATE)
    with tempfile.TemporaryDirectory(prefix="emgscope-bench-") as folder:
        recorder = Recorder(ring, info, Path(folder) / "bench.bdf", SessionInfo(patient_id="bench"), "bdf")
        recorder.start()
        warm_up = min(total // 10, int(RATE * 10))
        _produce(ring, recorder, chunk, warm_up)
        rss_before = _rss_mb()
        began = time.perf_counter()
        _produce(ring, recorder, chunk, total - warm_up)
        recorder.stop(ring.write_index)
        recorder.join()
        elapsed = time.perf_counter() - began
        rss_growth = _rss_mb() - rss_before
        if recorder.error or recorder.lost_samples:
            raise RuntimeError(f"the recorder benchmark failed: {recorder.error or 'samples were lost'}")
        _check_file(recorder, total)
    return {
        "recorder_x_realtime": round((total - warm_up) / RATE / elapsed, 1),
        "recorder_rss_growth_mb": round(rss_growth, 1),
    }


def _check_file(recorder: Recorder, total: int) -> None:
    """The figure counts only if every sample really is in the file on disk (whole records, as a reader sees it)."""
    layout = recorder.layout
    records = total // layout.samples_per_record
    assert recorder.path is not None
    size = recorder.path.stat().st_size
    if recorder.samples_written != records * layout.samples_per_record or size != (
        layout.header_bytes + records * layout.record_bytes
    ):
        raise RuntimeError(
            f"the recorder benchmark failed: {recorder.samples_written} of {total} samples, {size} bytes on disk"
        )


def _produce(ring: SampleRing, recorder: Recorder, chunk: np.ndarray, n: int) -> None:
    """Write ``n`` samples, waiting whenever the recorder is more than half the ring behind."""
    reader = ring.readers["disk"]
    written = 0
    while written < n:
        if ring.write_index - reader.position > ring.capacity // 2:
            time.sleep(0.002)
            continue
        ring.write(chunk)
        written += chunk.shape[1]


def _rss_mb() -> float:
    """Resident memory now (not the peak), from /proc: growth between two points is what a leak shows."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
