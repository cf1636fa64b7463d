"""``emgscope bench``'s pacing figures: each is measured by the real parts and comes out a number.

The bars are the benchmark's (:func:`emgscope.bench.pacing.measure_pacing` states them), for a machine left to
it. On one shared with other work a test can hold only what no load changes: that every figure is measured, and
that "connection lost" never comes before the silence timeout.
"""

from __future__ import annotations

import numpy as np
import pytest

from emgscope.bench.pacing import measure_pacing
from emgscope.core.source import Source

FIGURES = {
    "sim_rate_error_pct",
    "sim_skipped_samples",
    "process_rate_error_pct",
    "brainflow_synthetic_rate_hz",
    "headless_exam_x_realtime",
    "recording_open_ms",
    "replay_rate_error_pct",
    "connection_lost_after_s",
}


@pytest.mark.timeout(120)
def test_every_pacing_figure_is_measured() -> None:
    figures = measure_pacing(0.3, exam_limit_s=5.0)
    assert set(figures) == FIGURES
    assert all(np.isfinite(value) for value in figures.values()), figures
    assert figures["sim_skipped_samples"] >= 0
    for name in ("brainflow_synthetic_rate_hz", "headless_exam_x_realtime", "recording_open_ms"):
        assert figures[name] > 0, (name, figures[name])
    # The pump counts the silence from the read that brought the last sample, at most a sample before it fell due.
    assert figures["connection_lost_after_s"] > Source.silence_timeout_s - 0.001
