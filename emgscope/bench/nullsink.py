"""A real audio device with no sound card: a private PulseAudio daemon with a null sink.

The tests and ``emgscope bench`` need a PortAudio output that behaves like a sound card (its own clock, its own
buffering) on machines that have none, such as CI. This starts a user-mode PulseAudio daemon with its own
runtime folder and socket, so it never touches a desktop's sound server, loads only a null sink, keeps a stream
of silence playing into it (an idle null sink stalls new streams for up to two seconds), and points PortAudio's
ALSA ``pulse`` device at it through ``PULSE_SERVER``. What was played can be captured from ``<sink>.monitor``.

Packages (Debian): ``pulseaudio pulseaudio-utils libasound2-plugins`` (DESIGN §5).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

SINK = "emgscope_null"
NULL_SINK_DEVICE = "pulse"
"""The PortAudio (ALSA) output that plays into the null sink while it runs."""
RATE = 48_000
PACKAGES = "pulseaudio pulseaudio-utils libasound2-plugins"
START_TIMEOUT_S = 10.0
KEEPALIVE_LATENCY_MS = 20
STOP_TIMEOUT_S = 5.0
"""How long stopping waits for the daemon to exit: one still exiting writes into its folder after it is removed."""
"""Buffer asked for by the stream of silence that keeps the sink running. The null sink sleeps as long as its
lowest-latency stream allows; with only pacat's default 2 s buffer left (a low-latency stream that underran is
reconnected by ALSA's pulse plugin), it slept ~1.95 s before playing the reconnected stream again, which no
sound card does. At 20 ms an underrun costs a click, as on hardware."""


class NullSinkError(Exception):
    """The null sink could not be started; the message says why."""


def is_running(pid: int) -> bool:
    """Whether ``pid`` still runs. The daemon's parent is init, which may reap it seconds after it exited (1.8 s
    measured here), so an exited daemon still answers ``kill(pid, 0)``; its state in ``/proc`` says ``Z``."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


class PulseNullSink:
    """Start with :meth:`start` (or ``with``); :attr:`env` reaches the daemon from other processes."""

    def __init__(self) -> None:
        self.runtime_dir = Path()
        self.env: dict[str, str] = {}
        self._silence: subprocess.Popen[bytes] | None = None
        self._saved_server: str | None = None

    @staticmethod
    def missing_tools() -> list[str]:
        return [tool for tool in ("pulseaudio", "pacat", "parec") if shutil.which(tool) is None]

    def start(self) -> None:
        missing = self.missing_tools()
        if missing:
            raise NullSinkError(f"{', '.join(missing)} not found: install {PACKAGES}")
        self.runtime_dir = Path(tempfile.mkdtemp(prefix="emgscope-pulse-"))
        socket = self.runtime_dir / "native"
        self.env = dict(
            os.environ, XDG_RUNTIME_DIR=str(self.runtime_dir), HOME=str(self.runtime_dir), PULSE_SERVER=f"unix:{socket}"
        )
        script = self.runtime_dir / "null.pa"
        script.write_text(
            f"load-module module-native-protocol-unix auth-anonymous=1 socket={socket}\n"
            f"load-module module-null-sink sink_name={SINK} rate={RATE} channels=1\n"
            f"set-default-sink {SINK}\n",
            encoding="utf-8",
        )
        log = self.runtime_dir / "pulseaudio.log"
        # As root (CI) PulseAudio runs as a user daemon only with --system=false spelled out; -n skips the
        # system default.pa (which would probe for sound cards) and -F loads only the script above. Real-time
        # scheduling is what a desktop's PulseAudio asks for too (through rtkit); where it is refused the
        # daemon runs without it.
        command = [
            "pulseaudio",
            "--daemonize=yes",
            "--exit-idle-time=-1",
            "--system=false",
            "--use-pid-file=yes",
            "--high-priority=yes",
            "--realtime=yes",
            f"--log-target=file:{log}",
            "-n",
            "-F",
            str(script),
        ]
        result = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=START_TIMEOUT_S)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not socket.exists():
            if time.monotonic() > deadline:
                details = log.read_text(errors="replace") if log.exists() else ""
                self.stop()
                raise NullSinkError(f"PulseAudio did not start (exit {result.returncode}): {result.stderr}{details}")
            time.sleep(0.01)
        self._silence = subprocess.Popen(
            [
                "pacat",
                "--playback",
                "-d",
                SINK,
                f"--rate={RATE}",
                "--channels=1",
                "--format=s16le",
                f"--latency-msec={KEEPALIVE_LATENCY_MS}",
                "/dev/zero",
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._saved_server = os.environ.get("PULSE_SERVER")
        os.environ["PULSE_SERVER"] = self.env["PULSE_SERVER"]

    def stop(self) -> None:
        """Stop the silence, the daemon, and forget the folder (safe to call twice)."""
        if self._silence is not None:
            self._silence.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._silence.wait(5)
            self._silence = None
        pid_file = self.runtime_dir / "pulse" / "pid"
        if self.runtime_dir != Path() and pid_file.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                pid = int(pid_file.read_text().split()[0])
                os.kill(pid, signal.SIGTERM)
                deadline = time.monotonic() + STOP_TIMEOUT_S
                while is_running(pid) and time.monotonic() < deadline:
                    time.sleep(0.005)
        if self.env:
            if self._saved_server is None:
                os.environ.pop("PULSE_SERVER", None)
            else:
                os.environ["PULSE_SERVER"] = self._saved_server
            shutil.rmtree(self.runtime_dir, ignore_errors=True)
            self.env = {}

    def __enter__(self) -> PulseNullSink:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
