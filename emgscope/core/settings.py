"""Typed settings with a schema version, persisted as JSON in the user's config folder.

Each group is a dataclass so a typo is an attribute error, not a silently ignored key, and each field carries its
type and its limits (``Annotated[..., Meta(...)]``), which msgspec checks when the file is read: a volume of
1e308 dB or a block size of -1 never reaches the sound card. Loading keeps whatever it can of a damaged file:

* a field of the wrong type or out of its limits is reset to its default, and the others are kept;
* a file cut short (a crash while another tool wrote it) is read up to the cut;
* a file that is not JSON at all, or nested far deeper than settings are, gives the defaults;
* a file from an older version is brought up to date by :data:`MIGRATIONS`, one version at a time.

Whenever something was reset, the old file is copied aside first (``settings.json.bad-<time>``), the repaired
settings are written back, and :class:`LoadedSettings` carries one sentence naming what was reset, for the app
to say once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

SCHEMA_VERSION = 2

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
    """``needle``, ``surface`` or ``custom``."""
    low_cut_hz: Annotated[float, Meta(ge=0, le=100_000)] = 10.0
    """Low-frequency filter (high-pass)."""
    high_cut_hz: Annotated[float, Meta(ge=0, le=1_000_000)] = 10_000.0
    """High-frequency filter (low-pass); clamped below Nyquist for slow devices."""
    notch_hz: Annotated[float, Meta(ge=0, le=60)] = 0.0
    """Mains notch, 50 or 60 Hz, with harmonics; off by default for needle EMG (loading snaps it to those)."""
    notch_harmonics: Annotated[int, Meta(ge=1, le=20)] = 3


FILTER_PRESETS: dict[str, FilterSettings] = {
    "needle": FilterSettings("needle", 10.0, 10_000.0, 0.0),
    "surface": FilterSettings("surface", 20.0, 450.0, 0.0),
}


@dataclass
class SimulatorSettings:
    """The simulated patient."""

    pathology: Literal["normal", "myopathic", "neurogenic"] = "normal"
    effort_percent: Annotated[float, Meta(ge=0, le=100)] = 0.0
    sample_rate: Annotated[float, Meta(ge=1_000, le=200_000)] = 20_000.0
    channels: Annotated[int, Meta(ge=1, le=64)] = 1
    seed: Annotated[int, Meta(ge=0)] = 1
    mains_hz: Annotated[float, Meta(ge=0, le=60)] = 0.0
    """Mains hum: 0, 50 or 60 Hz (loading snaps it to those)."""
    patient: str = ""
    """A teaching patient (``NAME`` or ``NAME:MUSCLE``, resources/patients); empty: the generic ``pathology``."""


@dataclass
class BrainFlowSettings:
    """A BrainFlow board and its connection parameters (empty string = not used by that board)."""

    board: str = "SYNTHETIC_BOARD"
    serial_port: str = ""
    mac_address: str = ""
    ip_address: str = ""
    ip_port: Annotated[int, Meta(ge=0, le=65_535)] = 0
    serial_number: str = ""
    file: str = ""
    master_board: str = ""
    timeout: Annotated[int, Meta(ge=0, le=3_600)] = 0


@dataclass
class ReplaySettings:
    """A recording played back as a source."""

    file: str = ""
    board: str = ""
    """For a BrainFlow data file: the board that wrote it."""
    speed: Annotated[float, Meta(ge=0.25, le=4.0)] = 1.0
    start_s: Annotated[float, Meta(ge=0)] = 0.0
    """Where replay begins (a replay restarted after its end starts where the user asked)."""


@dataclass
class LslSettings:
    """A Lab Streaming Layer stream taken as an amplifier."""

    name: str = ""
    """The stream's name in its LSL metadata."""
    markers: str = ""
    """An LSL marker stream whose markers become annotations of the recording ('' for none)."""
    resolve_timeout_s: Annotated[float, Meta(ge=0.2, le=60)] = 2.0
    """How long to look for the streams on the network."""


