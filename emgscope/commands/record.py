"""``emgscope record``: record the raw signal of any source to a BDF+/EDF+ file without the GUI.

For scripted acquisition and for tests: the same source, pump and recorder the GUI uses, driven from the
command line. Ctrl+C (or SIGTERM) stops the recording cleanly; ``kill -9`` leaves a file that the next
``emgscope repair`` (or the app's start-up) rebuilds.

``emgscope record --protocol NAME --out FILE [--pathology …]`` runs a whole guided exam headless on the simulated
patient (:mod:`emgscope.session.headless`) and writes a labelled recording with its summary CSV.
"""

from __future__ import annotations

import argparse
import os
import queue
import signal
import sys
import threading
import time
from datetime import date, datetime
from pathlib import Path

from emgscope.acquisition.factory import make_source
from emgscope.acquisition.sim_patients import exam_muscles
from emgscope.acquisition.sim_truth import ground_truth_beside, keep_ground_truth
from emgscope.core import events, log
from emgscope.core.events import Event
from emgscope.core.settings import FORMATS, RecordingSettings, Settings, SourceSettings, load_settings
from emgscope.core.shm import remove_stale_blocks
from emgscope.core.source import Source
from emgscope.core.units import counted
from emgscope.protocol.loader import ProtocolError, load_protocol, protocols_dir
from emgscope.protocol.model import Protocol
from emgscope.protocol.sim_patient_driver import COMPLIANCE_PRESETS
from emgscope.recording.naming import session_file
from emgscope.recording.session import SIDES, SessionInfo
from emgscope.session.connection import SourceFactory
from emgscope.session.headless import HeadlessExamError, record_exam
from emgscope.session.options import (
    add_log_option,
    add_lsl_out_options,
    add_source_options,
    apply_lsl_out_options,
    apply_source_options,
)
from emgscope.session.session import Session

CONNECT_TIMEOUT_S = 30.0
"""Longer than BrainFlow's slowest connect (about 6 s on a silent serial device)."""
END_EVENTS = (
    events.CONNECT_FAILED,
    events.SOURCE_ERROR,
    events.SOURCE_ENDED,
    events.STOPPED,
    events.CONNECTION_LOST,
)
"""What ends a headless recording: with no one to press Reconnect, a source that went quiet is done."""
POLL_S = 0.01
"""How often the command looks at the session's events and the clock."""
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
    add_log_option(parser)
    add_source_options(parser)
    add_lsl_out_options(parser)


def run(args: argparse.Namespace) -> int:
    log.setup(args.log_level)
    remove_stale_blocks()  # a crashed run's rings would otherwise hold RAM until the machine restarts
    settings = Settings()
    if not args.no_settings:
        loaded = load_settings()
        settings = loaded.settings
        if loaded.notice:
            print(f"emgscope record: {loaded.notice}", file=sys.stderr)
    apply_source_options(args, settings)
    apply_lsl_out_options(args, settings)
    if args.protocol is not None and args.lsl_out:
        return _fail("--lsl-out publishes a live stream, and a --protocol exam runs faster than real time")
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
    for note in session.header_notes():
        print(f"emgscope record: {note}", file=sys.stderr)
    try:
        path = _target(args, session)
    except TargetError as exc:
        return _fail(str(exc))
    if args.protocol is not None:
        return _run_exam(args, settings, session, path)
    return _record(settings, session, path, args, marks)


class TargetError(Exception):
    """The file cannot be written where asked; the message says why."""


def _target(args: argparse.Namespace, session: SessionInfo) -> Path:
    """The file to write: ``--out`` (never an existing file) in a folder that exists and can be written, or a new
    name in the sessions folder (``--folder``, made if missing)."""
    if args.out is not None:
        path: Path = args.out
        if path.exists():
            raise TargetError(f"{path} exists; recordings are never overwritten")
        _check_folder(path.parent)
        return path
    folder: Path = args.folder or RecordingSettings().folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TargetError(f"the sessions folder {folder} cannot be made: {exc.strerror or exc}") from None
    _check_folder(folder)
    return session_file(folder, session, datetime.now(), args.format)


