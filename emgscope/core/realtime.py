"""Real-time scheduling for the threads whose deadlines are the sound's: the acquisition pump and the audio stream.

On a machine with two cores the GUI thread, the display's painting and unrelated programs share the CPU with
them; an ordinary time-sliced thread can be kept waiting for several milliseconds, and every millisecond the
pump waits must be buffered before the loudspeaker, where it is heard as lag. Measured with the window drawing
16 channels at 20 kHz: the longest gap between two writes to the ring went from 11–17 ms to 5–7 ms once the
pump ran ``SCHED_FIFO``. A thread that is first in line still waits for its processor to wake up:
:class:`ProcessorsAwake` asks Linux to keep idle processors from sleeping while sound plays.
"""

from __future__ import annotations

import contextlib
import gc
import grp
import os
import pwd
import struct
from dataclasses import dataclass
from pathlib import Path

from emgscope.core.paths import resource

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


CPU_LATENCY_REQUEST = Path("/dev/cpu_dma_latency")
"""Linux's PM QoS request for how fast an idle processor must wake: a value written to it (µs, as a 32-bit
integer) holds for as long as the file stays open, and ends with the process that opened it, however it ends."""
UDEV_RULE = "60-emgscope-cpu-latency.rules"
"""The rule that lets the ``audio`` group make that request without root: ``resources/udev/`` ships it, the Debian
package installs it in ``/usr/lib/udev/rules.d``, and the refusal message gives the command that installs it."""
UDEV_RULE_FOLDERS = (Path("/etc/udev/rules.d"), Path("/usr/lib/udev/rules.d"), Path("/lib/udev/rules.d"))
REQUEST_GROUP = "audio"
"""The group the rule gives the request to (its ``GROUP=``)."""
APPLY_RULE = "sudo udevadm trigger --sysname-match=cpu_dma_latency"
"""Applies an installed rule to the running system (udev applies it by itself at the next boot)."""


@dataclass(frozen=True)
class RequestAccess:
    """What stands between this user and the PM QoS request (read from the system by :meth:`of`)."""

    exists: bool
    rule_installed: bool
    rule_applied: bool
    """The request belongs to the rule's group (udev has applied the rule since it was installed)."""
    user: str
    joined: bool
    """The user is a member of the group in the group database."""
    in_session: bool
    """This login session has the group (a group joined later needs a new login)."""

    @classmethod
    def of(cls, request: Path) -> RequestAccess:
        try:
            group = grp.getgrnam(REQUEST_GROUP)
        except KeyError:
            group = None
        user = pwd.getpwuid(os.geteuid()).pw_name
        try:
            applied = group is not None and request.stat().st_gid == group.gr_gid
        except OSError:
            applied = False
        return cls(
            exists=request.exists(),
            rule_installed=any((folder / UDEV_RULE).is_file() for folder in UDEV_RULE_FOLDERS),
            rule_applied=applied,
            user=user,
            joined=group is not None and (user in group.gr_mem or os.getgid() == group.gr_gid),
            in_session=group is not None and group.gr_gid in os.getgroups(),
        )

    def fix(self) -> str:
        """What to do about a refused request: the exact command where one helps."""
        off = "or turn 'Keep processors awake' off in Output."
        if not self.exists:
            return "This kernel offers no such request (PM QoS): turn 'Keep processors awake' off in Output."
        commands = []
        if not self.rule_installed:
            commands.append(f"sudo install -m 644 {resource('udev', UDEV_RULE)} /etc/udev/rules.d/")
        if not self.rule_applied:
            commands.append(APPLY_RULE)
        if not self.joined:
            commands.append(f"sudo usermod -aG {REQUEST_GROUP} {self.user}")
        if commands:
            relogin = ", then log out and back in" if not self.joined else ""
            return f"To let {self.user} keep them awake, run: {' && '.join(commands)}{relogin}; {off}"
        if not self.in_session:
            return f"{self.user} joined the {REQUEST_GROUP} group after logging in: log out and back in; {off}"
        return f"Run emgscope as root; {off}"


class ProcessorsAwake:
    """Keeps the processors out of their idle states while held, so a real-time thread that sleeps wakes on time.

    An idle core sleeps between two audio blocks, and the platform decides how long it takes to wake. Measured on
    a virtual machine of the kind the tests run on, whose idle cores halt and are given back by the host: a
    real-time thread asking to wake every millisecond was up to 7.7 ms late, about five times a minute, with
    nothing else running, and the audio callback up to 9.6–19.5 ms late under the window's load, which no stream
    buffer short enough for a needle examination covers (2–5 underruns a minute). Held, the same thread was at
    most 1.6 ms late and the callback 2.5–4.7 ms, with no underrun. A request of 0 µs keeps the idle governor on its
    polling state: the idle cores spin instead of sleeping, which costs power and heat, so the audio monitor
    holds it only while sound plays and the operator can turn it off (``AudioSettings.keep_processors_awake``).
    """

    def __init__(self, request: Path | None = None) -> None:
        self.request = request or CPU_LATENCY_REQUEST
        self.refusal = ""
        """Why the request could not be made, in words the operator can act on ('' once held)."""
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def hold(self) -> bool:
        """Make the request (again a no-op while held); whether it is in force."""
        if self._fd is not None:
            return True
        try:
            fd = os.open(self.request, os.O_WRONLY)
            try:
                os.write(fd, struct.pack("=i", 0))
            except OSError:
                os.close(fd)
                raise
        except OSError as exc:
            self.refusal = (
                f"The processors may sleep between sound blocks, which can break the sound up: {self.request} "
                f"could not be written ({exc.strerror}). {RequestAccess.of(self.request).fix()}"
            )
            return False
        self._fd, self.refusal = fd, ""
        return True

    def release(self) -> None:
        """Let the processors sleep again (safe to call twice)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
