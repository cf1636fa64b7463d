"""The source options shared by the app and ``emgscope record``: choose and configure a source without dialogs."""

from __future__ import annotations

import argparse

from emgscope.acquisition.sim_patients import PatientError, muscle_case
from emgscope.core.log import LEVELS
from emgscope.core.settings import MAINS_HZ, PATHOLOGIES, Settings


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """Options that choose and configure the signal source without the GUI's dialogs."""
    group = parser.add_argument_group("source")
    group.add_argument(
        "--source",
        choices=("sim", "brainflow", "lsl"),
        help="simulated patient (default), BrainFlow, or a Lab Streaming Layer stream",
    )
    group.add_argument("--board", help="BrainFlow board id or name, e.g. 0, SYNTHETIC_BOARD, CYTON_BOARD")
    group.add_argument("--serial-port", help="BrainFlow: serial port, e.g. /dev/ttyUSB0")
    group.add_argument("--mac-address", help="BrainFlow: Bluetooth MAC address")
    group.add_argument("--ip-address", help="BrainFlow: IP address of a Wi-Fi or streaming board")
    group.add_argument("--ip-port", type=int, help="BrainFlow: IP port")
    group.add_argument("--serial-number", help="BrainFlow: device serial number")
    group.add_argument("--file", dest="bf_file", metavar="FILE", help="BrainFlow: file for the playback board")
    group.add_argument("--master-board", help="BrainFlow: the board that wrote the playback file")
    group.add_argument("--timeout", type=int, help="BrainFlow: discovery timeout in seconds")
    group.add_argument("--lsl-name", metavar="NAME", help="LSL: the name of the stream to take as the amplifier")
    group.add_argument(
        "--lsl-markers", metavar="NAME", help="LSL: a marker stream whose markers annotate the recording"
    )
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
    for option, attribute in (("lsl_name", "name"), ("lsl_markers", "markers")):
        value = getattr(args, option)
        if value is not None:
            setattr(source.lsl, attribute, value)
            if args.source is None:
                source.kind = "lsl"
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


def add_lsl_out_options(parser: argparse.ArgumentParser) -> None:
    """``--lsl-out``: publish the signal and the markers as LSL streams while a source runs (off by default)."""
    group = parser.add_argument_group("LSL out")
    group.add_argument(
        "--lsl-out", action="store_true", help="publish the signal (type EMG) and the markers (type Markers) on LSL"
    )
    group.add_argument(
        "--lsl-out-signal",
        choices=("filtered", "raw"),
        help="with --lsl-out: the filtered signal, as drawn and heard (default), or the raw one, as recorded",
    )
    group.add_argument("--lsl-out-name", metavar="NAME", help="with --lsl-out: the stream's name (default emgscope)")


def apply_lsl_out_options(args: argparse.Namespace, settings: Settings) -> bool:
    """Write the LSL out options into ``settings``; whether to publish from the start."""
    if args.lsl_out_signal is not None:
        settings.lsl_out.signal = args.lsl_out_signal
    if args.lsl_out_name is not None:
        if not args.lsl_out_name.strip():
            raise SystemExit("emgscope: --lsl-out-name must not be empty")
        settings.lsl_out.name = args.lsl_out_name.strip()
    return bool(args.lsl_out)


def add_log_option(parser: argparse.ArgumentParser) -> None:
    """``--log-level``: how much goes into the log file (INFO by default)."""
    parser.add_argument(
        "--log-level", choices=LEVELS, default="INFO", type=str.upper, help="how much to write to the log file"
    )


def _checked_patient(spec: str) -> str:
    """``spec`` if it names a teaching patient (and muscle) that loads; otherwise exit with the reason."""
    if not spec.strip():
        return ""
    try:
        muscle_case(spec)
    except PatientError as exc:
        raise SystemExit(f"emgscope: {exc}") from None
    return spec.strip()
