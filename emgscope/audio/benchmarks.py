"""The audio bar, measured under the load it must survive: latency and underruns while the window draws.

A real PortAudio stream plays at 48 kHz from a real acquisition pump (16 channels at 20 kHz through the
clinical filters) while, in the same process, the real main window draws 16 channels at 20 kHz from the
simulated patient (``emgscope.gui.benchmarks.measure_gui``, which runs the Qt event loop for the duration). Both
hold the GIL in turns with the audio path, which is what the figures are about.

On a machine without a sound card (CI) a private PulseAudio null sink is started for the measurement: it is a
real device with its own clock and buffering, not a simulation.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import numpy as np

from emgscope.acquisition.pump import AcquisitionPump
from emgscope.audio.monitor import AudioUnavailable, audio_status, make_monitor, rescan_devices
from emgscope.audio.nullsink import NullSinkError, PulseNullSink
from emgscope.audio.settings import AudioSettings
from emgscope.audio.testsignal import PacedSource, muaps_in_noise
from emgscope.core.events import EventBus
from emgscope.core.settings import FilterSettings

BENCH_CHANNELS = 16
BENCH_RATE = 20_000.0
START_TIMEOUT_S = 10.0
SETTLE_S = 1.0
"""The bar allows the first second (stream start-up, drift control settling)."""


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"audio benchmark: timed out waiting for {what}")
        time.sleep(0.01)


def measure_audio(seconds: float = 10.0, settings: AudioSettings | None = None) -> dict[str, float | str]:
    """Audio latency (median, p99, ms), underruns per minute and the callback's lateness, under display load."""
    from emgscope.gui.benchmarks import measure_gui

    settings = settings or AudioSettings()
    with contextlib.ExitStack() as stack:
        if not audio_status(settings.device).available:
            try:
                stack.enter_context(PulseNullSink())
            except NullSinkError as exc:
                return {"audio_unavailable": f"{audio_status(settings.device).reason} (no null sink either: {exc})"}
            stack.callback(rescan_devices)
            rescan_devices()
        source = PacedSource(muaps_in_noise(BENCH_RATE, 20.0, 500.0, 10.0, BENCH_CHANNELS), BENCH_RATE, BENCH_CHANNELS)
        pump = AcquisitionPump(source, FilterSettings(), EventBus(), 5.0)
        pump.start()
        stack.callback(pump.stop)
        _wait(lambda: pump.pipeline is not None, "the acquisition pump")
        monitor = make_monitor(pump.pipeline.filtered, BENCH_RATE, settings)
        try:
            monitor.start()
        except AudioUnavailable as exc:
            return {"audio_unavailable": str(exc)}
        stack.callback(monitor.stop)
        # A fresh null sink stalls new streams for a moment; the clock starts once sound flows.
        _wait(lambda: monitor.blocks * settings.blocksize >= 0.2 * settings.sample_rate, "the audio stream")
        measure_gui(SETTLE_S)
        first = monitor.blocks
        before = monitor.stats
        started = time.monotonic()
        measure_gui(seconds)
        elapsed_min = (time.monotonic() - started) / 60
        monitor.stop()
        after = monitor.stats
    latency = monitor.latency_history[first:]
    intervals = np.diff(monitor.callback_history[first:]) * 1000
    period_ms = settings.blocksize / settings.sample_rate * 1000
    # Every way sound can break counts: the buffer ran dry, PortAudio reported an underflow, or the buffer was
    # skipped ahead after the sound server stalled.
    lost = sum(getattr(after, name) - getattr(before, name) for name in ("underruns", "device_underruns", "resyncs"))
    return {
        "audio_latency_ms_median": round(float(np.median(latency)), 2),
        "audio_latency_ms_p99": round(float(np.percentile(latency, 99)), 2),
        "audio_underruns_per_min": round(lost / elapsed_min, 2),
        "audio_output_delay_ms": round(after.output_delay_ms, 2),
        "audio_callback_late_ms_p99": round(float(np.percentile(intervals - period_ms, 99)), 2),
        "audio_callback_late_ms_max": round(float(intervals.max() - period_ms), 2),
        "audio_separate_process": float(settings.separate_process),
    }
