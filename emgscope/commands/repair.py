"""``emgscope repair [FOLDER|FILE ...]``: rebuild recordings a crash left unfinished.

The app does the same at start-up for the sessions folder; this command serves scripts and other folders.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emgscope.core.settings import RecordingSettings
from emgscope.recording.journal import journal_path
from emgscope.recording.repair import RepairError, find_unfinished, repair


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", type=Path, help="recordings or folders (default: the sessions folder)")


def run(args: argparse.Namespace) -> int:
    targets: list[Path] = []
    for path in args.paths or [RecordingSettings().folder()]:
        if path.is_dir():
            targets += find_unfinished(path)
        elif journal_path(path).exists():
            targets.append(path)
        else:
            print(f"{path}: not an unfinished recording (it has no journal)")
    failures = 0
    for path in targets:
        try:
            print(repair(path).message)
        except RepairError as exc:
            failures += 1
            print(f"emgscope repair: {exc}", file=sys.stderr)
    if not targets:
        print("No unfinished recordings.")
    return 1 if failures else 0
