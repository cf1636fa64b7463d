"""The acquisition pump in its own process: the real simulated patient and real replay, seen through the proxy.

Every test spawns the real child process; nothing is faked. The child is killed for real (SIGKILL) to check that a
crash of the acquisition process is reported and leaves the rings readable.
"""

from __future__ import annotations

import gc
import os
import signal
from pathlib import Path

import numpy as np
import pytest
from support.events import EventLog
from support.waiting import wait_for_samples, wait_until, wait_until_still

from emgscope.acquisition.process import ProcessPump
from emgscope.acquisition.proxy import ReplayProxy, SimulatorProxy
from emgscope.core import events
from emgscope.core.events import EventBus
from emgscope.core.ring import SampleRing
from emgscope.core.settings import FilterSettings, ReplaySettings, SimulatorSettings, SourceSettings
from emgscope.core.shm import SHM_DIR, owner_pid_of, remove_stale_blocks

RATE = 20_000.0

pytestmark = pytest.mark.timeout(60)
"""Every test here runs a child process: one that hangs fails its own test, not the run."""


def start(settings: SourceSettings, filters: FilterSettings | None = None) -> tuple[ProcessPump, EventLog]:
    bus = EventBus()
    recorder = EventLog(bus)
    pump = ProcessPump(settings, filters or FilterSettings(), bus)
    pump.start()
    return pump, recorder


def simulated(effort: float = 0.0) -> SourceSettings:
    return SourceSettings(simulator=SimulatorSettings(channels=2, sample_rate=RATE, effort_percent=effort))


def rms(ring: SampleRing, seconds: float) -> float:
    return float(np.sqrt(np.mean(ring.latest(round(seconds * RATE))[1][0] ** 2)))


def test_the_simulated_patient_streams_and_follows_the_effort_set_here() -> None:
    """The rate the child delivers in real time is a benchmark figure (``process_rate_error_pct``)."""
    pump, recorder = start(simulated())
    try:
        recorder.wait_for(events.CONNECTED, timeout=10.0)
        pipeline = pump.pipeline
        assert pipeline is not None and pipeline.info.sample_rate == RATE
        assert isinstance(pump.source, SimulatorProxy)
        wait_for_samples(pipeline.filtered, round(0.5 * RATE))  # both rings are fed: the filters run in the child
        resting = rms(pipeline.filtered, 0.5)

        pump.source.effort_percent = 80.0
        wait_until(lambda: pump.source.settled, what="the child to apply the effort")
        assert pump.source.effort_percent == 80.0  # the child's own state, published after it applied it
        wait_for_samples(pipeline.filtered, pipeline.filtered.write_index + round(0.6 * RATE))
        assert rms(pipeline.filtered, 0.5) > 5 * resting  # the patient in the child contracts
        pump.source.effort_percent = 250.0
        wait_until(lambda: pump.source.settled, what="the child to apply the effort")
        assert pump.source.effort_percent == 100.0  # clamped as the patient clamps it
    finally:
        pump.stop(5.0)
    assert not pump.running
    stopped = recorder.wait_for(events.STOPPED, timeout=5.0)
    assert stopped.sample_index == pipeline.raw.write_index == pipeline.filtered.write_index


def test_a_control_set_before_the_child_listens_reaches_it() -> None:
    """The effort slider moved while the previous pump is still letting go of its device is not lost."""
    bus = EventBus()
    recorder = EventLog(bus)
    pump = ProcessPump(simulated(0.0), FilterSettings(), bus)
    pump.source.effort_percent = 90.0
    pump.start()
    try:
        recorder.wait_for(events.CONNECTED, timeout=10.0)
        wait_until(lambda: pump.source.settled and pump.source.effort_percent == 90.0, what="the effort set early")
        wait_for_samples(pump.pipeline.filtered, round(1.0 * RATE))
        assert rms(pump.pipeline.filtered, 0.5) > 50.0  # a maximal contraction, not a resting muscle
    finally:
        pump.stop(5.0)


