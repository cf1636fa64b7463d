"""The sample clock both LSL ends use (emgscope/core/sample_clock.py), measured against arrivals whose truth is known:
chunks that arrive late by a random amount, a device whose crystal runs slow, samples lost on the way."""

from __future__ import annotations

import numpy as np
import pytest

from emgscope.core.sample_clock import SampleClock

RATE = 2_000.0
CHUNK = 20


def arrivals(seconds: float, late_ms: float, ppm: float = 0.0, seed: int = 0) -> list[tuple[int, float, float]]:
    """``(count, arrived, true time of the chunk's last sample)`` per chunk: each arrives after its last sample was
    taken by 0 to ``late_ms`` (uniform), with a stall of 50 ms now and then; the device runs ``ppm`` slow."""
    rng = np.random.default_rng(seed)
    period = (1 + ppm * 1e-6) / RATE
    chunks = []
    for count in range(CHUNK, int(seconds * RATE), CHUNK):
        taken = 100.0 + (count - 1) * period
        late = rng.uniform(0, late_ms) / 1000 + (0.05 if rng.random() < 0.005 else 0.0)
        chunks.append((count, taken + late, taken))
    return chunks


def test_jittery_arrivals_give_each_sample_the_time_it_was_taken_within_a_fraction_of_a_millisecond() -> None:
    clock = SampleClock(RATE)
    errors, stamps = [], []
    for count, arrived, taken in arrivals(30.0, late_ms=10.0):
        clock.observe(count, arrived)
        stamps.append(clock.time_of(count - 1))
        if taken > 102.0:  # after the first 2 s
            errors.append(clock.time_of(count - 1) - taken)
    errors = np.abs(errors)
    print(f"10 ms of jitter: error median {np.median(errors) * 1e3:.3f} ms, max {errors.max() * 1e3:.3f} ms")
    assert errors.max() < 0.5e-3
    assert np.all(np.diff(stamps) > 0)  # never backwards, even while the clock settles


def test_a_device_100_ppm_slow_is_followed() -> None:
    clock = SampleClock(RATE)
    errors = []
    for count, arrived, taken in arrivals(120.0, late_ms=5.0, ppm=100.0):
        clock.observe(count, arrived)
        if taken > 102.0:
            errors.append(abs(clock.time_of(count - 1) - taken))
    print(f"100 ppm slow: error max {max(errors) * 1e3:.3f} ms over 2 minutes (a fixed clock would be off 12 ms)")
    assert max(errors) < 1.5e-3


def test_samples_lost_on_the_way_keep_their_time_and_a_time_in_the_gap_gives_the_sample_after_it() -> None:
    clock = SampleClock(RATE)
    clock.observe(1_000, 100.0 + 999 / RATE)
    clock.skip(1_000, 100)  # ring index 1000 is the sample taken 100 samples later than it would have been
    clock.observe(1_020, 100.0 + 1_119 / RATE)
    assert clock.time_of(999) == pytest.approx(100.0 + 999 / RATE)
    assert clock.time_of(1_000) == pytest.approx(100.0 + 1_100 / RATE)
    assert clock.index_at(100.0 + 1_100 / RATE) == 1_000
    assert clock.index_at(100.0 + 1_050 / RATE) == 1_000  # in the gap
    assert clock.index_at(100.0 + 500 / RATE) == 500
    assert clock.index_at(50.0) == 0
    assert clock.gaps_in(900, 1_019) == [1_000] and clock.gaps_in(1_000, 1_019) == []
