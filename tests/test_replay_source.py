"""ReplaySource through the real AcquisitionPump: pacing at 1× and 4×, seek, loop, pause, end; the recent list.

The recording is the real needle EMG from PhysioNet emgdb (4 kHz). Ring contents are checked against the file
sample by sample, using the ring-index → file-sample segments the source publishes.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from emgscope.acquisition.pump import AcquisitionPump
from emgscope.core import events
from emgscope.core.controls import file_sample_at, file_time_at
from emgscope.core.events import Event, EventBus
from emgscope.core.settings import FilterSettings
from emgscope.core.source import SourceEnded, SourceError
from emgscope.replay.reader import open_recording
from emgscope.replay.recent import MAX_RECENT, add_recent, load_recent
from emgscope.replay.source import ReplaySource

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
        deadline = time.monotonic() + 5
        while self.pump.pipeline is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert self.pump.pipeline is not None, self.events

    @property
    def written(self) -> int:
        assert self.pump.pipeline is not None
        return self.pump.pipeline.raw.write_index

    def wait_for(self, predicate, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate() and time.monotonic() < deadline:
            time.sleep(0.002)
        assert predicate()

    def stop(self) -> None:
        self.pump.stop()


def _rate_over(p: Pumped, seconds: float) -> float:
    """Samples per wall-clock second over ``seconds``, measured after the first samples arrived."""
    p.wait_for(lambda: p.written > 0)
    n0, t0 = p.written, time.monotonic()
    time.sleep(seconds)
    return (p.written - n0) / (time.monotonic() - t0)


@pytest.mark.parametrize("speed", [1.0, 4.0])
def test_pacing_through_the_pump(shared_data: Path, speed: float) -> None:
    p = Pumped(ReplaySource(shared_data / NEEDLE, speed=speed))
    try:
        rate = _rate_over(p, 1.5)
    finally:
        p.stop()
    assert rate == pytest.approx(4000 * speed, rel=0.03)


def test_samples_arrive_in_microvolts_and_in_order(shared_data: Path) -> None:
    rec = open_recording(shared_data / NEEDLE)
    p = Pumped(ReplaySource(rec, speed=4.0))
    try:
        p.wait_for(lambda: p.written >= 8000)
        assert p.pump.pipeline is not None
        _, raw = p.pump.pipeline.raw.read_range(0, 8000)
    finally:
        p.stop()
    np.testing.assert_allclose(raw[0], rec.read(0, 0, 8000), atol=1e-3)  # float32 ring
    assert p.pump.pipeline.info.channel_labels == ("EMG",)
    assert p.pump.pipeline.info.sample_rate == 4000


def test_seek_pause_speed_and_segments(shared_data: Path) -> None:
    rec = open_recording(shared_data / NEEDLE)
    source = ReplaySource(rec, speed=2.0)
    p = Pumped(source)
    try:
        p.wait_for(lambda: p.written >= 2000)
        source.seek(20.0)
        jump_from = p.written
        p.wait_for(lambda: p.written >= jump_from + 4000)
        ring_index, file_sample = source.segments[-1]
        assert file_sample == 80000 and ring_index >= jump_from
        assert file_time_at(source, ring_index + 400) == pytest.approx(20.1)
        assert p.pump.pipeline is not None
        _, raw = p.pump.pipeline.raw.read_range(ring_index, ring_index + 2000)
        np.testing.assert_allclose(raw[0], rec.read(0, 80000, 82000), atol=1e-3)

        source.pause()
        time.sleep(0.05)
        held = p.written
        time.sleep(0.3)
        assert p.written == held
        position = source.position_s
        source.set_speed(10.0)
        assert source.speed == 4.0
        source.set_speed(0.1)
        assert source.speed == 0.25
        source.resume()
        rate = _rate_over(p, 1.2)
        assert rate == pytest.approx(1000, rel=0.05)
        assert source.position_s > position
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
        p.wait_for(lambda: len(source.segments) >= 4)
        assert {f for _, f in source.segments[1:]} == {40000}
        ring_a, _ = source.segments[-2]
        ring_b, _ = source.segments[-1]
        assert ring_b - ring_a == 1000
        assert p.pump.pipeline is not None
        _, raw = p.pump.pipeline.raw.read_range(ring_a, ring_b)
        np.testing.assert_allclose(raw[0], rec.read(0, 40000, 41000), atol=1e-3)
        source.clear_loop()
        source.seek(source_duration - 0.2)
        p.wait_for(lambda: not p.pump.running, timeout=3)
    finally:
        p.stop()
    assert any(e.kind == events.SOURCE_ENDED for e in p.events)
    assert source.ended and file_sample_at(source.segments, p.written - 1) == rec.signals[0].n_samples - 1


def test_start_position(shared_data: Path) -> None:
    rec = open_recording(shared_data / NEEDLE)
    source = ReplaySource(rec, speed=4.0, start_s=30.0)
    source.open()
    assert source.position_s == 30.0 and source.segments == ((0, 120000),)
    deadline = time.monotonic() + 2
    chunks = []
    while sum(c.shape[1] for c in chunks) < 800 and time.monotonic() < deadline:
        chunks.append(source.read())
        time.sleep(0.005)
    data = np.hstack(chunks)
    np.testing.assert_array_equal(data[0], rec.read(0, 120000, 120000 + data.shape[1]))
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
    short = ReplaySource(shared_data / "bids_examples/emg_CustomBipolar__sub-01_task-holdWeight_emg.edf", speed=4)
    short.open()
    got = 0
    deadline = time.monotonic() + 3
    with pytest.raises(SourceEnded):
        while time.monotonic() < deadline:
            got += short.read().shape[1]
            time.sleep(0.005)
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