def test_a_replay_is_driven_through_its_proxy(shared_data: Path) -> None:
    path = shared_data / "mne_python" / "test.edf"
    pump, recorder = start(SourceSettings("replay", replay=ReplaySettings(file=str(path), speed=2.0)))
    try:
        recorder.wait_for(events.CONNECTED, timeout=10.0)
        source = pump.source
        assert isinstance(source, ReplayProxy)
        assert source.facts is not None and source.facts.path == path
        assert len(source.facts.annotations) == 5
        assert source.duration_s == pytest.approx(6.0) and source.speed == 2.0
        source.pause()
        wait_until(lambda: source.settled, what="the child to pause")
        held = wait_until_still(pump.pipeline.raw)
        assert source.paused
        source.seek(4.0)
        source.resume()
        wait_until(lambda: source.position_s > 4.2, what="the replay to play on from 4 s")
        wait_until(lambda: len(source.segments) == 2, what="the seek's segment")
        ring_index, file_sample = source.segments[-1]
        assert file_sample == round(4.0 * source.sample_rate)
        assert ring_index == pytest.approx(held, abs=source.sample_rate * 0.01)
        with pytest.raises(ValueError, match="at least one sample"):
            source.set_loop(3.0, 3.0)
        recorder.wait_for(events.SOURCE_ENDED, timeout=10.0)
        assert source.ended  # the state arrives before the event
    finally:
        pump.stop(5.0)


def test_a_file_that_cannot_be_replayed_is_reported(tmp_path: Path) -> None:
    broken = tmp_path / "broken.edf"
    broken.write_bytes(b"0       not an EDF header at all")
    pump, recorder = start(SourceSettings("replay", replay=ReplaySettings(file=str(broken))))
    failed = recorder.wait_for(events.CONNECT_FAILED, timeout=10.0)
    assert "broken.edf" in failed.message
    wait_until(lambda: not pump.running, what="the child to end")
    assert events.SOURCE_ERROR not in recorder.kinds()  # a failed connect is not also reported as a crash


def test_filters_changed_here_are_designed_in_the_child() -> None:
    pump, recorder = start(simulated(30.0))
    try:
        recorder.wait_for(events.CONNECTED, timeout=10.0)
        pump.set_filters(FilterSettings("custom", 500.0, 100.0, 0.0))
        warning = recorder.wait_for(events.WARNING, timeout=10.0)
        assert "below the low-frequency filter" in warning.message
        assert pump.pipeline.filters is None  # the filters run in the child: this side keeps no shadow copy
    finally:
        pump.stop(5.0)


def test_a_killed_acquisition_process_is_reported_and_its_rings_stay_readable() -> None:
    pump, recorder = start(simulated(20.0))
    recorder.wait_for(events.CONNECTED, timeout=10.0)
    pipeline = pump.pipeline
    wait_for_samples(pipeline.filtered, 100)  # read back below, after the kill
    names = [pipeline.raw.shared_name, pipeline.filtered.shared_name]
    assert all(owner_pid_of(name) == os.getpid() for name in names)  # this process owns them, not the child
    (child,) = _spawned_children()
    os.kill(child, signal.SIGKILL)
    error = recorder.wait_for(events.SOURCE_ERROR, timeout=10.0)
    assert "ended unexpectedly" in error.message and "-9" in error.message
    assert error.sample_index == pipeline.raw.write_index > 0
    assert remove_stale_blocks() == []  # the child is gone, but its rings are this process's
    assert all((SHM_DIR / name).exists() for name in names)
    SampleRing.attach(names[1], 2, pipeline.filtered.capacity)  # the audio process can still map it
    assert pipeline.filtered.latest(100)[1].shape == (2, 100)
    pump.stop(5.0)  # the relaying thread has let go of the pump
    del pipeline, pump
    gc.collect()
    assert not any((SHM_DIR / name).exists() for name in names)


def _spawned_children() -> list[int]:
    """PIDs of this process's multiprocessing children (Linux ``/proc``; the resource tracker is left out)."""
    children: list[int] = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        children += [int(pid) for pid in (task / "children").read_text().split()]
    return [pid for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]
