"""The Lab Streaming Layer's figures for ``emgscope bench``, measured on this machine's loopback only.

* ``lsl_out_x_realtime``: how much faster than real time the outlet publishes 16 channels at 20 kHz: the real
  :class:`~emgscope.session.lsl_out.Publication` reads a ring written ahead of it (stamped as the pump stamps it) and
  pushes to a real outlet with a pylsl inlet connected and draining it, so liblsl really serialises and sends.
  Only the publisher's own calls are timed. Bar ≥ 20.
* ``lsl_in_latency_ms_median`` (and ``_p99``): a pylsl outlet pushes 8 channels at 2 kHz in 1 ms chunks; the app's
  own acquisition process takes the stream as its source; each chunk's push (LSL's clock) is compared with when
  the same sample was written to the ring (the ring's stamp, on the same clock), which sample it is being read
  back from the ring. Bar ≤ 20 ms.

No LSL packet may leave the machine: outside a private loopback (:mod:`emgscope.bench.loopback`), the measurement
runs itself again in one (``python -m emgscope.bench.lsl``) and reads its figures back; where no namespace can be
made it fails with the reason instead of touching the network.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import numpy as np

from emgscope.acquisition import lsl_streams
from emgscope.acquisition.process import ProcessPump
from emgscope.acquisition.pump import Pipeline
from emgscope.bench import loopback
from emgscope.core import events
from emgscope.core.events import EventBus
from emgscope.core.ring import SampleRing
from emgscope.core.settings import FilterSettings, LslOutSettings, SourceSettings
from emgscope.core.source import StreamInfo
from emgscope.session.lsl_out import Publication

OUT_CHANNELS = 16
OUT_RATE = 20_000.0
OUT_CHUNK = 1_000
"""50 ms written per chunk: the producer is not what is measured."""
IN_CHANNELS = 8
IN_RATE = 2_000.0
IN_CHUNK = 2
"""1 ms per push, as an amplifier's LSL app that pushes what each USB transfer brings."""
CONNECT_TIMEOUT_S = 20.0
POLL_S = 0.0002
"""How often the ring is looked at for the latency: well inside the pump's 1 ms writes."""


def measure_lsl(seconds: float = 5.0) -> dict[str, float]:
    """``lsl_out_x_realtime`` over ``seconds`` of signal and the inlet's latency over as long a stream."""
    if loopback.problem() is None:
        return {**measure_out(seconds), **measure_in(seconds)}
    command = loopback.confined_command([sys.executable, "-m", __name__, str(seconds)])
    with loopback.lsl_config() as env:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120 + 4 * seconds, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        said = [line for line in done.stderr.splitlines() if not line[:2].isdigit()]  # not liblsl's log
        raise RuntimeError(f"the LSL benchmark could not run on a private loopback: {' '.join(said[-3:])}")
    return json.loads(lines[-1])


def measure_out(seconds: float) -> dict[str, float]:
    pylsl = lsl_streams.pylsl()
    labels = tuple(f"Ch{i + 1}" for i in range(OUT_CHANNELS))
    info = StreamInfo(OUT_RATE, labels, "bench", device="bench")
    ring = SampleRing(OUT_CHANNELS, int(OUT_RATE * 30))
    settings = LslOutSettings(signal="raw", name="emgscope-bench")
    publication = Publication(Pipeline(info, ring, ring, None), settings, thread=False)
    (found,) = pylsl.resolve_byprop("name", settings.name, 1, 5.0)
    inlet = pylsl.StreamInlet(found, max_buflen=60)
    inlet.open_stream(5.0)
    received = [0]
    stop = threading.Event()

    def drain() -> None:
        while not stop.is_set():
            _, stamps = inlet.pull_chunk(timeout=0.05, max_samples=100_000, as_numpy=True)
            received[0] += len(stamps)

    consumer = threading.Thread(target=drain, name="bench-lsl-consumer", daemon=True)
    consumer.start()
    chunk = np.random.default_rng(0).normal(0, 100, (OUT_CHANNELS, OUT_CHUNK)).astype(np.float32)
    total = int(seconds * OUT_RATE)
    busy = 0.0
    start = time.monotonic()
    while ring.write_index < total:
        ring.write(chunk, start + (ring.write_index + OUT_CHUNK) / OUT_RATE)
        began = time.perf_counter()
        publication.publish()
        busy += time.perf_counter() - began
    began = time.perf_counter()
    publication.publish()  # what was written before the last poll goes out one poll later
    busy += time.perf_counter() - began
    published = publication.reader.position
    deadline = time.monotonic() + 10.0
    while received[0] < published and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    consumer.join(1.0)
    publication.close()
    if received[0] < published:
        raise RuntimeError(f"the LSL outlet benchmark lost samples: {received[0]} of {published} arrived")
    return {"lsl_out_x_realtime": round(published / OUT_RATE / busy, 1)}


