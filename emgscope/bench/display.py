"""Figures for ``emgscope bench``: how long the display takes to show a sample, and a triggered sweep.

Both are measured on the real main window (:mod:`emgscope.gui.bench_window`: the simulated patient, 16 needle
channels at 20 kHz through the acquisition process, offscreen), driven frame by frame as the scope's 60 Hz timer
drives it, each frame a tick and a forced repaint of the plot: when the repaint returns, the frame's pixels are
painted.

* ``display_latency_ms_median``, ``_p99`` (live sweep, 1 s per sweep): from a sample written to the filtered ring to
  its pixel painted, over every tenth sample drawn.
* ``trigger_to_sweep_ms_median`` (the triggered mode at its defaults: -100 µV going up, 10 ms/div, 25 %
  pre-trigger, on the first channel): from the sample where a crossing is written to the first frame that paints its
  sweep (the sweep is drawn as it comes in, from the frame that reads the crossing).

**When a sample was written.** The ring stamps when its newest chunk was published
(:attr:`~emgscope.core.ring.SampleRing.written_at_s`, one monotonic clock for both processes). The simulated patient
is paced by the clock, so a sample ``k`` samples older than the newest was due ``k / rate`` earlier; the pump
publishes what is due every millisecond, so that estimate is within about a millisecond of when the sample reached
the ring, and later than it (the latency larger) when the pump published a backlog at once.
"""

from __future__ import annotations

import numpy as np

from emgscope.gui.bench_window import BenchWindow, bench_window

SAMPLE_STEP = 10
"""Every tenth sample drawn counts (a frame draws about 330 at 20 kHz)."""
SETTLE_S = 1.0
"""Frames drawn before measuring: the first after a mode change rebuild the picture."""


def _written_at(session: BenchWindow, indices: np.ndarray) -> np.ndarray:
    """When the ring samples ``indices`` were written (``time.monotonic`` s; see the module's docstring)."""
    pipeline = session.window.pipeline
    assert pipeline is not None
    ring = pipeline.filtered
    while True:
        stamp, newest = ring.written_at_s, ring.write_index - 1
        if ring.written_at_s == stamp:
            break
    return stamp - (newest - indices) / pipeline.info.sample_rate


def measure_display_latency(seconds: float = 5.0) -> dict[str, float]:
    """``display_latency_ms_median`` and ``_p99`` in the live sweep (see the module's docstring)."""
    import time

    with bench_window() as session:
        scope = session.window.scope
        session.window.set_mode("sweep")
        session.frames(SETTLE_S)
        latencies: list[np.ndarray] = []
        drawn_up_to = [scope.reader.position]

        def after_frame() -> None:
            painted = time.monotonic()
            position = scope.reader.position
            if position > drawn_up_to[0]:
                indices = np.arange(drawn_up_to[0], position, SAMPLE_STEP)
                latencies.append(painted - _written_at(session, indices))
            drawn_up_to[0] = position

        frames = session.frames(seconds, after_frame)
    values = np.concatenate(latencies) * 1000
    return {
        "display_latency_ms_median": round(float(np.median(values)), 2),
        "display_latency_ms_p99": round(float(np.percentile(values, 99)), 2),
        "display_sweep_fps": frames["gui_fps"],
    }


def measure_trigger_to_sweep(seconds: float = 5.0) -> dict[str, float]:
    """``trigger_to_sweep_ms_median`` in the triggered mode (see the module's docstring), with the frame times."""
    import time

    with bench_window() as session:
        window = session.window
        scope = window.scope
        window.set_mode("triggered")
        session.frames(SETTLE_S)
        trigger = scope.trigger
        seen = set(trigger.shown)
        measured_from = scope.reader.position
        latencies: list[float] = []

        def after_frame() -> None:
            painted = time.monotonic()
            new = [index for index in trigger.shown if index not in seen and index >= measured_from]
            seen.update(trigger.shown)
            if new:
                written = _written_at(session, np.asarray(new))
                latencies.extend(painted - written)

        frames = session.frames(seconds, after_frame)
    values = np.asarray(latencies) * 1000
    return {
        "trigger_to_sweep_ms_median": round(float(np.median(values)), 2) if values.size else float("nan"),
        "trigger_sweeps_measured": float(values.size),
        "triggered_fps": frames["gui_fps"],
        "triggered_frame_ms_median": frames["gui_frame_ms_median"],
    }


def measure_display(seconds: float = 5.0) -> dict[str, float]:
    """Both figures (the live sweep's latency, then the triggered mode's), each on a window of its own."""
    return {**measure_display_latency(seconds), **measure_trigger_to_sweep(seconds)}
