"""Real-time scheduling for the threads whose deadlines are the sound's: the acquisition pump and the audio stream.

On a machine with two cores the GUI thread, the display's painting and unrelated programs share the CPU with
them; an ordinary time-sliced thread can be kept waiting for several milliseconds, and every millisecond the
pump waits must be buffered before the loudspeaker, where it is heard as lag. Measured with the window drawing
16 channels at 20 kHz: the longest gap between two writes to the ring went from 11–17 ms to 5–7 ms once the
pump ran ``SCHED_FIFO``.
"""

from __future__ import annotations

import contextlib
import gc
import os

AUDIO_PRIORITY = 4
"""The audio stream's process: its deadline is one audio block. Below the sound server's own data thread
(PulseAudio's is 5 by default, PipeWire's higher), which our blocks feed and which must never wait for us."""
ACQUISITION_PRIORITY = 3
"""The acquisition process: below the audio stream it feeds, above every ordinary thread (real-time
priorities all come before them, whatever their value)."""


FALLBACK_NICE = -10
"""The nice value asked for where real-time scheduling is refused."""


def raise_priority(priority: int) -> bool:
    """Ask real-time scheduling for the calling thread (threads it starts inherit it); whether it was granted.

    Linux grants it to root and to users with an ``rtprio`` limit (``/etc/security/limits.conf``, or the
    ``audio`` group on most distributions). Where it is refused the thread asks for the nice value
    :data:`FALLBACK_NICE` (set, not added, so asking twice gives the same), and where that is refused too it runs
    as before: slower to be scheduled, not broken.
    """
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
        return True
    except (AttributeError, OSError):
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, 0, FALLBACK_NICE)  # on Linux, 0 is the calling thread
        return False


def freeze_startup_heap() -> None:
    """Leave everything that exists now (modules, Qt wrappers, the window) out of the garbage collector's passes.

    Python's full collection walks every tracked object while holding the GIL, and it comes whenever enough
    objects have outlived the younger generations, minutes apart. With the window open that is hundreds of
    thousands of objects: measured 66 ms once every ~30 s, a frame stalled each time. The acquisition and audio
    processes hold ~70,000 objects once numpy, scipy and their own modules are imported: 16–22 ms, which no
    audio buffer covers (the pump cannot write to the ring, the callback cannot fill its block). Frozen, the
    startup heap is never walked again; what is allocated later is collected as before. Called once by each
    process, when it is set up and before its deadlines begin.
    """
    gc.collect()
    gc.freeze()
