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

from emgscope import __version__
from emgscope.core.settings import MAINS_HZ, PATHOLOGIES, Settings

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "bench": ("emgscope.bench", "measure the real-time figures and print them as JSON"),
    "info": ("emgscope.replay.info_command", "describe what a recording holds (EDF/BDF, WFDB, BrainFlow)"),
    "record": ("emgscope.recording.cli_record", "record the raw signal to a BDF+/EDF+ file without the GUI"),
    "export": ("emgscope.recording.cli_export", "copy a recording, optionally cut and de-identified"),
    "repair": ("emgscope.recording.cli_repair", "repair recordings a crash left unfinished"),
    "export-audio": ("emgscope.audio.export", "write what the loudspeaker would have played as a WAV file"),
    "simcheck": ("emgscope.commands.simcheck", "compare the simulated patient with real needle EMG (PhysioNet emgdb)"),
    "patients": ("emgscope.commands.patients", "list the simulated teaching patients"),
}


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """Options that choose and configure the signal source without the GUI's dialogs."""
    group = parser.add_argument_group("source")
    group.add_argument("--source", choices=("sim", "brainflow"), help="simulated patient (default) or BrainFlow")
    group.add_argument("--board", help="BrainFlow board id or name, e.g. 0, SYNTHETIC_BOARD, CYTON_BOARD")
    group.add_argument("--serial-port", help="BrainFlow: serial port, e.g. /dev/ttyUSB0")
    group.add_argument("--mac-address", help="BrainFlow: Bluetooth MAC address")
    group.add_argument("--ip-address", help="BrainFlow: IP address of a Wi-Fi or streaming board")
    group.add_argument("--ip-port", type=int, help="BrainFlow: IP port")
    group.add_argument("--serial-number", help="BrainFlow: device serial number")
    group.add_argument("--file", dest="bf_file", metavar="FILE", help="BrainFlow: file for the playback board")
    group.add_argument("--master-board", help="BrainFlow: the board that wrote the playback file")
    group.add_argument("--timeout", type=int, help="BrainFlow: discovery timeout in seconds")
    group.add_argument("--pathology", choices=PATHOLOGIES, help="simulated patient: normal, myopathic or neurogenic")
    group.add_argument(
        "--patient",
        metavar="NAME[:MUSCLE]",
        help="simulated patient: a teaching patient ('emgscope patients' lists them), optionally one of its muscles",
    )
    group.add_argument("--effort", type=float, metavar="PERCENT", help="simulated patient: starting effort, 0-100 %%")
    group.add_argument("--rate", type=float, metavar="HZ", help="simulated patient: sample rate (default 20000)")
    group.add_argument("--channels", type=int, help="simulated patient: number of needle channels")
    group.add_argument("--seed", type=int, help="simulated patient: random seed (same seed, same patient)")
    group.add_argument(
        "--mains",
        type=float,
        choices=MAINS_HZ,
        metavar="0|50|60",
        help="simulated patient: mains hum at 50 or 60 Hz, with its third harmonic (0: none)",
    )


def apply_source_options(args: argparse.Namespace, settings: Settings) -> None:
    """Write the source options given on the command line into ``settings`` (the rest keep their values)."""
    source = settings.source
    if args.source:
        source.kind = args.source
    recording = getattr(args, "recording", None)
    if recording:
        source.kind = "replay"
        source.replay.file = recording
        source.replay.board = args.board or ""
        return
    bf = source.brainflow
    for option, attribute in (
        ("board", "board"),
        ("serial_port", "serial_port"),
        ("mac_address", "mac_address"),
        ("ip_address", "ip_address"),
        ("ip_port", "ip_port"),
        ("serial_number", "serial_number"),
        ("bf_file", "file"),
        ("master_board", "master_board"),
        ("timeout", "timeout"),
    ):
        value = getattr(args, option)
        if value is not None:
            setattr(bf, attribute, value)
            if args.source is None:
                source.kind = "brainflow"
    sim = source.simulator
    if args.pathology is not None:
        sim.pathology = args.pathology
        sim.patient = ""
    if args.patient is not None:
        sim.patient = _checked_patient(args.patient)
    if args.effort is not None:
        if not 0 <= args.effort <= 100:
            raise SystemExit("emgscope: --effort must be between 0 and 100 %")
        sim.effort_percent = args.effort
    if args.rate is not None:
        if args.rate <= 0:
            raise SystemExit("emgscope: --rate must be positive")
        sim.sample_rate = args.rate
    if args.channels is not None:
        if not 1 <= args.channels <= 64:
            raise SystemExit("emgscope: --channels must be between 1 and 64")
        sim.channels = args.channels
    if args.seed is not None:
        sim.seed = args.seed
    if args.mains is not None:
        sim.mains_hz = args.mains


def _checked_patient(spec: str) -> str:
    """``spec`` if it names a teaching patient (and muscle) that loads; otherwise exit with the reason."""
    if not spec.strip():
        return ""
    from emgscope.acquisition.sim_patients import PatientError, muscle_case

    try:
        muscle_case(spec)
    except PatientError as exc:
        raise SystemExit(f"emgscope: {exc}") from None
    return spec.strip()


def gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emgscope",
        description="Real-time needle-EMG monitor. Not a cleared medical device.",
        epilog="Subcommands: " + ", ".join(f"'emgscope {name}' ({help_})" for name, (_, help_) in SUBCOMMANDS.items()),
    )
    parser.add_argument("--version", action="version", version=f"emgscope {__version__}")
    parser.add_argument(
        "recording",
        nargs="?",
        metavar="FILE",
        help="a recording to replay: EDF/EDF+/BDF/BDF+, WFDB (.hea) or a BrainFlow file (--board names its board)",
    )
    add_source_options(parser)
    parser.add_argument("--screenshot", metavar="PNG", help="run, save a picture of the main window, and exit")
    parser.add_argument("--seconds", type=float, default=3.0, help="with --screenshot: how long to run first")
    parser.add_argument("--no-settings", action="store_true", help="neither read nor save the settings file")
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