def measure_in(seconds: float) -> dict[str, float]:
    pylsl = lsl_streams.pylsl()
    name = "emgscope-bench-amplifier"
    outlet = pylsl.StreamOutlet(
        pylsl.StreamInfo(name, "EMG", IN_CHANNELS, IN_RATE, pylsl.cf_float32, "emgscope-bench-amplifier")
    )
    pushed: dict[int, float] = {}
    stop = threading.Event()

    def send() -> None:
        t0, sent = pylsl.local_clock(), 0
        while not stop.is_set():
            due = int((pylsl.local_clock() - t0) * IN_RATE)
            if due - sent < IN_CHUNK:
                time.sleep(0.0002)
                continue
            k = sent + np.arange(due - sent)
            data = np.repeat(k[:, np.newaxis].astype(np.float32), IN_CHANNELS, axis=1)
            outlet.push_chunk(data, t0 + (due - 1) / IN_RATE)
            pushed[due - 1] = pylsl.local_clock()
            sent = due

    sender = threading.Thread(target=send, name="bench-lsl-sender", daemon=True)
    sender.start()
    source = SourceSettings(kind="lsl")
    source.lsl.name = name
    filters = FilterSettings(low_cut_hz=0.0, high_cut_hz=0.0)
    pump = ProcessPump(source, filters, EventBus())
    connected = threading.Event()
    pump.bus.subscribe(lambda event: connected.set() if event.kind == events.CONNECTED else None)
    pump.start()
    try:
        if not connected.wait(CONNECT_TIMEOUT_S) or pump.pipeline is None:
            raise RuntimeError("the LSL latency benchmark's source did not connect")
        latencies = _follow(pump.pipeline.raw, pushed, seconds, lsl_streams.lsl_minus_monotonic())
    finally:
        stop.set()
        pump.stop(5.0)
        sender.join(1.0)
    if len(latencies) < seconds * 100:
        raise RuntimeError(f"the LSL latency benchmark saw only {len(latencies)} chunks arrive")
    return {
        "lsl_in_latency_ms_median": round(float(np.median(latencies)) * 1e3, 2),
        "lsl_in_latency_ms_p99": round(float(np.percentile(latencies, 99)) * 1e3, 2),
    }


def _follow(ring: SampleRing, pushed: dict[int, float], seconds: float, offset: float) -> list[float]:
    """Each write to the ring whose newest sample was the last of a push: its stamp minus that push's time."""
    latencies = []
    seen = ring.write_index
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        written = ring.write_index
        stamp = ring.written_at_s
        if written > seen:
            seen = written
            _, newest = ring.read_range(written - 1, written)
            sample = round(float(newest[0, 0])) if newest.shape[1] else -1
            push = pushed.get(sample)
            if push is not None and ring.write_index == written:  # the stamp is this write's
                latencies.append(stamp + offset - push)
        time.sleep(POLL_S)
    return latencies


if __name__ == "__main__":
    reason = loopback.problem()
    if reason is not None:
        sys.exit(f"emgscope.bench.lsl: {reason}")
    figures = {**measure_out(float(sys.argv[1])), **measure_in(float(sys.argv[1]))}
    print(json.dumps(figures))
