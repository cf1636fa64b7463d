"""The MUP results saved beside their recording: ``<recording>.muap.json``.

One file per recording (``exam.bdf`` → ``exam.bdf.muap.json``) holds every segment analysed in it, so the results
reopen with the recording and a muscle's MUPs gathered at several sites can be summed up together. It is UTF-8
JSON without line breaks (templates are long; pretty-print it to read it); NaN is written as ``null``. Layout
(version 1)::

    {
      "format": "emgscope MUP analysis",
      "version": 1,
      "recording": "exam.bdf",                  # the recording's file name
      "analyses": [                             # one per segment analysed (a channel, a start, a length)
        {
          "channel": 0, "channel_label": "Needle 1", "muscle": "Tibialis anterior" | null,
          "sample_rate_hz": 20000.0,            # the recording's rate for this channel
          "start_index": 120000, "samples": 100000,   # the segment, in samples of the recording
          "start_s": 6.0, "end_s": 11.0,              # the same in seconds (for readers)
          "filters": "10 Hz – 9 kHz",           # the band the segment was analysed through
          "judge_rise_time": true,              # false for a source too slow to tell far-field MUPs
          "background_sd_uv": 4.1,              # the spike band's background, which spikes were detected above
          "spikes": 612, "sorted_spikes": 455,
          "notes": ["..."],                     # what the user was told about the result
          "units": [
            {
              "id": 1, "rejected": false,
              "edited": ["onset"],              # what the clinician changed: onset, end, rejected
              "template": {"rate_hz": 20000.0, "zero": 400, "uv": [0.1, ...]},   # averaged MUP, µV
              "auto_markers": {"onset": 352, "end": 611, "baseline_uv": 0.4, "found": true},
              "markers":      {"onset": 340, "end": 611, "baseline_uv": 0.4, "found": true},
              "discharges": [120431, ...],      # sample index of each discharge's main spike
              "measures": {"amplitude_uv": ..., "duration_ms": ..., "phases": ..., "turns": ...,
                           "area_uv_ms": ..., "thickness_ms": ..., "size_index": ..., "rise_time_ms": ...,
                           "far_field": false},
              "firing": {"rate_hz": 11.9, "cv": 0.14, "intervals": 52}
            }
          ],
          "recruitment": {"frequency_hz": 11.9, "observed": false, "ratio": 2.4, "fastest_rate_hz": 11.9,
                          "units_firing": 5, "flags": []},
          "muscle_summary": {...},              # this segment's means and verdicts
          "edits": [{"unit": 1, "action": "onset", "ms": -3.2, "at": "2025-01-31T10:12:03+00:00"}]
        }
      ]
    }

Marker indices are samples of the template (``template.zero`` is the main spike, time 0). What the file calls
*measures*, *firing*, *recruitment* and *muscle_summary* is derived: it is written for other programs to read, and
recomputed from the template, the markers and the discharges when the file is loaded, so the numbers always follow
the markers in the file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emgscope.analysis.muap.firing import firing_stats
from emgscope.analysis.muap.measure import Markers, measure
from emgscope.analysis.muap.model import Edit, MuapUnit, SiteAnalysis, site_recruitment
from emgscope.analysis.sidecar_file import read_document, write_document

FORMAT = "emgscope MUP analysis"
VERSION = 1
SUFFIX = ".muap.json"
TEMPLATE_DECIMALS = 2
"""Template samples are written to 0.01 µV, the resolution the analysis keeps them at
(:data:`~emgscope.analysis.muap.analyse.TEMPLATE_RESOLUTION_UV`), so they read back exactly."""


class SidecarError(Exception):
    """A results file cannot be read or written; the message is one line for the user."""


def sidecar_path(recording: str | Path) -> Path:
    """Where the results of ``recording`` are kept: beside it, its name plus ``.muap.json``."""
    recording = Path(recording)
    return recording.with_name(recording.name + SUFFIX)


def _number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def _markers(m: Markers) -> dict[str, Any]:
    return {"onset": int(m.onset), "end": int(m.end), "baseline_uv": float(m.baseline_uv), "found": bool(m.found)}


def _unit_to_json(unit: MuapUnit, site: SiteAnalysis) -> dict[str, Any]:
    m = unit.measures
    return {
        "id": unit.id,
        "rejected": unit.rejected,
        "edited": list(unit.edited),
        "template": {
            "rate_hz": unit.template_rate_hz,
            "zero": unit.zero,
            "uv": [round(float(v), TEMPLATE_DECIMALS) for v in unit.template_uv],
        },
        "auto_markers": _markers(unit.auto_markers),
        "markers": _markers(unit.markers),
        "discharges": [int(d) for d in unit.discharges],
        "measures": {
            "amplitude_uv": _number(m.amplitude_uv),
            "duration_ms": _number(m.duration_ms),
            "phases": m.phases,
            "turns": m.turns,
            "area_uv_ms": _number(m.area_uv_ms),
            "thickness_ms": _number(m.thickness_ms),
            "size_index": _number(m.size_index),
            "rise_time_ms": _number(m.rise_time_ms),
            "far_field": site.far_field(unit),
        },
        "firing": {
            "rate_hz": _number(unit.firing.rate_hz),
            "cv": _number(unit.firing.cv),
            "intervals": unit.firing.intervals,
        },
    }


def site_to_json(site: SiteAnalysis) -> dict[str, Any]:
    """One analysis as the file stores it (see the module's docstring)."""
    r = site.recruitment
    summary = site.muscle_summary()
    return {
        "channel": site.channel,
        "channel_label": site.channel_label,
        "muscle": site.muscle,
        "sample_rate_hz": site.sample_rate_hz,
        "start_index": site.start_index,
        "samples": site.samples,
        "start_s": site.start_s,
        "end_s": site.end_s,
        "filters": site.filters,
        "judge_rise_time": site.judge_rise_time,
        "background_sd_uv": _number(site.background_sd_uv),
        "spikes": site.spikes,
        "sorted_spikes": site.sorted_spikes,
        "notes": list(site.notes),
        "units": [_unit_to_json(u, site) for u in site.units],
        "recruitment": {
            "frequency_hz": _number(r.frequency_hz),
            "observed": r.observed,
            "ratio": _number(r.ratio),
            "fastest_rate_hz": _number(r.fastest_rate_hz),
            "units_firing": r.units_firing,
            "flags": list(r.flags),
        },
        "muscle_summary": {
            "name": summary.name,
            "mups": summary.mups,
            "amplitude_uv_mean": _number(summary.amplitude_uv_mean),
            "duration_ms_mean": _number(summary.duration_ms_mean),
            "phases_mean": _number(summary.phases_mean),
            "turns_mean": _number(summary.turns_mean),
            "polyphasic_percent": _number(summary.polyphasic_percent),
            "outliers": summary.outliers,
            "findings": list(summary.findings),
        },
        "edits": [{"unit": e.unit, "action": e.action, "ms": e.ms, "at": e.at} for e in site.edits],
    }


def _markers_from(data: dict[str, Any]) -> Markers:
    return Markers(int(data["onset"]), int(data["end"]), float(data["baseline_uv"]), bool(data["found"]))


def _unit_from_json(data: dict[str, Any], sample_rate: float) -> MuapUnit:
    template = data["template"]
    samples = np.array(template["uv"], dtype=np.float32)
    rate = float(template["rate_hz"])
    markers = _markers_from(data["markers"])
    discharges = np.array(data["discharges"], dtype=np.int64)
    return MuapUnit(
        id=int(data["id"]),
        template_uv=samples,
        template_rate_hz=rate,
        zero=int(template["zero"]),
        discharges=discharges,
        auto_markers=_markers_from(data["auto_markers"]),
        markers=markers,
        measures=measure(samples, rate, markers),
        firing=firing_stats(discharges / sample_rate),
        rejected=bool(data["rejected"]),
        edited=tuple(str(f) for f in data["edited"]),
    )


def site_from_json(data: dict[str, Any]) -> SiteAnalysis:
    """One analysis from the file's form, its derived numbers recomputed (see the module's docstring)."""
    rate = float(data["sample_rate_hz"])
    start = int(data["start_index"])
    units = tuple(_unit_from_json(u, rate) for u in data["units"])
    return SiteAnalysis(
        sample_rate_hz=rate,
        start_index=start,
        samples=int(data["samples"]),
        units=units,
        recruitment=site_recruitment(units, rate, start),
        background_sd_uv=_float(data["background_sd_uv"]),
        spikes=int(data["spikes"]),
        sorted_spikes=int(data["sorted_spikes"]),
        channel=int(data["channel"]),
        channel_label=str(data["channel_label"]),
        muscle=data["muscle"],
        filters=str(data["filters"]),
        notes=tuple(str(n) for n in data["notes"]),
        judge_rise_time=bool(data["judge_rise_time"]),
        edits=tuple(Edit(int(e["unit"]), str(e["action"]), e["ms"], str(e["at"])) for e in data["edits"]),
    )


def load_analyses(recording: str | Path) -> list[SiteAnalysis]:
    """Every analysis saved for ``recording`` (none when it has no results file)."""
    path = sidecar_path(recording)
    if not path.exists():
        return []
    data = read_document(path, "a MUP results file", FORMAT, VERSION, SidecarError)
    try:
        return [site_from_json(a) for a in data["analyses"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise SidecarError(f"{path.name} is damaged: an analysis lacks or garbles {exc}") from None


def _same_segment(a: SiteAnalysis, b: SiteAnalysis) -> bool:
    return (a.channel, a.start_index, a.samples) == (b.channel, b.start_index, b.samples)


def save_analysis(recording: str | Path, site: SiteAnalysis) -> Path:
    """Keep ``site`` in ``recording``'s results file, in place of an earlier analysis of the same segment (its
    edited version, typically) or beside the others; returns the file's path. The file is replaced whole, through
    a temporary file, so a crash leaves the old one or the new one, never half of one."""
    path = sidecar_path(recording)
    others = [a for a in load_analyses(recording) if not _same_segment(a, site)]
    analyses = [*others, site]
    analyses.sort(key=lambda a: (a.channel, a.start_index))
    write_analyses(path, Path(recording).name, analyses)
    return path


def write_analyses(path: Path, recording_name: str, analyses: Sequence[SiteAnalysis]) -> None:
    """Write a results file holding ``analyses`` (see :func:`save_analysis`)."""
    document = {
        "format": FORMAT,
        "version": VERSION,
        "recording": recording_name,
        "analyses": [site_to_json(a) for a in analyses],
    }
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    write_document(path, text, SidecarError)
