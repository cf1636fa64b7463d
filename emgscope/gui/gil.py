"""Points in a frame where the GUI thread lets go of the GIL long enough for the acquisition thread to take it.

The sound is only as punctual as the writes to the ring, and the acquisition thread needs the GIL for each
write. Python hands the GIL over when a waiting thread has asked for it for a switch interval *and the holder
has not taken it again meanwhile*; painting the scope is a C++ call that calls back into Python items many
times, re-taking the GIL at each call, so a waiting thread never gets to ask and waits for the whole paint.
Measured with the window drawing 16 channels at 20 kHz (acquisition thread at real-time priority): the longest
gap between two writes to the ring was 7–8 ms; with a 0.1 ms pause before and after the paint and before the
trace raster is drawn, 5.5–6 ms. Each pause costs 0.1 ms of a 16 ms frame.
"""

from __future__ import annotations

import time

PAUSE_S = 0.0001
"""Long enough for a thread woken by the GIL's release (tens of µs) to take it before this one asks again."""


def let_acquisition_in() -> None:
    """Release the GIL for a moment, so a thread waiting for it gets it now rather than after the paint."""
    time.sleep(PAUSE_S)
