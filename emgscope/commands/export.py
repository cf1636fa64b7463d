"""``emgscope export FILE --out FILE2 [--deidentify] [--start S --end E]``: a copy, e.g. for teaching."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emgscope.core.units import counted
from emgscope.recording.export import ExportError, export_copy


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the recording to copy")
    parser.add_argument("--out", type=Path, required=True, help="the copy to write (.bdf or .edf; never overwritten)")
    parser.add_argument("--deidentify", action="store_true", help="blank the patient fields (a teaching copy)")
    parser.add_argument("--start", type=float, help="first second to keep")
    parser.add_argument("--end", type=float, help="second to stop at")


def run(args: argparse.Namespace) -> int:
    try:
        report = export_copy(args.file, args.out, args.deidentify, args.start, args.end)
    except ExportError as exc:
        print(f"emgscope export: {exc}", file=sys.stderr)
        return 1
    print(
        f"Wrote {report.seconds:.2f} s of {counted(report.n_channels, 'channel')} and "
        f"{counted(report.annotations, 'annotation')} "
        f"to {report.path}"
    )
    return 0
