"""The display benchmark measures what it says, on the real window: every sample drawn, every sweep shown.

Speed bars belong to ``emgscope bench``; here the figures are checked for what cannot depend on the machine: a
sample is painted after it was written, the tail is not below the median, and the triggered mode showed sweeps.
"""

from __future__ import annotations

import pytest

from emgscope.bench.display import measure_display


@pytest.mark.slow
def test_the_display_figures_are_measured(qtbot) -> None:
    figures = measure_display(2.0)
    assert 0 < figures["display_latency_ms_median"] <= figures["display_latency_ms_p99"]
    assert figures["display_sweep_fps"] > 0
    assert figures["trigger_sweeps_measured"] >= 10  # a normal muscle at 30 % effort crosses -100 µV often
    assert figures["trigger_to_sweep_ms_median"] > 0
