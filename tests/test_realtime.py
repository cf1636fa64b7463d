"""Real-time scheduling, the frozen startup heap and processors kept awake: what the sound's deadlines rely on."""

from __future__ import annotations

import gc
import os
import threading
from pathlib import Path

import pytest

from emgscope.core.realtime import (
    ACQUISITION_PRIORITY,
    UDEV_RULE,
    ProcessorsAwake,
    freeze_startup_heap,
    raise_priority,
)

pytestmark = pytest.mark.timeout(60)
"""Processes and threads ask for real-time treatment: a hang fails its own test."""

REPO = Path(__file__).resolve().parent.parent


def test_raise_priority_makes_only_the_calling_thread_real_time() -> None:
    seen: dict[str, object] = {}

    def worker() -> None:
        seen["granted"] = raise_priority(ACQUISITION_PRIORITY)
        seen["policy"] = os.sched_getscheduler(0)
        seen["priority"] = os.sched_getparam(0).sched_priority

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    if not seen["granted"]:
        pytest.skip("real-time scheduling is not permitted for this user (no rtprio limit)")
    assert seen["policy"] == os.SCHED_FIFO
    assert seen["priority"] == ACQUISITION_PRIORITY
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the test's own thread is untouched


def test_frozen_startup_heap_is_left_out_of_collections_and_garbage_still_goes() -> None:
    startup = [[i] for i in range(50_000)]  # lists are always tracked, like the window's objects
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() >= len(startup)
        assert len(gc.get_objects()) < 10_000  # what a full pass walks now
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1  # new garbage is collected as before
    finally:
        gc.unfreeze()


def test_processors_awake_holds_linux_to_a_zero_wakeup_latency_until_released(cpu_latency_in_force) -> None:
    before = cpu_latency_in_force()
    awake = ProcessorsAwake()
    assert awake.hold() and awake.held and awake.refusal == ""
    assert awake.hold()  # asking again while held changes nothing
    assert cpu_latency_in_force() == 0
    awake.release()
    awake.release()
    assert not awake.held
    assert cpu_latency_in_force() == before  # the kernel dropped the request with the file


def test_a_refused_request_says_what_to_do_and_the_rule_it_names_exists(tmp_path: Path) -> None:
    # A kernel without PM QoS has no such file: the same refusal as a user without permission, produced for real.
    awake = ProcessorsAwake(tmp_path / "cpu_dma_latency")
    assert not awake.hold() and not awake.held
    assert str(tmp_path / "cpu_dma_latency") in awake.refusal
    assert "No such file" in awake.refusal and UDEV_RULE in awake.refusal and "root" in awake.refusal
    awake.release()  # nothing held, nothing to do
    rule = (REPO / UDEV_RULE).read_text()
    assert 'KERNEL=="cpu_dma_latency", GROUP="audio", MODE="0660"' in rule
