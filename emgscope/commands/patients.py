"""``emgscope patients``: the simulated teaching patients, one line each; with a name, the case in full.

The cases live in ``resources/patients/`` (:mod:`emgscope.acquisition.sim_patients`). ``emgscope patients als``
prints the history and, per muscle, the findings a correct report reaches: the answer key for a trainee who
examined the patient with ``emgscope --patient als`` or ``emgscope record --patient als --protocol ...``.
"""

from __future__ import annotations

import argparse
import sys

from emgscope.acquisition.sim_patients import PatientCase, PatientError, load_patient, patient_names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="show this patient's history and findings")


def run(args: argparse.Namespace) -> int:
    try:
        if args.name:
            print(describe(load_patient(args.name)))
            return 0
        names = patient_names()
        width = max(len(n) for n in names)
        for name in names:
            print(f"{name:<{width}}  {load_patient(name).summary}")
    except PatientError as exc:
        print(f"emgscope patients: {exc}", file=sys.stderr)
        return 1
    return 0


def describe(case: PatientCase) -> str:
    """The case as text: title, history, and a findings table per muscle (the report's columns, QEMG §8)."""
    lines = [f"{case.title}: {case.age}-year-old {'woman' if case.sex == 'F' else 'man'}", "", case.history, ""]
    header = ("muscle", "ins", "fib", "psw", "fasc", "other", "amp", "dur", "poly", "recruitment", "interference")
    rows = [header]
    for m in case.muscles:
        f = m.findings
        rows.append(
            (
                f"{m.muscle} {m.side}",
                f.insertional,
                _grade(f.fibrillations),
                _grade(f.positive_sharp_waves),
                _grade(f.fasciculations),
                ", ".join(f.other) or "-",
                f.amplitude,
                f.duration,
                f.polyphasia,
                f.recruitment,
                f.interference,
            )
        )
    widths = [max(len(r[k]) for r in rows) for k in range(len(header))]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    comments = [f"{m.muscle} {m.side}: {m.findings.comment}" for m in case.muscles if m.findings.comment]
    if comments:
        lines += ["", *comments]
    return "\n".join(lines)


def _grade(value: int) -> str:
    return f"{value}+" if value else "0"
