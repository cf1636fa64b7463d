"""``emgscope muap FILE``: the motor unit potentials of a recording, measured, with recruitment and the muscle's means.

The segment (``--start``/``--end`` seconds, default the whole file) of one channel (``--channel``, its number as
``emgscope info`` lists it or its label; default the first data signal) goes through the clinical needle filter
and the automatic multi-MUP analysis (:mod:`emgscope.analysis.muap`). ``--muscle`` names the muscle for its
reference values. ``--json`` prints one JSON object (keys below), anything else a table. ``--save`` keeps the result
in the results file beside the recording (``FILE.muap.json``), unless the clinician has edited that segment there.

JSON: ``units`` (largest first), each with ``amplitude_uv``, ``duration_ms``, ``phases``, ``turns``, ``area_uv_ms``,
``thickness_ms``, ``size_index``, ``rise_time_ms``, ``discharges``, ``firing_rate_hz``, ``firing_rate_cv``;
``recruitment_frequency_hz`` and ``recruitment_ratio``; and ``muscle``: its name, the number of MUPs summed up
(near-field where rise times can be judged, with a measured duration), their means, and where a reference exists
the outlier count and the verdict. A number that cannot be given is ``null``.

Exit status 0 with a result, 1 with one line on stderr saying why there is none.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from emgscope.analysis.muap.analyse import MuapInputError, analyse_segment
from emgscope.analysis.muap.columns import COLUMNS, heading, remarks
from emgscope.analysis.muap.model import MuapUnit, SiteAnalysis
from emgscope.analysis.muap.reference import MuscleSummary
from emgscope.analysis.muap.sidecar import SidecarError, load_analyses, save_analysis
from emgscope.replay.reader import Recording, RecordingError, open_recording


class _Refusal(Exception):
    """Why the command cannot give a result: one line for stderr."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="EDF, EDF+, BDF, BDF+, WFDB (.hea/.dat) or BrainFlow data file")
    parser.add_argument("--channel", help="the signal's number as 'emgscope info' lists it, or its label")
    parser.add_argument("--start", type=float, default=0.0, metavar="S", help="from this many seconds (default 0)")
    parser.add_argument("--end", type=float, metavar="E", help="to this many seconds (default: the end)")
    parser.add_argument("--muscle", metavar="NAME", help="the muscle, for its reference values")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--save", action="store_true", help="keep the result in FILE.muap.json beside the recording")
    parser.add_argument("--board", help="BrainFlow data files: the board that wrote it, e.g. CYTON_BOARD")


