"""A clock the test moves by hand, for the paced sources (the simulated patient, replay).

Given to ``SimulatedSource(settings, clock=...)`` or ``ReplaySource(..., clock=...)`` it makes exactly the samples
the test advanced the clock by due, whatever else the machine is doing. Steps that are sums of powers of two
(1, 0.5, 0.0625, 2**-12 s) keep the clock's float exact, so ``int(elapsed × rate)`` is exact too.
"""

from __future__ import annotations


class FakeClock:
    """Seconds, monotonic; moves only by :meth:`advance`."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a monotonic clock does not go back")
        self.now += seconds
