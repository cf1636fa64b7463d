"""Typed settings with a schema version, persisted as JSON in the user's config folder.

Each group is a dataclass so a typo is an attribute error, not a silently ignored key. Loading tolerates a
file from an older or damaged version: unknown keys are dropped, missing keys take their defaults, and a file
that cannot be parsed is set aside (renamed ``.bad``) rather than crashing the app at the bedside.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from emgscope.audio.settings import AudioSettings
from emgscope.recording.settings import RecordingSettings

SCHEMA_VERSION = 1

SENSITIVITY_PRESETS_UV: tuple[float, ...] = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
"""Vertical sensitivity presets in µV per division (DESIGN §3)."""

SWEEP_PRESETS_MS: tuple[float, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
"""Horizontal sweep-speed presets in ms per division (DESIGN §3)."""

DIVISIONS = 10
"""Divisions across and down the screen, as on a clinical EMG machine."""

PATHOLOGIES: tuple[str, ...] = ("normal", "myopathic", "neurogenic")
"""The simulated patient's presets."""
MAINS_HZ: tuple[float, ...] = (0.0, 50.0, 60.0)
"""The simulated patient's mains hum (``SimulatorSettings.mains_hz``): none, or either mains frequency."""


@dataclass
class FilterSettings:
    """The clinical filters, in Hz. ``0`` turns a filter off."""

    preset: str = "needle"
    low_cut_hz: float = 10.0
    """Low-frequency filter (high-pass)."""
    high_cut_hz: float = 10_000.0
    """High-frequency filter (low-pass); clamped below Nyquist for slow devices."""
    notch_hz: float = 0.0
    """Mains notch, 50 or 60 Hz, with harmonics; off by default for needle EMG."""
    notch_harmonics: int = 3


FILTER_PRESETS: dict[str, FilterSettings] = {
    "needle": FilterSettings("needle", 10.0, 10_000.0, 0.0),
    "surface": FilterSettings("surface", 20.0, 450.0, 0.0),
}


@dataclass
class SimulatorSettings:
    """The simulated patient."""

    pathology: str = "normal"
    effort_percent: float = 0.0
    sample_rate: float = 20_000.0
    channels: int = 1
    seed: int = 1
    mains_hz: float = 0.0
    patient: str = ""
    """A teaching patient (``NAME`` or ``NAME:MUSCLE``, resources/patients); empty: the generic ``pathology``."""


@dataclass
class BrainFlowSettings:
    """A BrainFlow board and its connection parameters (empty string = not used by that board)."""

    board: str = "SYNTHETIC_BOARD"
    serial_port: str = ""
    mac_address: str = ""
    ip_address: str = ""
    ip_port: int = 0
    serial_number: str = ""
    file: str = ""
    master_board: str = ""
    timeout: int = 0


@dataclass
class ReplaySettings:
    """A recording played back as a source."""

    file: str = ""
    board: str = ""
    """For a BrainFlow data file: the board that wrote it."""
    speed: float = 1.0
    start_s: float = 0.0
    """Where replay begins (a replay restarted after its end starts where the user asked)."""


@dataclass
class SourceSettings:
    kind: str = "sim"
    """``sim``, ``brainflow`` or ``replay``."""
    simulator: SimulatorSettings = field(default_factory=SimulatorSettings)
    brainflow: BrainFlowSettings = field(default_factory=BrainFlowSettings)
    replay: ReplaySettings = field(default_factory=ReplaySettings)


@dataclass
class DisplaySettings:
    sensitivity_uv: float = 100.0
    sweep_ms: float = 100.0
    mode: str = "sweep"
    """``sweep`` (erase bar) or ``scroll``."""
    hidden_channels: list[str] = field(default_factory=list)


@dataclass
class Settings:
    schema_version: int = SCHEMA_VERSION
    source: SourceSettings = field(default_factory=SourceSettings)
    filters: FilterSettings = field(default_factory=FilterSettings)
    display: DisplaySettings = field(default_factory=DisplaySettings)
    recording: RecordingSettings = field(default_factory=RecordingSettings)
    audio: AudioSettings = field(default_factory=AudioSettings)


T = TypeVar("T")


def from_dict(cls: type[T], data: Any) -> T:
    """Build dataclass ``cls`` from ``data``, keeping defaults for missing or mistyped fields."""
    instance = cls()
    if not isinstance(data, dict):
        return instance
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            continue
        current = getattr(instance, f.name)
        value = data[f.name]
        if dataclasses.is_dataclass(current):
            setattr(instance, f.name, from_dict(type(current), value))
        elif isinstance(current, bool) or not isinstance(value, (int, float, str, list)):
            continue
        elif isinstance(current, float) and isinstance(value, (int, float)):
            setattr(instance, f.name, float(value))
        elif type(value) is type(current):
            setattr(instance, f.name, value)
    return instance


def config_dir() -> Path:
    """The user's config folder for emgscope (``$XDG_CONFIG_HOME/emgscope``, overridable for tests)."""
    override = os.environ.get("EMGSCOPE_CONFIG_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "emgscope"


def settings_path() -> Path:
    return config_dir() / "settings.json"


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings file; a missing file gives defaults, a damaged one is renamed ``.bad``."""
    path = path or settings_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            path.replace(path.with_suffix(".bad"))
        return Settings()
    settings = from_dict(Settings, data)
    settings.schema_version = SCHEMA_VERSION
    _repair_display(settings.display)
    return settings


DISPLAY_MODES: tuple[str, ...] = ("sweep", "scroll")


def nearest_preset(presets: tuple[float, ...], value: float) -> float:
    """The preset closest to ``value`` on a log scale (a hand-edited 0 or a negative value gives the smallest)."""
    if not math.isfinite(value) or value <= 0:
        return float(presets[0])
    return float(min(presets, key=lambda preset: abs(math.log(preset / value))))


def _repair_display(display: DisplaySettings) -> None:
    """Snap the scales to the presets and the mode to a known one: a file edited by hand (or by an older
    version) must not open a scope at 0 µV/div, which draws nothing and divides by zero."""
    display.sensitivity_uv = nearest_preset(SENSITIVITY_PRESETS_UV, display.sensitivity_uv)
    display.sweep_ms = nearest_preset(SWEEP_PRESETS_MS, display.sweep_ms)
    if display.mode not in DISPLAY_MODES:
        display.mode = DisplaySettings.mode
    display.hidden_channels = [label for label in display.hidden_channels if isinstance(label, str)]


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write the settings atomically (a crash mid-write leaves the previous file)."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(dataclasses.asdict(settings), indent=2), encoding="utf-8")
    tmp.replace(path)
