"""Headless exams of the simulated teaching patients, recorded as ``emgscope record --protocol`` records them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from emgscope.acquisition.sim_patients import exam_muscles
from emgscope.core.settings import SimulatorSettings
from emgscope.protocol.loader import load_protocol, protocols_dir
from emgscope.recording.session import SessionInfo
from emgscope.session.headless import record_exam

REPO = Path(__file__).resolve().parents[2]


def examine(
    folder: Path,
    patient: str,
    protocol: str = "needle_one_muscle",
    seed: int = 1,
    session: SessionInfo | None = None,
    limit_s: float | None = None,
    muscles: list[tuple[str, str]] | None = None,
    pathology: str = "normal",
) -> Path:
    """Record a headless exam of ``patient`` (a teaching patient, or "" for the generic ``pathology``) in-process;
    the recording's path (its ground truth beside it)."""
    path = folder / f"{patient or pathology}_{protocol}_{seed}.bdf"
    steps = load_protocol(protocols_dir() / f"{protocol}.toml")
    if muscles is None:
        muscles = [tuple(m.split(":")) for m in (exam_muscles(patient) or "Tibialis anterior:R").split(",")]  # type: ignore[misc]
    simulator = SimulatorSettings(patient=patient, seed=seed, pathology=pathology)  # type: ignore[arg-type]
    info = session or SessionInfo(patient_id="TEST")
    record_exam(steps, muscles, "compliant", simulator, 0.0, info, path, "bdf", 6.0, limit_s)  # type: ignore[arg-type]
    return path


def emgscope(*args: str, timeout: float = 180.0) -> subprocess.CompletedProcess:
    """Run ``python -m emgscope ARGS`` as a user does."""
    return subprocess.run(
        [sys.executable, "-m", "emgscope", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def record(*args: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
    """Run ``emgscope record --no-settings ARGS`` as a user does."""
    return emgscope("record", "--no-settings", *args, timeout=timeout)
