"""``emgscope info FILE``: what a recording holds, or one line saying why it cannot be read.

Format, start time, patient and recording fields, every signal with its rate and unit, duration, annotations and
any oddity the reader tolerated. Exit status 0 when the file was read, 1 with a one-line reason on stderr when
it was not: scripts can sort a folder of files with it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emgscope.core.units import counted
from emgscope.replay.reader import Recording, RecordingError, open_recording


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="EDF, EDF+, BDF, BDF+, WFDB (.hea/.dat) or BrainFlow data file")
    parser.add_argument("--board", help="BrainFlow data files: the board that wrote it, e.g. CYTON_BOARD")
    parser.add_argument("--annotations", type=int, default=50, metavar="N", help="list at most N annotations")


def run(args: argparse.Namespace) -> int:
    path: Path = args.file
    repaired = _repair_if_unfinished(path)
    try:
        rec = open_recording(path, args.board)
    except RecordingError as exc:
        print(f"emgscope info: {exc}", file=sys.stderr)
        return 1
    if repaired:
        print(repaired)
    print(describe(rec, max_annotations=args.annotations))
    return 0


def describe(rec: Recording, max_annotations: int = 50) -> str:
    """A plain-text summary of a recording (also used by the replay panel's tooltip)."""
    lines = [
        f"File:       {rec.path}",
        f"Format:     {rec.format}",
        f"Start:      {rec.start.isoformat(sep=' ') if rec.start else 'unknown'}",
        f"Duration:   {rec.duration_s:.3f} s",
    ]
    patient = {k: v for k, v in rec.patient.items() if v}
    if patient:
        lines.append("Patient:    " + ", ".join(f"{k}={v}" for k, v in patient.items()))
    info = {k: v for k, v in rec.recording_info.items() if v}
    if info:
        lines.append("Recording:  " + ", ".join(f"{k}={v}" for k, v in info.items()))
    data = rec.data_signals
    lines.append(
        f"Signals:    {counted(len(data), 'data signal')}"
        + (" and annotations" if len(data) < len(rec.signals) else "")
    )
    for index in data:
        s = rec.signals[index]
        extra = f"  [{s.prefilter}]" if s.prefilter else ""
        lines.append(
            f"  {index + 1:3d}  {s.label:<20s} {s.sample_rate:10.6g} Hz  {s.unit or '(no unit)':<8s} "
            f"{s.n_samples:>10d} samples  range {s.physical_min:g} … {s.physical_max:g}{extra}"
        )
    groups = rec.rate_groups()
    if len(groups) > 1:
        rate = next(iter(groups))
        lines.append(f"Replay plays the {counted(len(groups[rate]), 'signal')} at {rate:g} Hz (the highest rate).")
    lines.append(f"Annotations: {len(rec.annotations)}")
    for a in rec.annotations[:max_annotations]:
        duration = f" ({a.duration_s:g} s)" if a.duration_s else ""
        lines.append(f"  {a.onset_s:12.4f} s{duration}  {a.text}")
    if len(rec.annotations) > max_annotations:
        lines.append(f"  … and {len(rec.annotations) - max_annotations} more")
    lines += [f"Note:       {w}" for w in rec.warnings]
    return "\n".join(lines)


def _repair_if_unfinished(path: Path) -> str:
    """Let the recorder rebuild a recording the app never closed (a crash) before we describe it.

    Without this, ``info`` on a crashed session would report a truncated file instead of what was saved. A file a
    recorder is still writing is only described, as far as it has been written.
    """
    from emgscope.recording.journal import in_use, journal_path
    from emgscope.recording.repair import RepairError, find_unfinished, repair

    if path.is_file() and in_use(journal_path(path)):
        return "Still being recorded: what follows is what has been written so far."
    if not path.is_file() or path.resolve() not in {p.resolve() for p in find_unfinished(path.parent)}:
        return ""
    try:
        return "Unfinished recording: " + repair(path).message
    except RepairError as exc:
        return f"Unfinished recording: {exc}"