@dataclass
class SourceSettings:
    kind: Literal["sim", "brainflow", "replay", "lsl"] = "sim"
    """``sim``, ``brainflow``, ``replay`` or ``lsl``."""
    simulator: SimulatorSettings = field(default_factory=SimulatorSettings)
    brainflow: BrainFlowSettings = field(default_factory=BrainFlowSettings)
    replay: ReplaySettings = field(default_factory=ReplaySettings)
    lsl: LslSettings = field(default_factory=LslSettings)


@dataclass
class LslOutSettings:
    """Publishing the signal and the markers as LSL streams; whether to publish is chosen each run (off at start)."""

    signal: Literal["filtered", "raw"] = "filtered"
    """The filtered signal (as drawn and heard) or the raw one (as recorded)."""
    name: Annotated[str, Meta(min_length=1, max_length=100)] = "emgscope"
    """The signal stream's name; the marker stream's adds ``markers``."""


RISING = "rising"
FALLING = "falling"
SLOPES = (RISING, FALLING)
SUPERIMPOSE = "superimpose"
RASTER = "raster"
TRIGGER_STYLES = (SUPERIMPOSE, RASTER)
"""Kept sweeps on one baseline (older ones fainter), or one under another."""

MS_PER_DIV_RANGE = (1.0, 20.0)
"""Sweep speeds the trigger offers (issue 14: 1-20 ms/div; QEMG §1: 5-10 ms/div is usual for MUPs)."""
PRETRIGGER_DEFAULT = 0.25
"""Share of the sweep before the trigger: QEMG §1 gives 20-30 % as usual practice [T]; Intan RHX offers 1/4."""
HOLDOFF_MS_DEFAULT = 20.0
"""Dead time after a crossing. Longer than the part of a MUP after its main spike (durations 2-15 ms in normal
muscle, up to about 27 ms in reinnervated units whose spike sits a third of the way in, SIMULATION_PARAMETERS
§1), shorter than the interval of a unit firing at 50 Hz, the top of the secondary range."""
KEEP_DEFAULT = 20
"""Sweeps kept for the superimposed or rastered display and the average."""
KEEP_RANGE = (1, 50)
"""How many sweeps may be kept for the display and the average."""


@dataclass(frozen=True)
class TriggerSettings:
    """How the trigger fires and how long a sweep is."""

    level_uv: Annotated[float, Meta(ge=-1e6, le=1e6)] = -100.0
    slope: Literal["rising", "falling"] = FALLING
    window_uv: Annotated[float, Meta(ge=-1e6, le=1e6)] | None = None
    """The amplitude window's far level, beyond ``level_uv`` in the direction of the slope (above it on a rising
    slope, below it on a falling one), or ``None`` for a plain level trigger."""
    ms_per_div: Annotated[float, Meta(ge=MS_PER_DIV_RANGE[0], le=MS_PER_DIV_RANGE[1])] = 10.0
    pretrigger: Annotated[float, Meta(ge=0.0, le=0.9)] = PRETRIGGER_DEFAULT
    """Fraction of the sweep shown before the trigger sample, 0 to 0.9."""
    holdoff_ms: Annotated[float, Meta(ge=0.0)] = HOLDOFF_MS_DEFAULT

    def check(self) -> None:
        """Refuse settings the trigger cannot honour, with a message fit for the user."""
        if self.slope not in SLOPES:
            raise ValueError(f"unknown slope {self.slope!r}: use 'rising' or 'falling'")
        low, high = MS_PER_DIV_RANGE
        if not low <= self.ms_per_div <= high:
            raise ValueError(f"{self.ms_per_div:g} ms/div is outside the trigger's {low:g}-{high:g} ms/div")
        if not 0.0 <= self.pretrigger <= 0.9:
            raise ValueError(f"a pre-trigger of {self.pretrigger:.0%} is outside 0-90 % of the sweep")
        if self.holdoff_ms < 0:
            raise ValueError(f"a hold-off of {self.holdoff_ms:g} ms is negative")
        if self.window_uv is not None:
            beyond = self.window_uv > self.level_uv if self.slope == RISING else self.window_uv < self.level_uv
            if not beyond:
                side = "above" if self.slope == RISING else "below"
                raise ValueError(
                    f"the amplitude window's level ({self.window_uv:g} µV) must be {side} the trigger level "
                    f"({self.level_uv:g} µV) on a {self.slope} slope"
                )

    def sweep_samples(self, sample_rate: float) -> int:
        """Samples in one sweep of ten divisions."""
        return max(2, round(DIVISIONS * self.ms_per_div * sample_rate / 1000.0))

    def pre_samples(self, sample_rate: float) -> int:
        """Samples of a sweep before its trigger sample."""
        return round(self.pretrigger * self.sweep_samples(sample_rate))


