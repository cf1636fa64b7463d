"""The trigger and delay line on signals whose every crossing is known to the sample."""

from __future__ import annotations

import numpy as np
import pytest

from emgscope.core.ring import SampleRing
from emgscope.core.settings import FALLING, RISING, TriggerSettings
from emgscope.dsp.trigger import TriggerDelayLine

FS = 20_000.0


def spike(peak_uv: float) -> np.ndarray:
    """A 21-sample triphasic potential: +0.2·|peak|, then down to ``peak_uv`` (negative) and back, then positive."""
    down = np.linspace(0.0, 1.0, 6)[1:]
    body = np.concatenate((0.2 * np.sin(np.linspace(0, np.pi, 5)), -down, -down[::-1][1:], 0.3 * np.ones(4), [0.0]))
    return body * abs(peak_uv)


def place(n: int, events: list[tuple[int, float]]) -> np.ndarray:
    """Silence of ``n`` samples with ``spike(peak)`` starting at each ``(start, peak)``."""
    x = np.zeros(n)
    for start, peak in events:
        shape = spike(peak)
        x[start : start + shape.size] += shape
    return x


def first_at_or_below(x: np.ndarray, level: float, start: int) -> int:
    return start + int(np.flatnonzero(x[start:] <= level)[0])


def test_sweep_is_cut_around_the_first_sample_past_the_level() -> None:
    settings = TriggerSettings(level_uv=-100.0, slope=FALLING, ms_per_div=2.0, pretrigger=0.25)
    line = TriggerDelayLine(settings, FS)
    x = place(4000, [(1000, -400.0)])
    sweeps = line.feed(0, x)
    assert len(sweeps) == 1
    trigger = first_at_or_below(x, -100.0, 1000)
    # -400 µV peak in 5 steps of 80 µV: -80, -160: the second step down is the first at or below -100.
    assert trigger == 1000 + 5 + 1
    sweep = sweeps[0]
    assert sweep.trigger_index == trigger
    assert settings.sweep_samples(FS) == 400 and settings.pre_samples(FS) == 100
    assert sweep.start_index == trigger - 100
    np.testing.assert_array_equal(sweep.samples, x[trigger - 100 : trigger + 300].astype(np.float32))


def test_rising_slope_triggers_on_the_positive_going_edge() -> None:
    line = TriggerDelayLine(TriggerSettings(level_uv=50.0, slope=RISING, ms_per_div=1.0), FS)
    x = place(3000, [(500, -400.0)])
    (sweep,) = line.feed(0, x)
    # The initial positive phase peaks at +80 µV: its first sample at or above 50 µV.
    assert sweep.trigger_index == 500 + int(np.flatnonzero(x[500:] >= 50.0)[0])
    assert x[sweep.trigger_index - 1] < 50.0 <= x[sweep.trigger_index]


def test_chunked_feeding_gives_the_same_sweeps_and_completes_a_crossing_later() -> None:
    settings = TriggerSettings(level_uv=-100.0, ms_per_div=5.0, pretrigger=0.25)
    events = [(1200 + 1900 * k, -300.0 - 20 * k) for k in range(10)]
    x = place(22_000, events)
    whole = TriggerDelayLine(settings, FS).feed(0, x)
    assert len(whole) == 10

    line = TriggerDelayLine(settings, FS)
    rng = np.random.default_rng(4)
    got = []
    position = 0
    completed_later = 0
    while position < x.size:
        n = int(rng.integers(1, 400))
        chunk = x[position : position + n]
        new = line.feed(position, chunk)
        # A sweep completed here whose trigger arrived in an earlier chunk.
        completed_later += sum(s.trigger_index < position for s in new)
        got += new
        position += chunk.size
    assert completed_later == 10  # 750 post-trigger samples never fit in one chunk of < 400
    assert [s.trigger_index for s in got] == [s.trigger_index for s in whole]
    for a, b in zip(got, whole, strict=True):
        np.testing.assert_array_equal(a.samples, b.samples)


def test_fed_from_a_ring_reader() -> None:
    ring = SampleRing(2, 50_000)
    reader = ring.reader("trigger")
    line = TriggerDelayLine(TriggerSettings(level_uv=-100.0, ms_per_div=2.0), FS)
    x = place(10_000, [(2000, -500.0), (6000, -500.0)])
    got = []
    for begin in range(0, x.size, 250):
        ring.write(np.vstack((x[begin : begin + 250], np.zeros(250))))
        start = reader.position
        got += line.feed(start, reader.read()[0])
    assert [s.trigger_index for s in got] == [first_at_or_below(x, -100.0, 2000), first_at_or_below(x, -100.0, 6000)]