def _check_folder(folder: Path) -> None:
    if not folder.exists():
        raise TargetError(f"the folder {folder} does not exist")
    if not folder.is_dir():
        raise TargetError(f"{folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise TargetError(f"the folder {folder} cannot be written (read-only, or no permission)")


def _record(
    settings: Settings,
    info: SessionInfo,
    path: Path,
    args: argparse.Namespace,
    marks: list[tuple[float, str]],
    source_factory: SourceFactory = make_source,
) -> int:
    """Record ``args.seconds`` of the source in the settings, through a session like the window's.

    The source runs in this process (no display competes for it), built by ``source_factory``. The recording
    ends after the seconds asked for, on Ctrl+C or SIGTERM, or as soon as the source stops: an error, the end of
    a file, or no data for the source's silence timeout (an unplugged amplifier), so it never hangs; what was
    recorded is kept, and the reason is one line.
    """
    settings.recording.format = args.format
    built: list[Source] = []

    def build(source_settings: SourceSettings) -> Source:
        """The source, asked to keep what a ground-truth file needs when it is the simulated patient."""
        source = source_factory(source_settings)
        keep_ground_truth(source)
        built.append(source)
        return source

    session = Session(settings, build, sound=False)
    session.lsl_out.set_enabled(args.lsl_out)
    inbox: queue.SimpleQueue[Event] = queue.SimpleQueue()
    session.bus.subscribe(inbox.put)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    ended: Event | None = None
    recorder = None
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    last_print = 0.0
    session.connect()
    try:
        while not stop.is_set():
            try:
                event: Event | None = inbox.get(timeout=POLL_S)
            except queue.Empty:
                event = None
            if event is not None:
                session.handle(event)
                if event.kind == events.CONNECTED and recorder is None:
                    recorder = session.recordings.start(info, path=path)
                elif event.kind in END_EVENTS:
                    ended = event
                    break
            if recorder is None:
                if time.monotonic() > deadline:
                    return _fail(f"the source did not connect within {CONNECT_TIMEOUT_S:g} s")
                continue
            if recorder.started.is_set() and not recorder.running:
                break  # it failed (the file could not be made, the disk is full): its error says why
            if recorder.elapsed_s >= args.seconds:
                break
            while marks and recorder.elapsed_s >= marks[0][0]:
                recorder.add_marker(marks.pop(0)[1])
            if args.progress and time.monotonic() - last_print >= 1.0:
                last_print = time.monotonic()
                print(f"recorded {counted(recorder.ring.write_index - recorder.start_index, 'sample')}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        if recorder is not None:
            end_index = recorder.start_index + round(args.seconds * recorder.info.sample_rate)
            recorder.stop(min(end_index, recorder.ring.write_index))
            recorder.join()
        session.close()
        while not inbox.empty():  # the recorder's last word (stopped, or why not) keeps the session in step
            session.handle(inbox.get())
    if recorder is None:
        return _fail(ended.message if ended is not None and ended.message else "the source did not start")
    if recorder.error:
        reason = f" ({ended.message})" if ended is not None and ended.message else ""
        return _fail(recorder.error + reason)
    if built:
        ground_truth_beside(built[0], path, recorder.start_index, recorder.samples_written)
    print(recorder.summary())
    if ended is not None and ended.kind != events.STOPPED:
        print(f"emgscope record: the source stopped early: {ended.message or ended.kind}", file=sys.stderr)
        return 1
    return 0


def _run_exam(args: argparse.Namespace, settings: Settings, session: SessionInfo, path: Path) -> int:
    """The whole protocol on the simulated patient, unpaced, recorded with every annotation."""
    if settings.source.kind != "sim":
        return _fail("--protocol runs the simulated patient; leave out the other sources' options")
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
        f"Recorded {protocol.name}: {done.seconds:.2f} s, {counted(done.segments, 'segment')}, "
        f"{counted(done.flags, 'flag')}, in "
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