@dataclass
class DisplaySettings:
    sensitivity_uv: Annotated[float, Meta(gt=0)] = 100.0
    sweep_ms: Annotated[float, Meta(gt=0)] = 100.0
    mode: Literal["sweep", "scroll", "triggered"] = "sweep"
    """``sweep`` (erase bar), ``scroll`` or ``triggered`` (the trigger and delay line)."""
    hidden_channels: list[str] = field(default_factory=list)
    trigger: TriggerSettings = field(default_factory=TriggerSettings)
    """The triggered mode's trigger and sweep, as the operator last set them."""
    trigger_style: Literal["superimpose", "raster"] = SUPERIMPOSE
    trigger_keep: Annotated[int, Meta(ge=KEEP_RANGE[0], le=KEEP_RANGE[1])] = KEEP_DEFAULT


@dataclass
class StudySettings:
    """Where each new patient's study starts: the scales and filters the operator saved as their defaults (the
    app's own until then), so nothing carries over from the last patient unseen."""

    sensitivity_uv: Annotated[float, Meta(gt=0)] = DisplaySettings.sensitivity_uv
    sweep_ms: Annotated[float, Meta(gt=0)] = DisplaySettings.sweep_ms
    mode: Literal["sweep", "scroll"] = "sweep"
    filters: FilterSettings = field(default_factory=FilterSettings)


SQUELCH_MAX_UV = 2000.0
"""Highest squelch threshold offered: above it even a large MUAP would be silenced."""
VOLUME_RANGE_DB: tuple[float, float] = (-40.0, 40.0)
"""Volume control range; 0 dB plays ``FULL_SCALE_UV`` (see :mod:`emgscope.audio.dsp`) at full scale."""


@dataclass
class AudioSettings:
    """Audio monitor settings, persisted with the rest (``Settings.audio``)."""

    enabled: bool = True
    device: str = ""
    """PortAudio output device name (or part of it); empty = the system default."""
    sample_rate: Annotated[float, Meta(ge=8_000, le=384_000)] = 48_000.0
    blocksize: Annotated[int, Meta(ge=16, le=8_192)] = 128
    """Frames per PortAudio callback. 128 at 48 kHz (2.7 ms) measured 4.4–5.6 ms of stream latency on
    PulseAudio; 64 measured 2.4–3.9 ms but PulseAudio reported underflows several times a minute."""
    stream_latency_s: Annotated[float, Meta(ge=0, le=1)] = 0.004
    """Suggested PortAudio output latency; the host rounds it (PulseAudio gives 5.3 ms for 4 ms asked)."""
    target_buffer_ms: Annotated[float, Meta(ge=0, le=500)] = 8.0
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
    volume_db: Annotated[float, Meta(ge=VOLUME_RANGE_DB[0], le=VOLUME_RANGE_DB[1])] = 0.0
    muted: bool = False
    squelch_uv: Annotated[float, Meta(ge=0, le=SQUELCH_MAX_UV)] = 0.0
    """Samples whose magnitude stays below this are silenced (0 = squelch off)."""
    band_filter: bool = False
    band_low_hz: Annotated[float, Meta(ge=1, le=20_000)] = 100.0
    band_high_hz: Annotated[float, Meta(ge=1, le=24_000)] = 5_000.0


