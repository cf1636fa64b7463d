"""The acquisition path's own cost: the pump's per-chunk work and the simulated patient, 16 channels at 20 kHz."""

from __future__ import annotations

import time

import numpy as np

from emgscope.acquisition.pump import POLL_INTERVAL_S, AcquisitionPump, make_pipeline
from emgscope.core.settings import FilterSettings, SimulatorSettings
from emgscope.core.source import StreamInfo

BENCH_CHANNELS = 16
BENCH_RATE = 20_000.0


def measure_pipeline(
    seconds: float = 10.0, chunk_ms: float = POLL_INTERVAL_S * 1000, repeats: int = 3
) -> dict[str, float]:
    """Acquisition-thread work (scale + filters + writes to both rings) for 16 channels at 20 kHz.

    The pump's own rings and filters (needle preset), fed chunks of the size its polling interval gives at that
    rate. ``seconds`` of signal are timed in ``repeats`` passes and the fastest is kept, as ``timeit`` does: the
    slower passes measure whatever else the machine was doing.
    """
    info = StreamInfo(BENCH_RATE, tuple(f"Ch{i + 1}" for i in range(BENCH_CHANNELS)), "bench")
    pipeline = make_pipeline(info, FilterSettings())
    chunk_n = int(BENCH_RATE * chunk_ms / 1000)
    chunk = np.random.default_rng(0).normal(0, 50, (BENCH_CHANNELS, chunk_n))
    n_chunks = int(seconds / repeats * 1000 / chunk_ms)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n_chunks):
            AcquisitionPump.push(pipeline, chunk)
        best = min(best, time.perf_counter() - start)
    return {"pipeline_x_realtime": round(seconds / repeats / best, 1)}


RICHEST_PATIENT = "neuromyotonia:Medial gastrocnemius"
"""The costliest muscle to simulate: a normal muscle's units (about 70 per site, all recruited at maximal effort)
with neuromyotonic trains at 150-250 Hz, myokymic bursts and fasciculations on top. Chosen by timing every teaching
patient's muscles at 16 channels × 20 kHz and maximal effort (it came out slowest in two full runs)."""


def measure_simulator(seconds: float = 5.0) -> dict[str, float]:
    """The simulated patient generating 16 channels at 20 kHz at maximal effort (its most costly state), with the
    richest teaching patient, :data:`RICHEST_PATIENT`."""
    from emgscope.acquisition.simulator import SimulatedPatient

    settings = SimulatorSettings(
        channels=BENCH_CHANNELS, sample_rate=BENCH_RATE, effort_percent=100.0, patient=RICHEST_PATIENT
    )
    patient = SimulatedPatient(settings)
    block = int(BENCH_RATE * 0.005)
    start = time.perf_counter()
    for _ in range(int(seconds * BENCH_RATE / block)):
        patient.generate(block)
    elapsed = time.perf_counter() - start
    return {"sim_x_realtime": round(seconds / elapsed, 1)}
