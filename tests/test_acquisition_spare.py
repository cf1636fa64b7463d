"""The acquisition process started ahead of the first connection (emgscope/acquisition/spare.py): the first
connection runs in it, a later one in a process of its own, and one no connection took is stopped. Real spawned
processes; nothing is faked."""

from __future__ import annotations

import pytest
from support.events import EventLog
from support.waiting import wait_for_samples, wait_until

from emgscope.acquisition import spare
from emgscope.acquisition.process import ProcessPump
from emgscope.core import events
from emgscope.core.events import EventBus
from emgscope.core.settings import FilterSettings, SimulatorSettings, SourceSettings

RATE = 20_000.0

pytestmark = pytest.mark.timeout(60)
"""Every test here runs a child process: one that hangs fails its own test, not the run."""


@pytest.fixture(autouse=True)
def no_spare_left():
    yield
    spare.discard_spare()


def connect() -> tuple[ProcessPump, EventLog]:
    bus = EventBus()
    log = EventLog(bus)
    settings = SourceSettings(simulator=SimulatorSettings(channels=2, sample_rate=RATE))
    pump = ProcessPump(settings, FilterSettings(), bus)
    pump.start()
    log.wait_for(events.CONNECTED, timeout=30.0)
    return pump, log


def test_the_first_connection_runs_in_the_spare_and_the_next_in_a_new_process() -> None:
    spare.prestart()
    waiting = spare._Spare.child
    assert waiting is not None and waiting.alive
    spare.prestart()  # once only
    assert spare._Spare.child is waiting
    pump, _ = connect()
    try:
        assert pump._child is waiting  # the spare took the task
        assert spare.take_spare() is None
        wait_for_samples(pump.pipeline.filtered, round(0.2 * RATE))
    finally:
        pump.stop(5.0)
    assert not waiting.alive
    again, _ = connect()
    try:
        assert again._child is not None and again._child is not waiting
        wait_for_samples(again.pipeline.filtered, round(0.2 * RATE))
    finally:
        again.stop(5.0)


def test_a_spare_no_connection_took_is_stopped() -> None:
    spare.prestart()
    waiting = spare._Spare.child
    assert waiting is not None
    spare.discard_spare()
    assert not waiting.alive and waiting.exitcode is not None
    assert spare.take_spare() is None


def test_a_spare_that_died_is_passed_over_and_the_connection_starts_its_own() -> None:
    """A process killed while it waited (a fault that cannot be produced otherwise)."""
    spare.prestart()
    waiting = spare._Spare.child
    assert waiting is not None
    waiting._process.kill()
    wait_until(lambda: not waiting.alive, timeout=10.0)
    pump, _ = connect()
    try:
        assert pump._child is not waiting
        wait_for_samples(pump.pipeline.filtered, round(0.2 * RATE))
    finally:
        pump.stop(5.0)