def run(args: argparse.Namespace) -> int:
    try:
        recording = open_recording(args.file, args.board)
        site = _analyse(recording, args)
        if args.save:
            _save(args.file, site)
    except (RecordingError, MuapInputError, SidecarError, _Refusal) as exc:
        print(f"emgscope muap: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(as_json(site), ensure_ascii=False, allow_nan=False))
    else:
        print(as_table(site, recording.path.name))
    return 0


def _choose_signal(recording: Recording, channel: str | None) -> int:
    data = recording.data_signals
    if not data:
        raise _Refusal(f"{recording.path.name} holds no data signals, only annotations")
    if channel is None:
        return data[0]
    labels = [recording.signals[i].label.strip() for i in data]
    if channel.strip() in labels:
        return data[labels.index(channel.strip())]
    if channel.isdigit() and int(channel) - 1 in data:
        return int(channel) - 1
    listed = ", ".join(f"{i + 1} ({recording.signals[i].label.strip()})" for i in data)
    raise _Refusal(f"no channel {channel!r} in {recording.path.name}: its data signals are {listed}")


def _analyse(recording: Recording, args: argparse.Namespace) -> SiteAnalysis:
    index = _choose_signal(recording, args.channel)
    signal = recording.signals[index]
    rate = signal.sample_rate
    length_s = signal.n_samples / rate
    end_s = length_s if args.end is None else args.end
    if not 0 <= args.start < end_s <= length_s + 1.0 / rate:
        raise _Refusal(
            f"choose a segment inside the recording's {length_s:.3f} s with --start before --end "
            f"(not {args.start:g} to {end_s:g} s)"
        )
    first, last = round(args.start * rate), round(end_s * rate)
    factor = signal.uv_factor
    if factor is None:
        raise _Refusal(f"channel {index + 1} ({signal.label.strip()}) is in {signal.unit!r}, not a voltage")
    return analyse_segment(
        recording.read(index, first, last),
        rate,
        start_index=first,
        muscle=args.muscle,
        channel=index,
        channel_label=signal.label.strip(),
        input_range_uv=(signal.physical_min * factor, signal.physical_max * factor),
    )


def _save(path: Path, site: SiteAnalysis) -> None:
    for saved in load_analyses(path):
        same = (saved.channel, saved.start_index, saved.samples) == (site.channel, site.start_index, site.samples)
        if same and saved.edits:
            raise _Refusal(
                f"{path.name}.muap.json holds the clinician's edits of this segment; it was not replaced "
                "(the result is not printed either: remove those edits first, or choose another segment)"
            )
    save_analysis(path, site)


def _number(value: float | int) -> float | int | None:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _unit_json(unit: MuapUnit) -> dict[str, Any]:
    m, measured = unit.measures, unit.duration_measured
    return {
        "amplitude_uv": _number(round(m.amplitude_uv, 1)),
        "duration_ms": _number(round(m.duration_ms, 2)) if measured else None,
        "phases": m.phases if measured else None,
        "turns": m.turns if measured else None,
        "area_uv_ms": _number(round(m.area_uv_ms, 1)) if measured else None,
        "thickness_ms": _number(round(m.thickness_ms, 3)) if measured else None,
        "size_index": _number(round(m.size_index, 3)) if measured else None,
        "rise_time_ms": _number(round(m.rise_time_ms, 3)),
        "discharges": int(unit.discharges.size),
        "firing_rate_hz": _number(round(unit.firing.rate_hz, 2)),
        "firing_rate_cv": _number(round(unit.firing.cv, 3)),
    }


def _muscle_json(summary: MuscleSummary) -> dict[str, Any]:
    reference = summary.reference
    return {
        "name": summary.name,
        "mups": summary.mups,
        "amplitude_uv_mean": _number(round(summary.amplitude_uv_mean, 1)),
        "duration_ms_mean": _number(round(summary.duration_ms_mean, 2)),
        "phases_mean": _number(round(summary.phases_mean, 2)),
        "turns_mean": _number(round(summary.turns_mean, 2)),
        "polyphasic_percent": _number(round(summary.polyphasic_percent, 1)),
        "size_index_mean": _number(round(summary.size_index_mean, 3)),
        "reference": reference.source if reference else None,
        "outliers": summary.outliers,
        "abnormal_by_outliers": summary.abnormal_by_outliers,
        "findings": list(summary.findings),
    }


def as_json(site: SiteAnalysis) -> dict[str, Any]:
    """The result as the issue specifies it (see the module's docstring)."""
    return {
        "units": [_unit_json(u) for u in site.units if not u.rejected],
        "recruitment_frequency_hz": _number(round(site.recruitment.frequency_hz, 2)),
        "recruitment_ratio": _number(round(site.recruitment.ratio, 2)),
        "muscle": _muscle_json(site.muscle_summary()),
    }


def as_table(site: SiteAnalysis, name: str) -> str:
    """The result as text: the segment, the units' table, recruitment, the muscle, and the notes."""
    lines = [
        f"{name}, channel {site.channel + 1} ({site.channel_label}), {site.start_s:.3f}-{site.end_s:.3f} s, "
        f"{site.sample_rate_hz:g} Hz, filtered {site.filters}",
        f"{len(site.units)} units from {site.sorted_spikes} of {site.spikes} spikes "
        f"(superimposed discharges are left out, not resolved)",
        "",
    ]
    headings = ["Unit", *(heading(c) for c in COLUMNS), "Remarks"]
    rows = [[str(u.id), *(c.text(u) for c in COLUMNS), remarks(site, u)] for u in site.units]
    widths = [max(len(row[i]) for row in [headings, *rows]) for i in range(len(headings))]
    for row in [headings, *rows]:
        cells = [cell.rjust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    r = site.recruitment
    lines += [
        "",
        f"Recruitment: frequency {r.frequency_hz:.1f} Hz"
        + ("" if r.observed else " (the second unit's arrival is not in the segment: an upper bound)")
        + f", ratio {r.ratio:.1f} ({r.units_firing} units firing, fastest {r.fastest_rate_hz:.1f} Hz)",
    ]
    lines += [f"  {flag}" for flag in r.flags]
    summary = site.muscle_summary()
    lines.append(
        f"Muscle: {summary.name or 'not named'}: {summary.mups} MUPs summed up, mean amplitude "
        f"{summary.amplitude_uv_mean:.0f} µV, duration {summary.duration_ms_mean:.1f} ms, phases "
        f"{summary.phases_mean:.1f}, polyphasic {summary.polyphasic_percent:.0f} %"
        + ("" if summary.outliers is None else f", {summary.outliers} outliers")
    )
    lines += [f"  {finding}" for finding in summary.findings]
    lines += [f"Note: {note}" for note in site.notes]
    return "\n".join(lines)
