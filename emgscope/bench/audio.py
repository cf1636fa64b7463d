"""The audio bar, measured under the load it must survive: latency and underruns while the window draws.

The real main window (:func:`emgscope.bench.gui.bench_window`) shows the simulated patient, 16 needle
channels at 20 kHz through the real acquisition pump and clinical filters, and plays the first channel through
its own audio monitor, exactly as the app does; frames with a forced full repaint run at the scope's rate while
the monitor's figures are taken. As in the app, the pump runs in the acquisition process and the stream in the
audio process, each with an interpreter of its own: what the figures show is whether the window's work (it
shares the machine's two cores with both) still reaches the sound.

On a machine without a sound card (CI) a private PulseAudio null sink is started for the measurement: it is a
real device with its own clock and buffering, not a simulation.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from pathlib import Path

import numpy as np

from emgscope.audio.monitor import audio_status, rescan_devices
from emgscope.bench.nullsink import NULL_SINK_DEVICE, NullSinkError, PulseNullSink
from emgscope.core.settings import AudioSettings
from emgscope.gui.bench_window import bench_window

START_TIMEOUT_S = 15.0
"""The audio process starts in a second or two; a loaded machine may take longer."""
LOSSES = {"underruns": "starved", "device_underruns": "device_underruns", "resyncs": "resyncs"}
"""Every way sound can break counts towards the bar, and each is reported too (stats field: figure name): the
buffer ran dry because samples reached the ring late, PortAudio reported an underflow (the callback or the sound
server was late), or the buffer was skipped ahead after the sound server stalled."""
SETTLE_S = 1.0
"""The bar allows the first second (stream start-up, drift control settling)."""
PROC_STAT = Path("/proc/stat")


def stolen_s() -> float:
    """CPU time the hypervisor has taken from this virtual machine (s, all CPUs; 0 where Linux does not say).

    While a virtual CPU is taken away every process on it stalls at once, the sound server's clock runs on, and
    no buffer of ours covers it: reported beside the underruns so a reader can tell the machine's share.
    """
    try:
        return int(PROC_STAT.read_text().split("\n", 1)[0].split()[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def sound_for_bench(stack: contextlib.ExitStack, device: str) -> tuple[str, str]:
    """An output to measure on: ``device`` ('' = the default) as it is, or the null sink's ALSA ``pulse`` device
    started on ``stack`` on a machine without a sound card. Returns (device, '') or ('', why none plays)."""
    if audio_status(device).available:
        return device, ""
    stack.callback(rescan_devices)  # after the sink has stopped (the stack unwinds backwards): it is then gone
    try:
        stack.enter_context(PulseNullSink())
    except NullSinkError as exc:
        return "", f"{audio_status(device).reason} (no null sink either: {exc})"
    rescan_devices()
    return NULL_SINK_DEVICE, ""


def measure_audio(seconds: float = 10.0, settings: AudioSettings | None = None) -> dict[str, float | str]:
    """Audio latency (median, p99, ms), underruns per minute and the callback's lateness, under display load."""

    settings = settings or AudioSettings()
    with contextlib.ExitStack() as stack:
        device, refusal = sound_for_bench(stack, settings.device)
        if refusal:
            return {"audio_unavailable": refusal}
        settings = dataclasses.replace(settings, device=device)
        session = stack.enter_context(bench_window(settings))
        controls = session.window.audio
        if not session.wait(lambda: controls.monitor is not None or bool(controls.unavailable_reason), START_TIMEOUT_S):
            raise RuntimeError("audio benchmark: timed out waiting for the window's audio monitor")
        monitor = controls.monitor
        if monitor is None:
            return {"audio_unavailable": controls.unavailable_reason}
        # A fresh null sink stalls new streams for a moment; the clock starts once sound flows.
        flowing = 0.2 * settings.sample_rate / settings.blocksize
        if not session.wait(lambda: monitor.blocks >= flowing, START_TIMEOUT_S):
            raise RuntimeError("audio benchmark: timed out waiting for the audio stream")
        session.frames(SETTLE_S)
        first = monitor.blocks
        before = monitor.stats
        started, stolen = time.monotonic(), stolen_s()
        session.frames(seconds)
        elapsed_min = (time.monotonic() - started) / 60
        stolen = stolen_s() - stolen
        monitor.stop()
        after = monitor.stats
    latency = monitor.latency_history[first:]
    intervals = np.diff(monitor.callback_history[first:]) * 1000
    period_ms = settings.blocksize / settings.sample_rate * 1000
    kinds = {figure: (getattr(after, name) - getattr(before, name)) / elapsed_min for name, figure in LOSSES.items()}
    return {
        "audio_latency_ms_median": round(float(np.median(latency)), 2),
        "audio_latency_ms_p99": round(float(np.percentile(latency, 99)), 2),
        "audio_underruns_per_min": round(sum(kinds.values()), 2),
        **{f"audio_{name}_per_min": round(rate, 2) for name, rate in kinds.items()},
        "audio_output_delay_ms": round(after.output_delay_ms, 2),
        "audio_callback_late_ms_p99": round(float(np.percentile(intervals - period_ms, 99)), 2),
        "audio_callback_late_ms_max": round(float(intervals.max() - period_ms), 2),
        "audio_separate_process": float(settings.separate_process),
        "audio_processors_awake": float(before.processors_awake),
        "machine_steal_ms": round(stolen * 1000, 1),
    }
