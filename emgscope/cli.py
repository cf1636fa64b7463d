"""The ``emgscope`` command: the GUI by default, and headless subcommands for scripts and tests.

``emgscope [FILE] [source options]`` opens the GUI. Each subcommand lives in its own module, which provides
``add_arguments(parser)`` and ``run(args) -> int``; this module only dispatches, so it never imports Qt unless the
GUI is asked for.
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import sys
from collections.abc import Sequence

from emgscope.core.about import version_text
from emgscope.session.options import add_log_option, add_lsl_out_options, add_source_options

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "bench": ("emgscope.bench.command", "measure the real-time figures and print them as JSON"),
    "info": ("emgscope.commands.info", "describe what a recording holds (EDF/BDF, WFDB, BrainFlow)"),
    "record": ("emgscope.commands.record", "record the raw signal to a BDF+/EDF+ file without the GUI"),
    "export": ("emgscope.commands.export", "copy a recording, optionally cut and de-identified"),
    "repair": ("emgscope.commands.repair", "repair recordings a crash left unfinished"),
    "export-audio": ("emgscope.commands.export_audio", "write what the loudspeaker would have played as a WAV file"),
    "muap": ("emgscope.commands.muap", "measure the motor unit potentials of a recording (multi-MUP analysis)"),
    "simcheck": ("emgscope.commands.simcheck", "compare the simulated patient with real needle EMG (PhysioNet emgdb)"),
    "patients": ("emgscope.commands.patients", "list the simulated teaching patients"),
    "report": ("emgscope.gui.report_command", "the exam's report (PDF, HTML) or its findings table as JSON"),
}


class _Version(argparse.Action):
    """``--version``: the version with the licence and the not-a-medical-device notice, kept as written (argparse's
    own version action would reflow it into one paragraph)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)  # type: ignore[arg-type]

    def __call__(self, parser: argparse.ArgumentParser, *_args: object) -> None:
        print(version_text())
        parser.exit()


def gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emgscope",
        description="Real-time needle-EMG monitor. Not a cleared medical device.",
        epilog="Subcommands: " + ", ".join(f"'emgscope {name}' ({help_})" for name, (_, help_) in SUBCOMMANDS.items()),
    )
    parser.add_argument("--version", action=_Version, help="show the version, the licence and the notice, and exit")
    parser.add_argument(
        "recording",
        nargs="?",
        metavar="FILE",
        help="a recording to replay: EDF/EDF+/BDF/BDF+, WFDB (.hea) or a BrainFlow file (--board names its board)",
    )
    add_source_options(parser)
    add_lsl_out_options(parser)
    parser.add_argument("--screenshot", metavar="PNG", help="run, save a picture of the main window, and exit")
    parser.add_argument("--seconds", type=float, default=3.0, help="with --screenshot: how long to run first")
    parser.add_argument("--no-settings", action="store_true", help="neither read nor save the settings file")
    add_log_option(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # The audio stream runs in a child process; in a frozen bundle the child must not start the app again.
    multiprocessing.freeze_support()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        name = argv.pop(0)
        module_name, help_ = SUBCOMMANDS[name]
        module = importlib.import_module(module_name)
        parser = argparse.ArgumentParser(prog=f"emgscope {name}", description=help_)
        module.add_arguments(parser)
        return int(module.run(parser.parse_args(argv)) or 0)
    args = gui_parser().parse_args(argv)
    from emgscope.gui.app import run_gui

    return run_gui(args)
