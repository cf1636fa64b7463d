"""Real-time scheduling, the frozen startup heap and processors kept awake: what the sound's deadlines rely on."""

from __future__ import annotations

import gc
import os
import pwd
import threading
from pathlib import Path

import pytest

from emgscope.core.paths import resource
from emgscope.core.realtime import (
    ACQUISITION_PRIORITY,
    APPLY_RULE,
    CPU_LATENCY_REQUEST,
    UDEV_RULE,
    ProcessorsAwake,
    RequestAccess,
    freeze_startup_heap,
    raise_priority,
)

pytestmark = pytest.mark.timeout(60)
"""Processes and threads ask for real-time treatment: a hang fails its own test."""


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


def test_a_request_the_kernel_does_not_offer_is_refused_with_no_command_that_cannot_help(tmp_path: Path) -> None:
    # A kernel without PM QoS has no such file: produced for real with a path that does not exist.
    awake = ProcessorsAwake(tmp_path / "cpu_dma_latency")
    assert not awake.hold() and not awake.held
    assert str(tmp_path / "cpu_dma_latency") in awake.refusal and "No such file" in awake.refusal
    assert "sudo" not in awake.refusal and "'Keep processors awake' off" in awake.refusal
    awake.release()  # nothing held, nothing to do


def _access(**changes: object) -> RequestAccess:
    facts = {"exists": True, "rule_installed": True, "rule_applied": True, "user": "alice", "joined": True}
    return RequestAccess(**{**facts, "in_session": True, **changes})  # type: ignore[arg-type]


def test_the_fix_for_a_refused_request_is_the_exact_command_for_what_is_missing() -> None:
    rule = resource("udev", UDEV_RULE)
    assert 'KERNEL=="cpu_dma_latency", GROUP="audio", MODE="0660"' in rule.read_text()
    nothing = _access(rule_installed=False, rule_applied=False, joined=False, in_session=False).fix()
    assert (
        f"run: sudo install -m 644 {rule} /etc/udev/rules.d/ && {APPLY_RULE} && sudo usermod -aG audio alice, "
        "then log out and back in;"
    ) in nothing
    assert "run: sudo usermod -aG audio alice, then log out and back in;" in _access(joined=False).fix()
    assert f"run: {APPLY_RULE};" in _access(rule_applied=False).fix()  # installed, not applied since
    assert "log out and back in" in _access(in_session=False).fix() and "sudo" not in _access(in_session=False).fix()


def _refusal_as(user: pwd.struct_passwd) -> str:
    """The refusal a process of ``user`` gets (root drops to that user in a forked child)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            awake = ProcessorsAwake()
            awake.hold()
            os.write(write, awake.refusal.encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, encoding="utf-8") as pipe:
        refusal = pipe.read()
    os.waitpid(pid, 0)
    return refusal


def test_a_user_without_the_audio_group_is_told_the_command_that_adds_them() -> None:
    # Produced for real: the request refused to an ordinary user (as root, the check runs as nobody).
    if not CPU_LATENCY_REQUEST.exists():
        pytest.skip(f"this kernel offers no {CPU_LATENCY_REQUEST}")
    if os.geteuid() == 0:
        user = pwd.getpwnam("nobody")
        refusal = _refusal_as(user)
    elif os.access(CPU_LATENCY_REQUEST, os.W_OK):
        pytest.skip(f"this user may write {CPU_LATENCY_REQUEST}: nothing is refused")
    else:
        user = pwd.getpwuid(os.geteuid())
        awake = ProcessorsAwake()
        awake.hold()
        refusal = awake.refusal
    assert "Permission denied" in refusal
    assert f"sudo usermod -aG audio {user.pw_name}, then log out and back in" in refusal
