"""ReplaySource through the real AcquisitionPump: pacing at 1× and 4×, seek, loop, pause, end; the recent list.

The recording is the real needle EMG from PhysioNet emgdb (4 kHz). Ring contents are checked against the file
sample by sample, using the ring-index → file-sample segments the source publishes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support.clock import FakeClock
from support.waiting import wait_for_samples, wait_until

from emgscope.acquisition.pump import AcquisitionPump
from emgscope.core import events
from emgscope.core.controls import file_sample_at, file_time_at
from emgscope.core.events import Event, EventBus
from emgscope.core.settings import FilterSettings
from emgscope.core.source import MIN_READ_S, SourceEnded, SourceError
from emgscope.replay.reader import open_recording
from emgscope.replay.recent import MAX_RECENT, add_recent, load_recent
from emgscope.replay.source import MAX_CHUNK_S, ReplaySource

pytestmark = pytest.mark.timeout(60)
"""Replays run on a pump thread: a hang fails its own test."""

NEEDLE = "physionet_emgdb/emg_neuropathy.hea"


class Pumped:
    """A ReplaySource running in the real pump, with the events it posted."""

    def __init__(self, source: ReplaySource) -> None:
        self.source = source
        self.events: list[Event] = []
        bus = EventBus()
        bus.subscribe(self.events.append)
        self.pump = AcquisitionPump(source, FilterSettings(), bus, ring_seconds=60.0)
        self.pump.start()
        wait_until(lambda: self.pump.pipeline is not None or bool(self.events), what="the replay to connect")
        assert self.pump.pipeline is not None, self.events

    @property
    def written(self) -> int:
        assert self.pump.pipeline is not None
        return self.pump.pipeline.raw.write_index

    def wait_for_written(self, count: int) -> None:
        """Wait until ``count`` samples are in the ring (then check it holds no more than the clock made due)."""
        assert self.pump.pipeline is not None
        wait_for_samples(self.pump.pipeline.raw, count)

    def stop(self) -> None:
        self.pump.stop()


def drain(source: ReplaySource) -> list[int]:
    """Read until nothing is due: the size of each chunk."""
    sizes = []
    while n := source.read().shape[1]:
        sizes.append(n)
    return sizes


def test_reads_follow_the_clock_in_chunks_of_at_most_max_chunk(shared_data: Path) -> None:
    clock = FakeClock()
    source = ReplaySource(shared_data / NEEDLE, clock=clock)
    assert source.open().sample_rate == 4000
    assert drain(source) == []
    clock.advance(1.0)  # 4000 due: delivered MAX_CHUNK_S (1000 samples) at a time, none held back
    assert drain(source) == [round(MAX_CHUNK_S * 4000)] * 4
    # Less than MIN_READ_S due (2 samples at 4 kHz) waits for a later read; nothing is lost.
    tick = 2**-12  # 0.98 samples
    assert 2 * tick * 4000 < MIN_READ_S * 4000 <= 3 * tick * 4000
    clock.advance(tick)
    assert drain(source) == []
    clock.advance(tick)
    assert drain(source) == []  # 1 due
    clock.advance(tick)
    assert drain(source) == [2]  # 2 due (2.9 samples' time, floored)
    assert source.position_s == 4002 / 4000


@pytest.mark.parametrize("speed", [1.0, 4.0])
def test_pacing_through_the_pump_follows_the_clock(shared_data: Path, speed: float) -> None:
    """Exact counts with a clock moved here; the real-time rate is a benchmark figure (``replay_rate_error_pct``)."""
    rec = open_recording(shared_data / NEEDLE)
    clock = FakeClock()
    p = Pumped(ReplaySource(rec, speed=speed, clock=clock))
    try:
        clock.advance(0.125)  # under one chunk at either speed: one read delivers all that is due
        p.wait_for_written(round(500 * speed))
        assert p.written == 500 * speed
        clock.advance(1.0)
        p.wait_for_written(round(4500 * speed))
        assert p.written == 4500 * speed  # the clock stands still: nothing more is due
        assert p.pump.pipeline is not None
        _, raw = p.pump.pipeline.raw.read_range(0, p.written)
    finally:
        p.stop()
    np.testing.assert_allclose(raw[0], rec.read(0, 0, round(4500 * speed)), atol=1e-3)  # float32 ring


def test_samples_arrive_in_microvolts_and_in_order(shared_data: Path) -> None:
    rec = open_recording(shared_data / NEEDLE)
    p = Pumped(ReplaySource(rec, speed=4.0))
    try:
        p.wait_for_written(8000)
        assert p.pump.pipeline is not None
        _, raw = p.pump.pipeline.raw.read_range(0, 8000)
    finally:
        p.stop()
    np.testing.assert_allclose(raw[0], rec.read(0, 0, 8000), atol=1e-3)  # float32 ring
    assert p.pump.pipeline.info.channel_labels == ("EMG",)
    assert p.pump.pipeline.info.sample_rate == 4000


def test_pause_speed_and_seek_move_the_anchor_not_the_position(shared_data: Path) -> None:
    clock = FakeClock()
    source = ReplaySource(shared_data / NEEDLE, speed=2.0, clock=clock)
    source.open()
    clock.advance(0.125)
    assert drain(source) == [1000]  # 0.125 s at 2×
    source.pause()
    clock.advance(5.0)
    assert drain(source) == [] and source.paused and source.position_s == 0.25
    source.set_speed(10.0)
    assert source.speed == 4.0
    source.set_speed(0.1)
    assert source.speed == 0.25
    source.resume()
    clock.advance(1.0)
    assert drain(source) == [1000]  # 1 s at 0.25×, from where the pause held it
    source.seek(20.0)
    clock.advance(0.5)
    assert drain(source) == [500]
    assert source.segments == ((0, 0), (2000, 80000))
    assert source.position_s == 20.125


def test_seek_and_segments_through_the_pump(shared_data: Path) -> None:
    rec = open_recording(shared_data / NEEDLE)
    clock = FakeClock()
    source = ReplaySource(rec, speed=2.0, clock=clock)
    p = Pumped(source)
    try:
        clock.advance(0.25)
        p.wait_for_written(2000)
        source.seek(20.0)
        clock.advance(0.5)
        p.wait_for_written(6000)
        assert p.written == 6000
        assert source.segments == ((0, 0), (2000, 80000))
        assert file_time_at(source, 2000 + 400) == pytest.approx(20.1)
        assert p.pump.pipeline is not None
        _, raw = p.pump.pipeline.raw.read_range(2000, 6000)
        np.testing.assert_allclose(raw[0], rec.read(0, 80000, 84000), atol=1e-3)
        source.set_speed(0.25)
        clock.advance(0.5)  # 500 samples: under one chunk, so a wrong speed would show in this one read
        p.wait_for_written(6500)
        assert p.written == 6500 and source.position_s == 21.125
        assert not any(e.kind == events.CONNECTION_LOST for e in p.events)
    finally:
        p.stop()


def test_loop_repeats_the_range_and_end_stops(shared_data: Path) -> None:
    rec = open_recording(shared_data / NEEDLE)
    source = ReplaySource(rec, speed=4.0)
    source_duration = rec.duration_s
    p = Pumped(source)
    try:
        source.set_loop(10.0, 10.25)
        assert source.loop == (10.0, 10.25)
        wait_until(lambda: len(source.segments) >= 4, what="the loop to come round three times")
        assert {f for _, f in source.segments[1:]} == {40000}
        ring_a, _ = source.segments[-2]
        ring_b, _ = source.segments[-1]
        assert ring_b - ring_a == 1000
        assert p.pump.pipeline is not None
        _, raw = p.pump.pipeline.raw.read_range(ring_a, ring_b)
        np.testing.assert_allclose(raw[0], rec.read(0, 40000, 41000), atol=1e-3)
        source.clear_loop()
        source.seek(source_duration - 0.2)
        wait_until(lambda: not p.pump.running, what="the replay to end")
    finally:
        p.stop()
    assert any(e.kind == events.SOURCE_ENDED for e in p.events)
    assert source.ended and file_sample_at(source.segments, p.written - 1) == rec.signals[0].n_samples - 1


def test_start_position(shared_data: Path) -> None:
    rec = open_recording(shared_data / NEEDLE)
    clock = FakeClock()
    source = ReplaySource(rec, speed=4.0, start_s=30.0, clock=clock)
    source.open()
    assert source.position_s == 30.0 and source.segments == ((0, 120000),)
    clock.advance(0.0625)  # 1000 samples at 4×
    data = source.read()
    np.testing.assert_array_equal(data, rec.read_signals([0], 120000, 121000))
    assert file_time_at(source, 400) == pytest.approx(30.1)


def test_errors_are_source_errors(shared_data: Path, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no data signals"):
        ReplaySource(shared_data / "edfio/SC4001EC-Hypnogram.edf").open()
    with pytest.raises(SourceError, match="number of signals"):
        ReplaySource(shared_data / "bids_examples/emg_Multimodal__sub-01_task-pullstand_emg.edf").open()
    psg = ReplaySource(shared_data / "edfio/short_psg.edf")
    info = psg.open()
    assert info.sample_rate == 100 and info.n_channels == 3
    with pytest.raises(SourceError, match="different sample rates"):
        ReplaySource(shared_data / "edfio/short_psg.edf", signals=[0, 4]).open()
    clock = FakeClock()
    short = ReplaySource(
        shared_data / "bids_examples/emg_CustomBipolar__sub-01_task-holdWeight_emg.edf", speed=4, clock=clock
    )
    short.open()
    clock.advance(60.0)  # far past its end
    got = 0
    with pytest.raises(SourceEnded):
        while True:
            got += short.read().shape[1]
    assert got == 2000


def test_recent_list(tmp_path: Path) -> None:
    files = []
    for k in range(MAX_RECENT + 2):
        f = tmp_path / f"s{k}.bdf"
        f.write_bytes(b"x")
        files.append(f)
        add_recent(f)
    add_recent(files[3])
    recent = load_recent()
    assert recent[0] == files[3].resolve() and len(recent) == MAX_RECENT
    assert len(set(recent)) == MAX_RECENT
    files[3].unlink()
    assert files[3].resolve() not in load_recent()
    (tmp_path / "gone").mkdir()
    from emgscope.replay.recent import recent_path

    recent_path().write_text("{broken")
    assert load_recent() == []
