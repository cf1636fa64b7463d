"""``emgscope simcheck``: the simulated patient beside real needle EMG, through the chain the real EMG was stored with.

PhysioNet emgdb holds three concentric-needle recordings of tibialis anterior during a gentle dorsiflexion: a
healthy subject, a myopathy and a neuropathy (SIMULATION_PARAMETERS §1, §3). They were recorded with a 20 Hz
high-pass and stored at 4 kHz. This command records the three generic patients (normal, myopathic, neurogenic) at
one low effort over several needle sites, passes them through the same chain (20 Hz high-pass, anti-aliased
resampling to 4 kHz), and measures both the same way (SIMULATION_PARAMETERS §1 [M]: band-pass 20-1999 Hz, 100 ms
windows): median frequency and band powers of the Welch spectrum, RMS percentiles, largest peak to peak.

The targets (issue 13) are checked and printed: each preset's median frequency within ±40 % of its emgdb
counterpart, the myopathic one at least 1.5 times the normal one, the myopathic RMS above the normal one at the same
effort, and the neurogenic peak to peak the largest. The exit status is 0 when all hold.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import signal

EMGDB_RATE = 4_000.0
"""emgdb's stored sample rate (its .hea files)."""
HIGH_PASS_HZ = 20.0
"""emgdb's recording high-pass (SIMULATION_PARAMETERS §3)."""
BAND_HZ = (20.0, 1999.0)
"""The measurement band of SIMULATION_PARAMETERS §1 [M]."""
WINDOW_S = 0.1
"""RMS windows (SIMULATION_PARAMETERS §1 [M])."""
WELCH_SEGMENT = 1024
"""Welch segments at 4 kHz: 0.256 s, 3.9 Hz resolution."""
LOW_BAND_HZ = (20.0, 300.0)
HIGH_BAND_HZ = (1200.0, 2000.0)
CHECK_EFFORT = 10.0
"""The effort the presets are compared at: the emgdb subjects "dorsiflexed the foot gently against resistance"."""
CHECK_SITES = 40
"""Needle sites per preset (one channel each): a site's units decide much of its spectrum, so many are pooled."""
CHECK_SECONDS = 4.0
CHECK_SEED = 1
RECORDS = {"normal": "emg_healthy", "myopathic": "emg_myopathy", "neurogenic": "emg_neuropathy"}
"""Each generic patient and its emgdb counterpart."""
FREQUENCY_TOLERANCE = 0.4
"""Median frequency within ±40 % of the emgdb counterpart (issue 13)."""
MYOPATHIC_OVER_NORMAL = 1.5
"""Myopathic median frequency at least 1.5 times the normal one (emgdb: 2.1 times)."""


@dataclass(frozen=True)
class Figures:
    """One signal's measurements."""

    median_hz: float
    low_band: float
    """Share of the power in :data:`LOW_BAND_HZ`."""
    high_band: float
    """Share of the power in :data:`HIGH_BAND_HZ`."""
    rms_uv: tuple[float, float, float]
    """10th, 50th and 90th percentiles of the RMS over :data:`WINDOW_S` windows."""
    peak_to_peak_uv: float


@dataclass(frozen=True)
class Row:
    name: str
    figures: Figures


def emgdb_chain(x: np.ndarray, rate: float) -> np.ndarray:
    """What emgdb's recorder would have stored of ``x`` (channels in rows, µV at ``rate``): a 20 Hz high-pass and
    anti-aliased resampling to 4 kHz."""
    high_pass = signal.butter(2, HIGH_PASS_HZ, "highpass", fs=rate, output="sos")
    y = signal.sosfilt(high_pass, x, axis=-1)
    up, down = _ratio(EMGDB_RATE, rate)
    return signal.resample_poly(y, up, down, axis=-1)


def _ratio(target: float, rate: float) -> tuple[int, int]:
    from fractions import Fraction

    fraction = Fraction(round(target), round(rate)).limit_denominator(1000)
    return fraction.numerator, fraction.denominator


