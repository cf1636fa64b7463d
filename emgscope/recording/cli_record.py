"""``emgscope record``: record the raw signal of any source to a BDF+/EDF+ file without the GUI.

For scripted acquisition and for tests: the same source, pump and recorder the GUI uses, driven from the
command line. Ctrl+C (or SIGTERM) stops the recording cleanly; ``kill -9`` leaves a file that the next
``emgscope repair`` (or the app's start-up) rebuilds.

``emgscope record --protocol NAME --out FILE [--pathology …]`` runs a whole guided exam headless on the simulated
patient (:mod:`emgscope.recording.headless_exam`) and writes a labelled recording with its summary CSV.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from datetime import date, datetime
from pathlib import Path

from emgscope.acquisition.factory import make_source
from emgscope.acquisition.pump import AcquisitionPump
from emgscope.acquisition.sim_patients import exam_muscles
from emgscope.acquisition.sim_truth import ground_truth_beside, keep_ground_truth
from emgscope.cli import add_source_options, apply_source_options
from emgscope.core import events
from emgscope.core.events import Event, EventBus
from emgscope.core.settings import Settings, load_settings
from emgscope.core.shm import remove_stale_blocks
from emgscope.protocol.loader import ProtocolError, load_protocol, protocols_dir
from emgscope.protocol.model import Protocol
from emgscope.protocol.sim_patient_driver import COMPLIANCE_PRESETS
from emgscope.recording.edfplus import FormatError
from emgscope.recording.headless_exam import HeadlessExamError, record_exam
from emgscope.recording.naming import session_file
from emgscope.recording.recorder import Recorder
from emgscope.recording.session import SIDES, SessionInfo, applied_filters
from emgscope.recording.settings import FORMATS, RecordingSettings

CONNECT_TIMEOUT_S = 30.0
"""Longer than BrainFlow's slowest connect (about 6 s on a silent serial device)."""
END_EVENTS = (events.CONNECT_FAILED, events.SOURCE_ERROR, events.SOURCE_ENDED, events.STOPPED)
OPERATOR_S = 6.0
"""Headless exam: signal after which a step that waits for the operator is advanced."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seconds", type=float, help="how long to record (required without --protocol; with it, an optional limit)"
    )
    parser.add_argument(
        "--protocol",
        metavar="NAME",
        help="run this guided exam (a shipped protocol's name, e.g. needle_one_muscle, or a .toml file) headless "
        "on the simulated patient and write a labelled recording with its summary CSV",
    )
    parser.add_argument(
        "--muscles",
        metavar="MUSCLE[:SIDE],...",
        help="with --protocol: muscles and sides to examine (default: the protocol's first muscle)",
    )
    parser.add_argument(
        "--compliance",
        choices=tuple(COMPLIANCE_PRESETS),
        default="compliant",
        help="with --protocol: how the simulated patient follows the prompts",
    )
    parser.add_argument(
        "--operator-seconds",
        type=float,
        default=OPERATOR_S,
        help="with --protocol: advance a step that waits for the operator after this much signal",
    )
    parser.add_argument("--out", type=Path, help="the file to write (default: a new name in the sessions folder)")
    parser.add_argument("--folder", type=Path, help="sessions folder for the default file name")
    parser.add_argument("--format", choices=FORMATS, default="bdf", help="bdf (BDF+, 24-bit, default) or edf (EDF+)")
    parser.add_argument("--patient-id", default="", help="patient ID (EDF+ patient code)")
    parser.add_argument("--name", default="", help="patient name")
    parser.add_argument("--birthdate", type=date.fromisoformat, help="patient birth date, YYYY-MM-DD")
    parser.add_argument("--sex", choices=("F", "M"), help="patient sex")
    parser.add_argument("--operator", default="", help="who runs the examination")
    parser.add_argument("--muscle", default="", help="muscle examined")
    parser.add_argument("--side", choices=SIDES[1:], default="", help="side examined")
    parser.add_argument("--notes", default="", help="free notes (written as an annotation at 0 s)")
    parser.add_argument(
        "--mark",
        action="append",
        default=[],
        metavar="SECONDS:TEXT",
        help="drop a marker after SECONDS of recording (repeatable)",
    )
    parser.add_argument("--progress", action="store_true", help="print the samples recorded, once a second")
    parser.add_argument("--no-settings", action="store_true", help="ignore the settings file")
    add_source_options(parser)


def run(args: argparse.Namespace) -> int:
    remove_stale_blocks()  # a crashed run's rings would otherwise hold RAM until the machine restarts
    settings = Settings() if args.no_settings else load_settings()
    apply_source_options(args, settings)
    if args.protocol is None and args.seconds is None:
        return _fail("--seconds is required (or give --protocol to run a guided exam)")
    if args.seconds is not None and args.seconds <= 0:
        return _fail("--seconds must be positive")
    try:
        marks = sorted(_parse_mark(m) for m in args.mark)
    except ValueError as exc:
        return _fail(str(exc))
    session = SessionInfo(
        patient_id=args.patient_id,
        name=args.name,
        birthdate=args.birthdate,
        sex=args.sex or "",
        operator=args.operator,
        muscle=args.muscle,
        side=args.side,
        notes=args.notes,
    )
    if args.out is not None:
        path = args.out
        if path.exists():
            return _fail(f"{path} exists; recordings are never overwritten")
    else:
        folder = args.folder or RecordingSettings().folder()
        path = session_file(folder, session, datetime.now(), args.format)
    if args.protocol is not None:
        return _run_exam(args, settings, session, path)
    bus = EventBus()
    connected = threading.Event()
    ended: list[Event] = []

    def watch(event: Event) -> None:
        if event.kind == events.CONNECTED:
            connected.set()
        elif event.kind in END_EVENTS:
            ended.append(event)
            connected.set()

    bus.subscribe(watch)
    try:
        source = make_source(settings.source)
    except (ValueError, ImportError) as exc:
        return _fail(f"cannot build the source: {exc}")
    keep_ground_truth(source)
    pump = AcquisitionPump(source, settings.filters, bus)
    pump.start()
    try:
        if not connected.wait(CONNECT_TIMEOUT_S):
            return _fail(f"the source did not connect within {CONNECT_TIMEOUT_S:g} s")
        if pump.pipeline is None:
            return _fail(ended[0].message if ended else "the source did not start")
        pipeline = pump.pipeline
        try:
            filters = applied_filters(settings.filters, pipeline.filters.design)
            recorder = Recorder(pipeline.raw, pipeline.info, path, session, args.format, filters, bus)
        except FormatError as exc:
            return _fail(str(exc))
        code = _record(recorder, args.seconds, marks, ended, args.progress)
    finally:
        pump.stop()
    ground_truth_beside(source, path, recorder.start_index, recorder.samples_written)
    return code


def _record(
    recorder: Recorder, seconds: float, marks: list[tuple[float, str]], ended: list[Event], progress: bool
) -> int:
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    recorder.start()
    end_index = recorder.start_index + round(seconds * recorder.info.sample_rate)
    last_print = 0.0
    try:
        while recorder.elapsed_s < seconds and not stop.is_set() and not ended and recorder.running:
            while marks and recorder.elapsed_s >= marks[0][0]:
                recorder.add_marker(marks.pop(0)[1])
            if progress and time.monotonic() - last_print >= 1.0:
                last_print = time.monotonic()
                print(f"recorded {recorder.ring.write_index - recorder.start_index} samples", flush=True)
            time.sleep(0.01)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        recorder.stop(min(end_index, recorder.ring.write_index))
        recorder.join()
    if recorder.error:
        return _fail(recorder.error)
    print(recorder.summary())
    if ended and ended[0].kind != events.STOPPED:
        print(f"emgscope record: the source stopped early: {ended[0].message or ended[0].kind}", file=sys.stderr)
        return 1
    return 0


def _run_exam(args: argparse.Namespace, settings: Settings, session: SessionInfo, path: Path) -> int:
    """The whole protocol on the simulated patient, unpaced, recorded with every annotation."""
    if settings.source.kind != "sim":
        return _fail("--protocol runs the simulated patient; leave out the BrainFlow options")
    if args.operator_seconds <= 0:
        return _fail("--operator-seconds must be positive")
    try:
        protocol = find_protocol(args.protocol)
        muscles = parse_muscles(args.muscles or exam_muscles(settings.source.simulator.patient), protocol)
    except (ProtocolError, ValueError) as exc:
        return _fail(str(exc))
    try:
        done = record_exam(
            protocol,
            muscles,
            args.compliance,
            settings.source.simulator,
            settings.filters.notch_hz,
            session,
            path,
            args.format,
            args.operator_seconds,
            args.seconds,
        )
    except HeadlessExamError as exc:
        return _fail(str(exc))
    print(
        f"Recorded {protocol.name}: {done.seconds:.2f} s, {done.segments} segments, {done.flags} flags, in "
        f"{done.wall_seconds:.1f} s to {done.path}; summary {done.summary_path}"
    )
    return 0


def find_protocol(name: str) -> Protocol:
    """A shipped protocol by name (``needle_one_muscle``) or a protocol file by path."""
    path = Path(name)
    if path.suffix != ".toml":
        path = protocols_dir() / f"{name}.toml"
    if not path.is_file():
        shipped = ", ".join(sorted(p.stem for p in protocols_dir().glob("*.toml")))
        raise ProtocolError(f"no protocol {name!r} (shipped: {shipped}; or give a .toml file)")
    return load_protocol(path)


def parse_muscles(text: str | None, protocol: Protocol) -> list[tuple[str, str]]:
    """``"Biceps brachii:L,Deltoid:R"`` → pairs; by default the protocol's first muscle (on each of its sides when
    the protocol runs per muscle, so a library file shows both sides)."""
    if not text:
        first = protocol.muscles[0] if protocol.muscles else ""
        sides = protocol.sides if protocol.per_muscle else protocol.sides[:1]
        return [(first, side) for side in sides] or [(first, "")]
    pairs = []
    for part in text.split(","):
        name, _, side = part.strip().partition(":")
        if not name.strip():
            raise ValueError(f"--muscles expects MUSCLE[:SIDE],..., not {text!r}")
        pairs.append((name.strip(), side.strip()))
    return pairs


def _parse_mark(text: str) -> tuple[float, str]:
    seconds, sep, label = text.partition(":")
    try:
        value = float(seconds)
    except ValueError:
        value = -1.0
    if not sep or value < 0 or not label:
        raise ValueError(f"--mark expects SECONDS:TEXT, e.g. 2.5:rest, not {text!r}")
    return value, label


def _fail(message: str) -> int:
    print(f"emgscope record: {message}", file=sys.stderr)
    return 1
