"""Real-time scheduling and the frozen startup heap: what the sound's deadlines rely on."""

from __future__ import annotations

import gc
import os
import threading

import pytest

from emgscope.core.realtime import ACQUISITION_PRIORITY, freeze_startup_heap, raise_priority


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
