"""Waiting for what a test really waits for, outside Qt (in Qt tests ``qtbot.waitUntil`` does this).

A wait returns as soon as its condition holds, so the timeouts here are generous: they cost nothing on an idle
machine and keep a test from failing only because a loaded one was slow.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from emgscope.core.ring import SampleRing

POLL_S = 0.005


def wait_until(condition: Callable[[], object], timeout: float = 10.0, what: str = "the condition") -> None:
    """Return once ``condition()`` is true; fail the test, naming ``what``, after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(POLL_S)


def wait_for_samples(ring: SampleRing, count: int, timeout: float = 10.0) -> None:
    """Return once ``ring`` holds ``count`` samples in all (its write index has reached ``count``)."""
    wait_until(lambda: ring.write_index >= count, timeout, f"{count} samples (written: {ring.write_index})")


def wait_until_still(ring: SampleRing, quiet_s: float = 0.3, timeout: float = 10.0) -> int:
    """Return the write index once ``ring`` has not grown for ``quiet_s``; fail if it keeps growing.

    How a test sees that a stream stopped (a paused replay): a chunk the pump read just before the pause may
    still be written after it, so "no sample for a while" is the observable, not "no sample from now on".
    """
    deadline = time.monotonic() + timeout
    index, since = ring.write_index, time.monotonic()
    while time.monotonic() - since < quiet_s:
        if time.monotonic() > deadline:
            pytest.fail(f"the stream did not stop within {timeout:g} s (written: {ring.write_index})")
        time.sleep(POLL_S)
        if ring.write_index != index:
            index, since = ring.write_index, time.monotonic()
    return index
