"""``emgscope bench``: measure the real-time figures the issues set bars for, and print one JSON object.

Each figure is measured in this run on this machine; nothing is cached or assumed. Each area's measurement is a
module of this package; this one only runs them and gathers the results.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys

from emgscope.bench.audio import measure_audio, sound_for_bench
from emgscope.bench.detector import measure_detector
from emgscope.bench.display import measure_display
from emgscope.bench.gui import measure_gui
from emgscope.bench.lsl import measure_lsl
from emgscope.bench.muap import generic_cases, measure_muap
from emgscope.bench.pacing import measure_audio_drift, measure_pacing
from emgscope.bench.pipeline import measure_pipeline, measure_simulator
from emgscope.bench.recorder import measure_recorder
from emgscope.bench.report import measure_report
from emgscope.bench.startup import measure_startup


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="shorter runs (for tests); figures are noisier")


def measure_drift(seconds: float) -> dict[str, float | str]:
    """The drift control's figures on the default output, or a null sink where there is no sound card."""
    with contextlib.ExitStack() as stack:
        device, refusal = sound_for_bench(stack, "")
        return {"audio_drift_unavailable": refusal} if refusal else dict(measure_audio_drift(device, seconds))


def run(args: argparse.Namespace) -> int:
    scale = 0.2 if args.quick else 1.0
    results: dict[str, float | str] = {}
    results.update(measure_pipeline(10.0 * scale))
    results.update(measure_simulator(5.0 * scale))
    results.update(measure_gui(max(5.0 * scale, 1.0)))
    results.update(measure_audio(max(60.0 * scale, 4.0)))  # the bar is per minute: a whole one
    results.update(measure_drift(max(5.0 * scale, 2.0)))
    results.update(measure_display(max(5.0 * scale, 2.0)))
    results.update(measure_pacing(max(3.0 * scale, 1.0), exam_limit_s=10.0 if args.quick else None))
    results.update(measure_recorder(600.0 * scale))
    results.update(measure_detector(contractions=60, seconds=max(4.0, 20.0 * scale)))
    results.update(measure_startup(runs=1 if args.quick else 3))
    results.update(measure_lsl(max(1.0, 5.0 * scale)))
    results.update(measure_muap(generic_cases(seeds=[1]) if args.quick else None))
    results.update(measure_report(["normal"] if args.quick else None))
    json.dump(results, sys.stdout)
    sys.stdout.write("\n")
    return 0
