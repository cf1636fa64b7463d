"""The real main window driven for measurement (``emgscope bench``): 16 channels at 20 kHz, 1 s per sweep.

The window runs offscreen fed by the real simulated patient (16 needle channels at 20 kHz, moderate effort)
through the real acquisition pump. A precise 60 Hz timer drives the frames; each frame's time covers the pull
from the ring, the min/max and pixel work, and a forced repaint of the whole plot (``viewport().repaint()``:
the grid, the axis, the labels and the raster), so the figure includes the paint, not only the bookkeeping.
The GUI thread's CPU time per frame is reported too: unlike wall time, other busy processes do not inflate it.

The audio benchmark reuses :class:`BenchWindow`: it measures the window's own audio monitor while frames are
drawn, so what it figures is the app as it runs (one stream, one pump), not a second audio path beside the window's.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from emgscope.core.realtime import freeze_startup_heap
from emgscope.core.settings import AudioSettings, Settings

BENCH_CHANNELS = 16
BENCH_RATE = 20_000.0
SWEEP_MS_PER_DIVISION = 100.0
"""1 s per sweep (10 divisions)."""
CONNECT_TIMEOUT_S = 10.0
WINDOW_SIZE = (1400, 900)


class BenchWindow:
    """The running main window and a way to drive it with forced full repaints at the scope's frame rate."""

    def __init__(self, window: Any) -> None:
        self.window = window

    def wait(self, condition: Callable[[], bool], seconds: float) -> bool:
        """Run the event loop until ``condition()`` holds or ``seconds`` pass; whether it held."""
        from PyQt6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                return False
            QTimer.singleShot(20, loop.quit)
            loop.exec()
        return True

    def frames(self, seconds: float, after_frame: Callable[[], None] | None = None) -> dict[str, float]:
        """Draw frames for ``seconds``: frames per second, frame times (ms, wall clock), median CPU per frame.

        ``after_frame`` is called as each frame's repaint returns (its pixels are painted), for measurements that
        need that moment (the display latency)."""
        from PyQt6.QtCore import QEventLoop, Qt, QTimer

        from emgscope.gui.scope_view import FRAME_INTERVAL_MS

        scope = self.window.scope
        scope.timer.stop()
        viewport = scope.plot.viewport()
        durations: list[float] = []
        cpu: list[float] = []
        stamps: list[float] = []

        def frame() -> None:
            started = time.perf_counter()
            cpu_started = time.thread_time()
            scope.tick()
            viewport.repaint()
            cpu.append(time.thread_time() - cpu_started)
            durations.append(time.perf_counter() - started)
            stamps.append(started)
            if after_frame is not None:
                after_frame()

        loop = QEventLoop()
        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.setInterval(FRAME_INTERVAL_MS)
        timer.timeout.connect(frame)
        timer.start()
        QTimer.singleShot(round(seconds * 1000), loop.quit)
        loop.exec()
        timer.stop()
        frames_ms = np.asarray(durations) * 1000
        elapsed = stamps[-1] - stamps[0] if len(stamps) > 1 else float("inf")
        return {
            "gui_fps": round((len(stamps) - 1) / elapsed, 1),
            "gui_frame_ms_median": round(float(np.median(frames_ms)), 2),
            "gui_frame_ms_p99": round(float(np.percentile(frames_ms, 99)), 2),
            "gui_frame_cpu_ms_median": round(float(np.median(cpu)) * 1000, 2),
        }


@contextmanager
def bench_window(audio: AudioSettings | None = None) -> Iterator[BenchWindow]:
    """The main window, offscreen, showing the simulated patient (16 channels at 20 kHz, 1 s per sweep).

    ``audio`` are the window's own audio settings (the defaults when ``None``); the window opens its monitor as
    the app does, when a device is there.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtWidgets import QApplication

    from emgscope.gui.main_window import MainWindow

    _app = QApplication.instance() or QApplication([])  # held: Qt needs the application alive while measuring
    settings = Settings()
    settings.source.simulator.channels = BENCH_CHANNELS
    settings.source.simulator.sample_rate = BENCH_RATE
    settings.source.simulator.effort_percent = 30.0
    settings.display.sweep_ms = SWEEP_MS_PER_DIVISION
    if audio is not None:
        settings.audio = audio
    window = MainWindow(settings)
    window.resize(*WINDOW_SIZE)
    window.show()
    window.start()
    freeze_startup_heap()  # as the app does
    session = BenchWindow(window)
    try:
        if not session.wait(lambda: window.pipeline is not None, CONNECT_TIMEOUT_S):
            raise RuntimeError("the simulated patient did not start for the display benchmark")
        yield session
    finally:
        window.close()
        gc.unfreeze()  # a closed window in the frozen heap would never be collected, in a test run or a second bench
