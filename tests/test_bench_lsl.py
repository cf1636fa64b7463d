"""The LSL benchmark runs itself on a private loopback (never on the real network) and reports its figures."""

from __future__ import annotations

import pytest

from emgscope.bench import loopback
from emgscope.bench.lsl import measure_lsl


@pytest.mark.timeout(120)
def test_the_lsl_figures_are_measured_on_a_private_loopback_from_an_ordinary_run() -> None:
    assert loopback.problem() is not None, "run this test outside the confinement: it must make its own"
    figures = measure_lsl(1.0)
    assert set(figures) == {"lsl_out_x_realtime", "lsl_in_latency_ms_median", "lsl_in_latency_ms_p99"}
    assert figures["lsl_out_x_realtime"] > 1.0  # published faster than real time, every sample received
    assert 0.0 < figures["lsl_in_latency_ms_median"] <= figures["lsl_in_latency_ms_p99"] < 1_000.0