def test_window_locks_onto_one_unit() -> None:
    small, large = -300.0, -800.0
    events = [(1000 + 1000 * k, small if k % 2 == 0 else large) for k in range(12)]
    x = place(14_000, events)
    settings = TriggerSettings(level_uv=-100.0, slope=FALLING, window_uv=-500.0, ms_per_div=2.0)
    sweeps = TriggerDelayLine(settings, FS).feed(0, x)
    # Only the six small potentials: the large ones pass the trigger level but overshoot the window.
    assert [s.trigger_index for s in sweeps] == [first_at_or_below(x, -100.0, 1000 + 2000 * k) for k in range(6)]
    assert all(s.samples.min() == pytest.approx(small) for s in sweeps)

    # The window the other way round keeps the large ones only.
    big_only = TriggerDelayLine(TriggerSettings(level_uv=-500.0, window_uv=-1000.0, ms_per_div=2.0), FS).feed(0, x)
    assert len(big_only) == 6 and all(s.samples.min() == pytest.approx(large) for s in big_only)


def test_holdoff_gives_one_sweep_per_discharge() -> None:
    # A polyphasic potential: three negative spikes 3 ms apart cross the level three times.
    x = place(8000, [(2000, -400.0), (2060, -350.0), (2120, -380.0)])
    one = TriggerDelayLine(TriggerSettings(level_uv=-100.0, ms_per_div=2.0), FS).feed(0, x)
    crossings = [first_at_or_below(x, -100.0, start) for start in (2000, 2060, 2120)]
    assert [s.trigger_index for s in one] == crossings[:1]
    three = TriggerDelayLine(TriggerSettings(level_uv=-100.0, ms_per_div=2.0, holdoff_ms=1.0), FS).feed(0, x)
    assert [s.trigger_index for s in three] == crossings


def test_a_gap_drops_what_was_waiting_and_needs_a_new_pre_trigger() -> None:
    settings = TriggerSettings(level_uv=-100.0, ms_per_div=2.0, pretrigger=0.25)
    line = TriggerDelayLine(settings, FS)
    x = place(6000, [(1000, -400.0), (4050, -400.0), (5000, -400.0)])
    assert line.feed(0, x[:1100]) == []  # the first crossing waits for its post-trigger part
    # Samples 1100-3999 never arrive (an overrun): the waiting sweep is dropped; the crossing 57 samples after
    # the gap has no pre-trigger part; the one at 5000 is whole.
    sweeps = line.feed(4000, x[4000:])
    assert [s.trigger_index for s in sweeps] == [first_at_or_below(x, -100.0, 5000)]


def test_keeps_the_last_sweeps_and_their_average() -> None:
    peaks = [-500.0, -600.0, -700.0, -800.0, -900.0]  # all cross -100 µV on the same sample of their shape
    x = place(12_000, [(1000 + 2000 * k, p) for k, p in enumerate(peaks)])
    line = TriggerDelayLine(TriggerSettings(level_uv=-100.0, ms_per_div=2.0), FS, keep=3)
    line.feed(0, x)
    assert [round(float(s.samples.min())) for s in line.sweeps] == [-700, -800, -900]
    np.testing.assert_allclose(line.average, np.mean([s.samples for s in line.sweeps], axis=0))
    assert float(line.average.min()) == pytest.approx(-800.0)


def test_a_new_sweep_length_clears_but_a_new_level_does_not() -> None:
    x = place(6000, [(1000, -400.0), (4000, -400.0)])
    line = TriggerDelayLine(TriggerSettings(level_uv=-100.0, ms_per_div=2.0), FS)
    line.feed(0, x[:3000])
    assert len(line.sweeps) == 1
    line.settings = TriggerSettings(level_uv=-200.0, ms_per_div=2.0)
    assert len(line.sweeps) == 1
    line.settings = TriggerSettings(level_uv=-200.0, ms_per_div=5.0)
    assert line.sweeps == () and line.average is None
    (sweep,) = line.feed(3000, x[3000:])
    assert sweep.samples.size == 1000 and sweep.trigger_index == first_at_or_below(x, -200.0, 4000)


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        (TriggerSettings(ms_per_div=50.0), "outside the trigger's 1-20 ms/div"),
        (TriggerSettings(pretrigger=0.95), "pre-trigger"),
        (TriggerSettings(level_uv=-100.0, slope=FALLING, window_uv=-50.0), "must be below the trigger level"),
        (TriggerSettings(level_uv=100.0, slope=RISING, window_uv=50.0), "must be above the trigger level"),
        (TriggerSettings(slope="up"), "unknown slope"),
    ],
)
def test_refuses_settings_it_cannot_honour(settings: TriggerSettings, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        TriggerDelayLine(settings, FS)
