"""The composition root of the GUI: settings, the Qt application, the main window, the source.

``emgscope`` (no subcommand) lands here through :func:`emgscope.cli.main`. Without a display the app can still
run for ``--screenshot`` (Qt's offscreen platform renders real widgets); asked to show a window with no display
it says so in one line rather than letting Qt abort.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from typing import TYPE_CHECKING

from emgscope import __version__
from emgscope.acquisition.spare import discard_spare, prestart
from emgscope.core import events, log
from emgscope.core.events import Event
from emgscope.core.paths import resource
from emgscope.core.realtime import freeze_startup_heap
from emgscope.core.settings import LoadedSettings, Settings, load_settings, save_settings
from emgscope.core.shm import remove_stale_blocks
from emgscope.session.options import apply_lsl_out_options, apply_source_options

if TYPE_CHECKING:
    from PyQt6.QtWidgets import QWidget

SIGNAL_POLL_MS = 200
SCREENSHOT_WAIT_S = 30.0
"""``--screenshot`` waits at most this long for the source to answer before it takes the picture anyway."""
SOURCE_ANSWERS = (events.CONNECTED, events.CONNECT_FAILED)
NO_DISPLAY_MESSAGE = (
    "emgscope: no display found (DISPLAY/WAYLAND_DISPLAY unset); use --screenshot PNG to run without one"
)


class _TerminationRequest:
    """SIGTERM or Ctrl+C received before the window existed: it closes as soon as it does."""

    requested = False

    @classmethod
    def note(cls, _signum: int, _frame: object) -> None:
        cls.requested = True


def _close_on_termination(window: QWidget) -> None:
    """SIGTERM or Ctrl+C close the window the normal way: a recording is finished, the audio process ended.

    Python runs signal handlers only between bytecodes, and the Qt event loop is C++; a short idle timer gives
    the interpreter a moment to notice the signal.
    """
    from PyQt6.QtCore import QTimer

    def close(_signum: int, _frame: object) -> None:
        window.close()

    signal.signal(signal.SIGTERM, close)
    signal.signal(signal.SIGINT, close)
    if _TerminationRequest.requested:
        QTimer.singleShot(0, window.close)
    heartbeat = QTimer(window)
    heartbeat.timeout.connect(lambda: None)
    heartbeat.start(SIGNAL_POLL_MS)


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_gui(args: argparse.Namespace) -> int:
    """Run the app; with ``--screenshot`` run ``--seconds``, save a PNG of the main window and exit."""
    started = time.monotonic()
    if args.screenshot and args.seconds < 0:
        print("emgscope: --seconds must not be negative", file=sys.stderr)
        return 2
    if not has_display() and os.environ.get("QT_QPA_PLATFORM", "").split(":")[0] != "offscreen":
        if not args.screenshot:
            print(NO_DISPLAY_MESSAGE, file=sys.stderr)
            return 2
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _TerminationRequest.note)
    log.setup(args.log_level)
    log.logger(__name__).info("emgscope %s starting", __version__)
    remove_stale_blocks()  # a crashed run's rings would otherwise hold RAM until the machine restarts
    loaded = LoadedSettings(Settings()) if args.no_settings else load_settings()
    settings = loaded.settings
    live_kind = settings.source.kind if settings.source.kind != "replay" else "sim"
    apply_source_options(args, settings)
    lsl_out = apply_lsl_out_options(args, settings)
    prestart()  # the acquisition process imports while the window does (emgscope.acquisition.spare)

    from PyQt6.QtCore import QTimer
    from PyQt6.QtGui import QIcon
    from PyQt6.QtWidgets import QApplication

    from emgscope.gui.about_dialog import show_notice_once
    from emgscope.gui.main_window import MainWindow
    from emgscope.gui.placement import show_on_screen, virtual_screen_platform
    from emgscope.gui.startup_report import StartupReport
    from emgscope.gui.theme import apply_theme

    if os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = virtual_screen_platform(os.environ["QT_QPA_PLATFORM"])
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("emgscope")
    app.setDesktopFileName("emgscope")
    app.setWindowIcon(QIcon(str(resource("icons", "emgscope.svg"))))
    apply_theme(app)
    window = MainWindow(settings)
    show_on_screen(window)
    window.session.lsl_out.set_enabled(lsl_out)
    window.lsl.sync()
    report = StartupReport.from_environment(started)
    if report is not None:
        report.watch(window)
    window.start()
    if loaded.notice:
        window.show_notice(loaded.notice)
    if not args.screenshot:
        show_notice_once(window, settings)
    freeze_startup_heap()
    _close_on_termination(window)
    status = 0
    if args.screenshot:

        def shoot() -> None:
            nonlocal status
            if not window.grab().save(args.screenshot):
                print(f"emgscope: could not write the screenshot to {args.screenshot}", file=sys.stderr)
                status = 1
            window.close()

        # The seconds count from the source's answer (connected or refused), not from launch: a loaded machine
        # takes longer to start the acquisition process, and the picture is of the running app.
        countdown = QTimer(window)
        countdown.setSingleShot(True)
        countdown.timeout.connect(shoot)

        def answered(event: Event) -> None:
            if event.kind in SOURCE_ANSWERS and not countdown.isActive():
                countdown.start(round(args.seconds * 1000))

        window.bridge.event.connect(answered)
        QTimer.singleShot(round((SCREENSHOT_WAIT_S + args.seconds) * 1000), shoot)
    app.exec()
    if not window.isHidden():
        window.close()
    discard_spare()
    if not args.no_settings:
        if settings.source.kind == "replay":
            # A replay is one visit to a file, not the source to start with next time.
            settings.source.kind = live_kind
        try:
            save_settings(settings)
        except OSError as exc:
            print(f"emgscope: the settings could not be saved: {exc}", file=sys.stderr)
    return status
