"""LSL on this machine's loopback only: a network namespace of its own, and a liblsl configuration that keeps
discovery on the machine.

LSL finds streams by multicast and broadcast to addresses beyond loopback. The benchmark and the tests must send
no LSL packet off this machine, so each LSL measurement and test runs in a process that

* lives in a network namespace of its own (``unshare --net``) whose only interface is loopback, brought up here
  (with ``SIOCSIFFLAGS``, so ``ip`` need not be installed), and
* points liblsl at a configuration file (``LSLAPICFG``) that keeps discovery on the machine
  (``ResolveScope = machine`` under ``[multicast]``) and turns IPv6 off (``[ports]``).

Either alone would do; both make a mistake in one harmless. Code about to use LSL for a test or a measurement asks
:func:`problem` first and refuses to go on when the process is not so confined: it never falls back to the real
network. :func:`confined_command` gives the command line that runs a command so confined (``python -m
emgscope.bench.loopback CMD...`` is the step inside the new namespace). The app itself keeps liblsl's defaults:
a lab's streams are found at its site's scope.
"""

from __future__ import annotations

import configparser
import contextlib
import fcntl
import os
import shutil
import socket
import struct
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

CONFIG_ENV = "LSLAPICFG"
"""The environment variable liblsl reads its configuration file's path from (before any other place)."""
CONFIG_TEXT = "[ports]\nIPv6 = disable\n\n[multicast]\nResolveScope = machine\n"
"""Discovery by the machine's own multicast group only, on IPv4: nothing is sent to a link, site or global group."""
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1


def problem() -> str | None:
    """Why this process may not use LSL for a test or a measurement, in one sentence; ``None`` when it may."""
    names = sorted(name for _, name in socket.if_nameindex())
    if names != ["lo"]:
        return (
            f"this process is not in a network namespace of its own (interfaces: {', '.join(names)}); run it with "
            f"{' '.join(confined_command(['...']))}"
        )
    if not _loopback_up():
        return "the loopback interface of this network namespace is down"
    path = os.environ.get(CONFIG_ENV, "")
    if not path:
        return f"{CONFIG_ENV} is not set, so liblsl would discover at its default (site) scope"
    config = configparser.ConfigParser()
    try:
        with open(path, encoding="utf-8") as file:
            config.read_file(file)
    except (OSError, configparser.Error) as exc:
        return f"the liblsl configuration {path} cannot be read: {exc}"
    scope = config.get("multicast", "ResolveScope", fallback="site").strip()
    ipv6 = config.get("ports", "IPv6", fallback="allow").strip()
    if scope != "machine" or ipv6 != "disable":
        return f"the liblsl configuration {path} must set ResolveScope = machine and IPv6 = disable"
    return None


def confined_command(argv: list[str]) -> list[str]:
    """The command line that runs ``argv`` in a new network namespace with loopback up (as root, or as a user
    where unprivileged user namespaces are allowed). :data:`CONFIG_ENV` must name a file with :data:`CONFIG_TEXT`
    (:func:`lsl_config`)."""
    unshare = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user", "--net"]
    return [*unshare, "--", sys.executable, "-m", __name__, *argv]


@contextlib.contextmanager
def lsl_config() -> Iterator[dict[str, str]]:
    """A private liblsl configuration file for as long as the block runs; yields the environment that names it."""
    folder = tempfile.mkdtemp(prefix="emgscope-lsl-")
    try:
        path = Path(folder) / "lsl_api.cfg"
        path.write_text(CONFIG_TEXT, encoding="utf-8")
        yield {**os.environ, CONFIG_ENV: str(path)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _loopback_flags(request: int, flags: int = 0) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        answer = fcntl.ioctl(sock.fileno(), request, struct.pack("16sh", b"lo", flags))
    return struct.unpack("16sh", answer[:18])[1]


def _loopback_up() -> bool:
    return bool(_loopback_flags(_SIOCGIFFLAGS) & _IFF_UP)


def main(argv: list[str]) -> int:
    """Inside the new namespace: bring loopback up, check the confinement, and become ``argv``."""
    if not argv:
        print("usage: unshare --net -- python -m emgscope.bench.loopback CMD [ARG...]", file=sys.stderr)
        return 2
    try:
        _loopback_flags(_SIOCSIFFLAGS, _loopback_flags(_SIOCGIFFLAGS) | _IFF_UP)
    except OSError as exc:
        print(f"loopback: cannot bring the loopback interface up: {exc}", file=sys.stderr)
        return 1
    reason = problem()
    if reason is not None:
        print(f"loopback: refusing to run {argv[0]}: {reason}", file=sys.stderr)
        return 1
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
