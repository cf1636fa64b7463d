"""Test set-up shared by every test: Qt offscreen, a private config folder, the third-party data folder."""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from emgscope.core.realtime import CPU_LATENCY_REQUEST

# Without a display pytest-qt would abort the whole run; offscreen Qt renders real widgets without one.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytest_plugins = ["support.audio_sink", "support.theme"]
"""A real audio device with no sound card: the PulseAudio null sink the audio tests play into; and ``themed``, the
app's dark theme on the test's QApplication."""

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("EMGSCOPE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(autouse=True)
def private_config_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets an empty config folder and a log folder of its own, so no test reads the developer's own
    settings, and no run (an app it starts included) writes to the developer's log or rotates it under another."""
    folder = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("EMGSCOPE_CONFIG_DIR", str(folder))
    monkeypatch.setenv("EMGSCOPE_LOG_DIR", str(tmp_path_factory.mktemp("log")))
    return folder


@pytest.fixture
def shared_data() -> Path:
    """The third-party test data folder (../shared/data); tests that need it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"third-party test data not found at {SHARED_DATA}: set EMGSCOPE_SHARED_DATA to the folder")
    return SHARED_DATA


@pytest.fixture
def cpu_latency_in_force() -> Callable[[], int]:
    """Reads the CPU wake-up latency (µs) Linux now holds the idle governor to, the strictest of all processes'
    requests; tests that make requests of their own skip where this user may not (root or the udev rule)."""
    if not os.access(CPU_LATENCY_REQUEST, os.W_OK):
        pytest.skip(f"PM QoS requests need write access to {CPU_LATENCY_REQUEST} (root, or the udev rule's group)")

    def read() -> int:
        with CPU_LATENCY_REQUEST.open("rb") as request:
            return struct.unpack("=i", request.read(4))[0]

    return read
