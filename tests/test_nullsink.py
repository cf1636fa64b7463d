"""The test run's own sound card: a PulseAudio null sink must leave nothing behind when it stops."""

from __future__ import annotations

import os

import pytest

from emgscope.bench.nullsink import PulseNullSink, is_running

pytestmark = pytest.mark.timeout(60)
"""A private sound server is started and stopped: a hang fails its own test."""


def test_a_stopped_null_sink_leaves_no_daemon_and_no_folder() -> None:
    missing = PulseNullSink.missing_tools()
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")
    server = os.environ.get("PULSE_SERVER")
    with PulseNullSink() as sink:
        folder = sink.runtime_dir
        pid = int((folder / "pulse" / "pid").read_text().split()[0])
        assert is_running(pid) and os.environ["PULSE_SERVER"] == sink.env["PULSE_SERVER"]
    # Removing the folder while the daemon was still exiting left it behind (it wrote there again): 6 runs in 8.
    assert not is_running(pid)
    assert not folder.exists()
    assert os.environ.get("PULSE_SERVER") == server