def measure(signals: list[np.ndarray]) -> Figures:
    """The figures of one or more signals at 4 kHz (several needle sites are pooled: spectra averaged, windows
    joined)."""
    band = signal.butter(4, BAND_HZ, "bandpass", fs=EMGDB_RATE, output="sos")
    spectra, windows, peak = [], [], 0.0
    width = round(WINDOW_S * EMGDB_RATE)
    for x in signals:
        y = signal.sosfiltfilt(band, x)
        freqs, power = signal.welch(y, EMGDB_RATE, nperseg=WELCH_SEGMENT)
        spectra.append(power)
        whole = y[: y.size // width * width].reshape(-1, width)
        windows.append(np.sqrt(np.mean(whole**2, axis=1)))
        peak = max(peak, float(np.ptp(y)))
    power = np.mean(spectra, axis=0)
    cumulative = np.cumsum(power)
    total = float(cumulative[-1])

    def share(band_hz: tuple[float, float]) -> float:
        inside = (freqs >= band_hz[0]) & (freqs < band_hz[1])
        return float(power[inside].sum() / total)

    rms = np.percentile(np.concatenate(windows), [10, 50, 90])
    return Figures(
        median_hz=float(freqs[np.searchsorted(cumulative, total / 2)]),
        low_band=share(LOW_BAND_HZ),
        high_band=share(HIGH_BAND_HZ),
        rms_uv=(float(rms[0]), float(rms[1]), float(rms[2])),
        peak_to_peak_uv=peak,
    )


def emgdb_figures(folder: Path) -> dict[str, Figures]:
    """The figures of the three emgdb records in ``folder``, read with the app's own WFDB reader."""
    from emgscope.replay.wfdb_record import read_wfdb

    out = {}
    for preset, record in RECORDS.items():
        recording = read_wfdb(folder / f"{record}.hea")
        index = recording.data_signals[0]
        samples = recording.read(index, 0, recording.signals[index].n_samples).astype(np.float64)
        out[preset] = measure([samples])
    return out


def simulated_figures(
    effort: float = CHECK_EFFORT, sites: int = CHECK_SITES, seconds: float = CHECK_SECONDS, seed: int = CHECK_SEED
) -> dict[str, Figures]:
    """The three generic patients at ``effort``, ``sites`` needle sites each, through :func:`emgdb_chain`."""
    from emgscope.acquisition.simulator import SimulatedPatient
    from emgscope.core.settings import SimulatorSettings

    out = {}
    for preset in RECORDS:
        patient = SimulatedPatient(SimulatorSettings(preset, effort, 20_000.0, sites, seed))
        patient.generate(round(0.5 * patient.sample_rate))
        stored = emgdb_chain(patient.generate(round(seconds * patient.sample_rate)), patient.sample_rate)
        out[preset] = measure(list(stored))
    return out


def targets(simulated: dict[str, Figures], real: dict[str, Figures]) -> list[tuple[str, bool]]:
    """Each target of issue 13 and whether it holds."""
    checks = []
    for preset, figures in simulated.items():
        reference = real[preset].median_hz
        ratio = figures.median_hz / reference
        checks.append(
            (
                f"{preset} median frequency {figures.median_hz:.0f} Hz within ±40 % of {reference:.0f} Hz",
                abs(ratio - 1.0) <= FREQUENCY_TOLERANCE,
            )
        )
    myo, normal, neuro = simulated["myopathic"], simulated["normal"], simulated["neurogenic"]
    checks.append(
        (
            f"myopathic median frequency {myo.median_hz / normal.median_hz:.2f} × normal (≥ {MYOPATHIC_OVER_NORMAL})",
            myo.median_hz >= MYOPATHIC_OVER_NORMAL * normal.median_hz,
        )
    )
    checks.append(
        (
            f"myopathic RMS {myo.rms_uv[1]:.0f} µV above normal {normal.rms_uv[1]:.0f} µV (median of windows)",
            myo.rms_uv[1] > normal.rms_uv[1],
        )
    )
    checks.append(
        (
            f"neurogenic peak to peak {neuro.peak_to_peak_uv:.0f} µV the largest",
            neuro.peak_to_peak_uv > max(myo.peak_to_peak_uv, normal.peak_to_peak_uv),
        )
    )
    return checks


def table(simulated: dict[str, Figures], real: dict[str, Figures], effort: float) -> str:
    """The comparison as a Markdown table (the README carries one)."""
    lines = [
        "| signal | median frequency | power 20–300 Hz | power 1.2–2 kHz | RMS p10 / p50 / p90 | largest p-p |",
        "|---|---|---|---|---|---|",
    ]
    rows = [Row(f"emgdb {RECORDS[p].removeprefix('emg_')}", f) for p, f in real.items()]
    rows += [Row(f"simulated {p}, {effort:g} %", f) for p, f in simulated.items()]
    for row in rows:
        f = row.figures
        rms = " / ".join(f"{v:.0f}" for v in f.rms_uv)
        lines.append(
            f"| {row.name} | {f.median_hz:.0f} Hz | {100 * f.low_band:.0f} % | {100 * f.high_band:.0f} % "
            f"| {rms} µV | {f.peak_to_peak_uv / 1000:.2f} mV |"
        )
    return "\n".join(lines)


def default_folder() -> Path:
    """Where emgdb is looked for: ``$EMGSCOPE_SHARED_DATA/physionet_emgdb``, else ``../shared/data`` beside a
    checkout."""
    shared = os.environ.get("EMGSCOPE_SHARED_DATA")
    if shared:
        return Path(shared) / "physionet_emgdb"
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "physionet_emgdb"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--emgdb", type=Path, help="folder with PhysioNet emgdb's emg_*.hea/.dat (default: shared data)"
    )
    parser.add_argument("--effort", type=float, default=CHECK_EFFORT, help="the effort to compare at, %% (default 10)")
    parser.add_argument("--sites", type=int, default=CHECK_SITES, help="needle sites per preset (default 40)")
    parser.add_argument("--seconds", type=float, default=CHECK_SECONDS, help="signal per site (default 4)")
    parser.add_argument("--seed", type=int, default=CHECK_SEED, help="the simulated patients' seed")


def run(args: argparse.Namespace) -> int:
    from emgscope.replay.reader import RecordingError

    folder = args.emgdb or default_folder()
    missing = [name for name in RECORDS.values() if not (folder / f"{name}.hea").is_file()]
    if missing:
        print(
            f"emgscope simcheck: no PhysioNet emgdb record {missing[0]} in {folder}: give the folder with --emgdb "
            "(or set EMGSCOPE_SHARED_DATA)",
            file=sys.stderr,
        )
        return 2
    if not 0 < args.effort <= 100 or args.sites < 1 or args.seconds <= 0:
        print("emgscope simcheck: --effort must be 0-100 %, --sites and --seconds positive", file=sys.stderr)
        return 2
    try:
        real = emgdb_figures(folder)
    except RecordingError as exc:
        print(f"emgscope simcheck: {folder}: {exc}", file=sys.stderr)
        return 1
    simulated = simulated_figures(args.effort, args.sites, args.seconds, args.seed)
    print(table(simulated, real, args.effort))
    print()
    results = targets(simulated, real)
    for text, held in results:
        print(f"{'✓' if held else '✗'} {text}")
    return 0 if all(held for _, held in results) else 1