FORMATS = ("bdf", "edf")


@dataclass
class RecordingSettings:
    """Where sessions go and in which format; persisted with the app's settings."""

    sessions_folder: str = ""
    """Empty means ``~/emgscope-sessions``."""
    format: Literal["bdf", "edf"] = "bdf"
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
    study: StudySettings = field(default_factory=StudySettings)
    lsl_out: LslOutSettings = field(default_factory=LslOutSettings)
    notice_shown: bool = False
    """The not-a-medical-device notice has been shown once (at the first start), so it is not shown again."""


def config_dir() -> Path:
    """The user's config folder for emgscope (``$XDG_CONFIG_HOME/emgscope``, overridable for tests)."""
    override = os.environ.get("EMGSCOPE_CONFIG_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "emgscope"


def settings_path() -> Path:
    return config_dir() / "settings.json"


@dataclass(frozen=True)
class LoadedSettings:
    """The settings read from the file, and what the app should say about it once (:attr:`notice`)."""

    settings: Settings
    reset: tuple[str, ...] = ()
    """Fields reset to their defaults (``audio.blocksize``), or ``("*",)`` when nothing was readable."""
    backup: Path | None = None
    """Where the old file was copied before it was repaired."""
    cut: bool = False
    """The file was cut short: what came after the cut took its defaults."""

    @property
    def notice(self) -> str:
        """One sentence for the operator, or ``""`` when the file was fine."""
        kept = f" A copy of the old file is at {self.backup}." if self.backup else ""
        if self.reset == ("*",):
            return f"The settings file could not be read, so the defaults are used.{kept}"
        said = []
        if self.cut:
            said.append("The settings file was cut short: the settings after the cut are back to their defaults.")
        if self.reset:
            said.append(f"Some settings were not valid and were reset to their defaults: {', '.join(self.reset)}.")
        return " ".join(said) + kept if said else ""


Migration = Callable[[dict[str, Any]], dict[str, Any]]


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 could leave a replay as the source to start with (a replay is one visit to a file, and the app
    meant to save the live source instead); version 2 starts such a file on the simulated patient. Its booleans
    were written but never read back (a defect of its loader): they hold what the operator last had, and are kept."""
    source = data.get("source")
    if isinstance(source, dict) and source.get("kind") == "replay":
        source["kind"] = "sim"
    return data


MIGRATIONS: dict[int, Migration] = {1: _v1_to_v2}
"""``version: migration`` turns a file of that schema version into one of the next."""
MAX_REPAIRS = 200
"""Fields reset one at a time at most (more than there are settings): a file broken beyond that gives defaults."""
MAX_NESTING = 16
"""Deeper than any settings file (3 levels): a file nested deeper is not settings and is not parsed at all."""
MAX_CUTS = 2_000
"""How many places a file cut short is tried at, from its end back."""
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},]')
"""A JSON string (skipped whole, so brackets inside it do not count), a bracket or a comma."""


def load_settings(path: Path | None = None) -> LoadedSettings:
    """Read the settings file, keeping every valid field (see the module's docstring); a missing file gives the
    defaults and nothing to say."""
    path = path or settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LoadedSettings(Settings())
    except (OSError, UnicodeDecodeError):
        return _repaired(path, Settings(), ("*",))
    data, cut = _parse(text)
    if not isinstance(data, dict):
        return _repaired(path, Settings(), ("*",))
    settings, reset = _validated(_migrate(data))
    reset += _inconsistent(settings)
    settings.schema_version = SCHEMA_VERSION
    _snap(settings)
    return _repaired(path, settings, tuple(reset), cut) if reset or cut else LoadedSettings(settings)


def _parse(text: str) -> tuple[Any, bool]:
    """The JSON document in ``text`` (``None`` when it cannot be read), and whether it was cut short."""
    if _nesting(text) > MAX_NESTING:
        return None, False
    try:
        return json.loads(text), False
    except ValueError:
        salvaged = _salvaged(text)
        return salvaged, salvaged is not None


def _nesting(text: str) -> int:
    depth = deepest = 0
    for token in _TOKEN.finditer(text):
        char = token.group()
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _salvaged(text: str) -> Any:
    """A file cut short: the longest part that ends after a whole value, its open brackets closed."""
    tokens = [t for t in _TOKEN.finditer(text) if t.group() in ",]}"]
    for token in reversed(tokens[-MAX_CUTS:]):
        head = text[: token.start() if token.group() == "," else token.end()]
        closers: list[str] = []
        for inner in _TOKEN.finditer(head):
            char = inner.group()
            if char in "[{":
                closers.append("]" if char == "[" else "}")
            elif char in "]}" and closers:
                closers.pop()
        try:
            return json.loads(head + "".join(reversed(closers)))
        except ValueError:
            continue
    return None


def _migrate(data: dict[str, Any]) -> dict[str, Any]:
    version = data.get("schema_version")
    version = version if isinstance(version, int) and not isinstance(version, bool) else 1
    while version < SCHEMA_VERSION and version in MIGRATIONS:
        data = MIGRATIONS[version](data)
        version += 1
    return data


def _validated(data: dict[str, Any]) -> tuple[Settings, list[str]]:
    """``data`` as :class:`Settings`, each invalid field dropped (so it takes its default) and named."""
    reset: list[str] = []
    for _ in range(MAX_REPAIRS):
        try:
            return msgspec.convert(data, Settings), reset
        except msgspec.ValidationError as exc:
            where = re.search(r"at `\$((?:\.\w+)+)", str(exc))
            if where is None:
                break
            keys = where.group(1).lstrip(".").split(".")
            container: Any = data
            for key in keys[:-1]:
                container = container[key]
            del container[keys[-1]]
            reset.append(".".join(keys))
    return Settings(), ["*"]


def _inconsistent(settings: Settings) -> list[str]:
    """Groups whose fields are each valid but do not go together (an amplitude window on the wrong side of its
    trigger level), reset to their defaults and named."""
    try:
        settings.display.trigger.check()
    except ValueError:
        settings.display.trigger = TriggerSettings()
        return ["display.trigger"]
    return []


def _repaired(path: Path, settings: Settings, reset: tuple[str, ...], cut: bool = False) -> LoadedSettings:
    """Copy the damaged file aside, write the repaired settings over it, and say what was reset."""
    backup: Path | None = path.with_name(f"{path.name}.bad-{datetime.now():%Y%m%d-%H%M%S}")
    try:
        shutil.copyfile(path, backup)
    except OSError:
        backup = None
    with contextlib.suppress(OSError):
        save_settings(settings, path)
    return LoadedSettings(settings, reset, backup, cut)


def nearest_preset(presets: tuple[float, ...], value: float) -> float:
    """The preset closest to ``value`` on a log scale (a hand-edited 0 or a negative value gives the smallest)."""
    if not math.isfinite(value) or value <= 0:
        return float(presets[0])
    return float(min(presets, key=lambda preset: abs(math.log(preset / value))))


def _snap(settings: Settings) -> None:
    """Snap the scales to the presets and the mains to 0, 50 or 60 Hz: a file edited by hand (or by an older
    version) must not open a scope at 3 µV/div, between two presets the keys step through, or notch 55 Hz."""
    for scales in (settings.display, settings.study):
        scales.sensitivity_uv = nearest_preset(SENSITIVITY_PRESETS_UV, scales.sensitivity_uv)
        scales.sweep_ms = nearest_preset(SWEEP_PRESETS_MS, scales.sweep_ms)
    for filters in (settings.filters, settings.study.filters):
        filters.notch_hz = min(MAINS_HZ, key=lambda hz: abs(hz - filters.notch_hz))
    simulator = settings.source.simulator
    simulator.mains_hz = min(MAINS_HZ, key=lambda hz: abs(hz - simulator.mains_hz))


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write the settings atomically (a crash mid-write leaves the previous file)."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(dataclasses.asdict(settings), indent=2), encoding="utf-8")
    tmp.replace(path)
