"""Real-time scheduling for the threads whose deadlines are the sound's: the acquisition pump and the audio stream.

On a machine with two cores the GUI thread, the display's painting and unrelated programs share the CPU with
them; an ordinary time-sliced thread can be kept waiting for several milliseconds, and every millisecond the
pump waits must be buffered before the loudspeaker, where it is heard as lag. Measured with the window drawing
16 channels at 20 kHz: the longest gap between two writes to the ring went from 11–17 ms to 5–7 ms once the
pump ran ``SCHED_FIFO``.
"""

from __future__ import annotations

import contextlib
import os

AUDIO_PRIORITY = 20
"""The audio stream's process: its deadline is one audio block."""
ACQUISITION_PRIORITY = 10
"""The acquisition thread: below the audio stream it feeds, above ordinary work and below the kernel's own
interrupt threads (50)."""


def raise_priority(priority: int) -> bool:
    """Ask real-time scheduling for the calling thread (threads it starts inherit it); whether it was granted.

    Linux grants it to root and to users with an ``rtprio`` limit (``/etc/security/limits.conf``, or the
    ``audio`` group on most distributions). Where it is refused the thread asks for a better nice value, and
    where that is refused too it runs as before: slower to be scheduled, not broken.
    """
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
        return True
    except (AttributeError, OSError):
        with contextlib.suppress(AttributeError, OSError):
            os.nice(-10)
        return False
