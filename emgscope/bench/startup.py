"""Start-up time: from launching the app to the first frame it draws with samples in it.

The app is launched as a user would launch it, as a new process from a folder outside the checkout, on the
simulated patient, with a display if there is one and offscreen otherwise; it reports when it reached each stage
(:mod:`emgscope.gui.startup_report`) and is then closed the normal way (SIGTERM). By default the command is the one
running this measurement: the installed bundle when the bench runs from it, ``python -m emgscope`` from a
checkout or a wheel; ``command`` measures another (``["/usr/bin/emgscope"]`` for the installed package).
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from emgscope.gui.startup_report import REPORT_VARIABLE, STAGES

STARTUP_BAR_S = 3.0
"""Launch to first drawn frame on the 2-core test machine (issue 16)."""
REPORT_TIMEOUT_S = 30.0
EXIT_TIMEOUT_S = 10.0


def app_command() -> list[str]:
    """The command that starts this very app: the bundle's executable when frozen, else this interpreter."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "emgscope"]


def launch_once(command: Sequence[str]) -> dict[str, float]:
    """One start: seconds from launch to each stage (``STAGES``)."""
    with tempfile.TemporaryDirectory(prefix="emgscope-startup-") as folder:
        report = Path(folder) / "startup.json"
        env = dict(os.environ, EMGSCOPE_CONFIG_DIR=str(Path(folder) / "config"), **{REPORT_VARIABLE: str(report)})
        if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
            env["QT_QPA_PLATFORM"] = "offscreen"
        launched = time.monotonic()
        app = subprocess.Popen(
            [*command, "--no-settings"],
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = launched + REPORT_TIMEOUT_S
            while not report.exists():
                if app.poll() is not None:
                    raise RuntimeError(f"the app exited ({app.returncode}) before drawing: {app.stderr.read()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the app drew no frame within {REPORT_TIMEOUT_S:.0f} s")
                time.sleep(0.01)
            stages = json.loads(report.read_text(encoding="utf-8"))
        finally:
            app.send_signal(signal.SIGTERM)
            try:
                app.wait(EXIT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                app.kill()
                app.wait()
            app.stderr.close()
    return {stage: stages[stage] - launched for stage in STAGES}


def measure_startup(runs: int = 3, command: Sequence[str] | None = None) -> dict[str, float]:
    """Median seconds over ``runs`` starts: ``startup_s`` to the first drawn frame, and to each stage before it.

    ``startup_gui_s``: the interpreter and the command line are up; ``startup_window_s``: the window is shown;
    ``startup_connected_s``: the simulated patient delivers samples through the acquisition process.
    """
    starts = [launch_once(command or app_command()) for _ in range(runs)]
    median = {stage: round(statistics.median(start[stage] for start in starts), 2) for stage in STAGES}
    return {
        "startup_s": median["first_frame"],
        "startup_gui_s": median["gui"],
        "startup_window_s": median["window"],
        "startup_connected_s": median["connected"],
    }


if __name__ == "__main__":
    print(json.dumps(measure_startup(command=sys.argv[1:] or None)))
