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


VOLUME_RANGE_DB: tuple[float, float] = (-40.0, 40.0)
"""Volume control range; 0 dB plays ``FULL_SCALE_UV`` (see :mod:`emgscope.audio.dsp`) at full scale."""


@dataclass
class AudioSettings:
    """Audio monitor settings, persisted with the rest (``Settings.audio``)."""

    enabled: bool = True
    device: str = ""
    """PortAudio output device name (or part of it); empty = the system default."""
    sample_rate: float = 48_000.0
    blocksize: int = 128
    """Frames per PortAudio callback. 128 at 48 kHz (2.7 ms) measured 4.4–5.6 ms of stream latency on
    PulseAudio; 64 measured 2.4–3.9 ms but PulseAudio reported underflows several times a minute."""
    stream_latency_s: float = 0.004
    """Suggested PortAudio output latency; the host rounds it (PulseAudio gives 5.3 ms for 4 ms asked)."""
    target_buffer_ms: float = 8.0
    """Source samples held between the ring and the resampler: the drift control keeps the buffer here.
    It must cover one audio block and the longest gap between two writes to the ring, or the sound breaks up.
    The pump polls every 1 ms in the acquisition process: measured with the window drawing 16 channels at
    20 kHz, gaps of ~1.1 ms typically and, once or twice a minute, 5–10 ms when the whole machine stalls."""
    separate_process: bool = True
    """Run the stream in its own process, where the callback never waits for the GUI's GIL (measured: up to
    8 ms while the window draws, more than the stream's buffer)."""
    keep_processors_awake: bool = True
    """While sound plays, ask Linux to keep idle processors from sleeping (see
    :class:`~emgscope.core.realtime.ProcessorsAwake`): a core that sleeps between two blocks can wake too late
    for the stream (measured by ``emgscope bench`` here: 2–5 underruns a minute without, none with). Costs power;
    off suits a laptop on battery better than a needle examination."""
    volume_db: float = 0.0
    muted: bool = False
    squelch_uv: float = 0.0
    """Samples whose magnitude stays below this are silenced (0 = squelch off)."""
    band_filter: bool = False
    band_low_hz: float = 100.0
    band_high_hz: float = 5_000.0


FORMATS = ("bdf", "edf")


@dataclass
class RecordingSettings:
    """Where sessions go and in which format; persisted with the app's settings."""

    sessions_folder: str = ""
    """Empty means ``~/emgscope-sessions``."""
    format: str = "bdf"
    """``bdf`` (BDF+, 24-bit, the default) or ``edf`` (EDF+, 16-bit)."""

    def folder(self) -> Path:
        return Path(self.sessions_folder).expanduser() if self.sessions_folder else Path.home() / "emgscope-sessions"


@dataclass
class Settings:
    schema_version: int = SCHEMA_VERSION
    source: SourceSettings = field(default_factory=SourceSettings)
    filters: FilterSettings = field(default_factory=FilterSettings)
    display: DisplaySettings = field(default_factory=DisplaySettings)
    recording: RecordingSettings = field(default_factory=RecordingSettings)
    audio: AudioSettings = field(default_factory=AudioSettings)
    notice_shown: bool = False
    """The not-a-medical-device notice has been shown once (at the first start), so it is not shown again."""


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
