"""Firing rate, its variability and recruitment on discharge trains whose every interval is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from emgscope.analysis.muap.firing import (
    FASTEST_RATE_LIMIT_HZ,
    RECRUITMENT_FREQUENCY_LIMIT_HZ,
    RECRUITMENT_RATIO_LIMIT,
    fires_as_a_train,
    firing_stats,
    recruitment,
)


def test_rate_of_a_regular_train_and_its_variability() -> None:
    intervals = np.tile([0.09, 0.11], 20)  # mean 0.1 s, SD 0.01 s
    stats = firing_stats(np.concatenate(([0.0], np.cumsum(intervals))))
    assert stats.rate_hz == pytest.approx(10.0)
    assert stats.cv == pytest.approx(np.std(intervals, ddof=1) / 0.1)
    assert stats.intervals == 40


def test_missed_and_stray_discharges_do_not_change_the_rate() -> None:
    times = np.arange(60) * 0.125  # 8 Hz
    missed = np.delete(times, [5, 6, 17, 30, 31, 32, 44])  # superimposed discharges left out: doubled intervals
    stray = np.sort(np.append(missed, [1.0625, 3.3125]))  # two mis-sorted members halving their intervals
    stats = firing_stats(stray)
    assert stats.rate_hz == pytest.approx(8.0)
    assert stats.cv == pytest.approx(0.0, abs=1e-9)


def test_a_unit_that_lost_more_than_half_its_discharges_keeps_its_rate() -> None:
    # 55 % of the discharges lost to superimpositions: intervals of 2 and more periods outnumber those of 1.
    times = np.arange(200) * 0.1
    kept = times[np.random.default_rng(3).random(200) > 0.55]
    intervals = np.round(np.diff(kept) / 0.1)
    assert np.mean(intervals == 1) < 0.5 < np.mean(intervals >= 2)
    assert firing_stats(kept).rate_hz == pytest.approx(10.0)


def test_too_few_intervals_give_no_rate_and_no_train() -> None:
    stats = firing_stats(np.array([0.0, 0.1, 0.2]))
    assert math.isnan(stats.rate_hz) and not fires_as_a_train(stats)
    assert fires_as_a_train(firing_stats(np.arange(8) * 0.1))
    # Discharges 0.5 s apart: 2 Hz is no voluntary unit's train.
    assert not fires_as_a_train(firing_stats(np.arange(12) * 0.5))


def test_recruitment_seen_in_the_segment() -> None:
    first = np.arange(0.0, 5.0, 0.2)  # 5 Hz from the start ...
    first = np.concatenate((first[first < 2.0], 2.0 + np.arange(0.0, 3.0, 1 / 9.0)))  # ... 9 Hz from 2 s
    second = 3.0 + np.arange(0.0, 2.0, 0.2)  # joins at 3 s, at 5 Hz
    r = recruitment([(first, 9.0), (second, 5.0)], 0.0)
    assert r.observed
    assert r.frequency_hz == pytest.approx(9.0)  # the first unit's last intervals before 3 s
    assert r.ratio == pytest.approx(9.0 / 2)
    assert r.units_firing == 2 and r.flags == ()


def test_steady_contraction_reports_the_fastest_unit_as_an_upper_bound() -> None:
    a = np.arange(0.03, 5.0, 1 / 12.0)
    b = np.arange(0.05, 5.0, 1 / 7.0)
    r = recruitment([(b, 7.0), (a, 12.0)], 0.0)
    assert not r.observed
    assert r.frequency_hz == pytest.approx(12.0)


def test_reduced_recruitment_is_flagged_with_the_limits() -> None:
    fast = np.arange(0.01, 5.0, 1 / 24.0)
    r = recruitment([(fast, 24.0)], 0.0)
    assert r.ratio == pytest.approx(24.0)
    assert r.frequency_hz >= RECRUITMENT_FREQUENCY_LIMIT_HZ
    assert r.ratio >= RECRUITMENT_RATIO_LIMIT and r.fastest_rate_hz > FASTEST_RATE_LIMIT_HZ
    assert any("recruitment frequency 24.0 Hz (normal below 20 Hz)" in f for f in r.flags)
    assert any("recruitment ratio 24.0 (normal below 10)" in f for f in r.flags)
    assert any("fastest unit 24.0 Hz" in f for f in r.flags)
    assert len(r.flags) == 3


def test_no_unit_gives_no_figures() -> None:
    r = recruitment([], 0.0)
    assert r.units_firing == 0 and math.isnan(r.ratio)
