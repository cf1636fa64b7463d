"""``emgscope report FILE``: the exam's report from a recording, as PDF, HTML or the findings table as JSON.

The findings come from the findings file beside the recording (``FILE.findings.json``, the clinician's table) when
there is one, and are otherwise suggested from the recording's exam segments (:mod:`emgscope.analysis.findings`)
and saved there, so the window and the command line show the same table. ``--out`` names a ``.pdf`` or ``.html``
file (default: ``FILE.report.pdf`` beside the recording; never over an existing file); ``--json`` prints the table
instead (``{"muscles": [...]}``, one object per muscle and side; ``null`` where a muscle was not examined for that
cell; ``edited`` lists the cells the clinician entered by hand); ``--deidentify`` leaves every patient field and
the operator out of the header. It lives with the GUI because drawing the traces and writing the PDF is Qt's work;
the JSON needs no display.

Exit status 0 with a report, 1 with one line on stderr saying why there is none (a file that cannot be read, one
with no exam segments and how to mark them, a findings file that cannot be read).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from emgscope.analysis.findings.report import build_report
from emgscope.analysis.findings.sidecar import Findings, FindingsFileError
from emgscope.analysis.findings.suggest import NoExamError, saved_or_suggested
from emgscope.analysis.muap.sidecar import SidecarError, load_analyses
from emgscope.replay.reader import Recording, RecordingError, open_recording

FORMATS = (".pdf", ".html")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="a recording of a guided exam (EDF/BDF+, WFDB, BrainFlow)")
    parser.add_argument("--out", type=Path, help="the report to write, .pdf or .html (default FILE.report.pdf)")
    parser.add_argument("--json", action="store_true", help="print the findings table as JSON instead")
    parser.add_argument("--deidentify", action="store_true", help="leave the patient's and operator's fields out")
    parser.add_argument("--board", help="BrainFlow data files: the board that wrote it, e.g. CYTON_BOARD")


class ReportError(Exception):
    """Why there is no report: one line for the user."""


def _target(args: argparse.Namespace) -> Path:
    out: Path = args.out or args.file.with_name(args.file.name + ".report.pdf")
    if out.suffix.lower() not in FORMATS:
        raise ReportError(f"{out.name}: the report is written as .pdf or .html")
    if out.exists():
        raise ReportError(f"{out} exists; reports are never written over")
    if not out.parent.is_dir():
        raise ReportError(f"the folder {out.parent} does not exist")
    return out


def run(args: argparse.Namespace) -> int:
    try:
        out = None if args.json else _target(args)
        recording = open_recording(args.file, args.board)
        findings = saved_or_suggested(recording, args.file)
        if args.json:
            print(json.dumps(findings.as_json(), ensure_ascii=False))
            return 0
        assert out is not None
        write_report(recording, findings, out, args.deidentify, load_analyses(args.file))
    except (RecordingError, NoExamError, FindingsFileError, SidecarError, ReportError) as exc:
        print(f"emgscope report: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"emgscope report: the report could not be written: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"Report of {len(findings.rows)} muscles written to {out}")
    return 0


def write_report(recording: Recording, findings: Findings, out: Path, deidentify: bool, saved_mups: list) -> None:
    """Draw the figures and write the report as ``out``'s suffix says."""
    from emgscope.gui import report_render

    report_render.ensure_app()
    content = build_report(recording, findings, deidentify, hide_case=bool(findings.practice))
    images = report_render.figures(recording, findings, saved_mups)
    if out.suffix.lower() == ".pdf":
        report_render.write_pdf(content, images, out)
    else:
        report_render.write_html(content, images, out)
