"""The display's performance bar, measured on the real main window (:mod:`emgscope.gui.bench_window`)."""

from __future__ import annotations

from emgscope.gui.bench_window import bench_window


def measure_gui(seconds: float = 5.0) -> dict[str, float]:
    """Frames per second, frame times (ms, wall clock) and the median CPU time per frame over ``seconds``."""
    with bench_window() as session:
        return session.frames(seconds)
