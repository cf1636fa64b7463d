"""Settings persist between runs, every field type included, and survive damaged, cut or older files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from support.settings import every_field_changed

from emgscope.cli import gui_parser
from emgscope.core.settings import (
    SCHEMA_VERSION,
    AudioSettings,
    LoadedSettings,
    Settings,
    TriggerSettings,
    load_settings,
    save_settings,
    settings_path,
)
from emgscope.session.options import apply_source_options


def write(data: Any) -> Path:
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_every_field_round_trips(private_config_dir: Path) -> None:
    settings = every_field_changed()
    save_settings(settings)
    assert settings_path().parent == private_config_dir
    loaded = load_settings()
    assert loaded.settings == settings and loaded.notice == ""
    for name in ("muted", "band_filter", "enabled", "separate_process", "keep_processors_awake"):
        assert (
            getattr(loaded.settings.audio, name) is getattr(settings.audio, name) is not getattr(AudioSettings(), name)
        )


def test_a_mistyped_field_is_reset_and_the_rest_kept_with_one_notice_and_a_copy(private_config_dir: Path) -> None:
    good = every_field_changed()
    data = dataclasses.asdict(good)
    data["audio"]["blocksize"] = -1
    data["audio"]["sample_rate"] = 0
    data["audio"]["volume_db"] = 1e308
    data["audio"]["muted"] = "yes"
    data["display"]["hidden_channels"] = ["Needle 2", 3]
    data["source"]["kind"] = "teleport"
    data["future_group"] = {"x": 1}
    path = write(data)
    original = path.read_text(encoding="utf-8")
    loaded = load_settings()
    audio, defaults = loaded.settings.audio, AudioSettings()
    assert (audio.blocksize, audio.sample_rate, audio.volume_db, audio.muted) == (
        defaults.blocksize, defaults.sample_rate, defaults.volume_db, defaults.muted,
    )  # fmt: skip
    assert audio.squelch_uv == 40.0 and audio.band_filter is good.audio.band_filter  # the good ones stay
    assert loaded.settings.display.hidden_channels == [] and loaded.settings.display.sweep_ms == 20.0
    assert loaded.settings.source.kind == "sim" and loaded.settings.source.simulator == good.source.simulator
    assert set(loaded.reset) == {
        "audio.blocksize", "audio.sample_rate", "audio.volume_db", "audio.muted", "display.hidden_channels",
        "source.kind",
    }  # fmt: skip
    assert "audio.blocksize" in loaded.notice and str(loaded.backup) in loaded.notice
    assert loaded.backup is not None and loaded.backup.read_text(encoding="utf-8") == original
    again = load_settings()  # the repaired file was written back: the next start has nothing to say
    assert again.notice == "" and again.settings == loaded.settings


def test_a_file_cut_short_keeps_what_came_before_the_cut(private_config_dir: Path) -> None:
    text = json.dumps(dataclasses.asdict(every_field_changed()), indent=2)
    cut = text[: text.index('"display"') + 40]  # cut inside the display group, mid-value
    write(cut)
    loaded = load_settings()
    assert loaded.settings.filters.low_cut_hz == 20.0 and loaded.settings.source.simulator.channels == 4
    assert loaded.settings.audio == AudioSettings()  # written after the cut: defaults
    assert loaded.backup is not None and loaded.backup.read_text(encoding="utf-8") == cut
    assert loaded.cut and "cut short" in loaded.notice


@pytest.mark.parametrize(
    "content",
    ["{not json", "", "[1, 2]", "null", "[" * 100_000 + "]" * 100_000, '{"a":' * 50_000],
    ids=["garbage", "empty", "a list", "null", "deep brackets", "deep objects"],
)
def test_an_unreadable_file_gives_the_defaults_and_says_so(private_config_dir: Path, content: str) -> None:
    write(content)
    loaded = load_settings()
    assert loaded.settings == Settings() and loaded.reset == ("*",)
    assert "could not be read" in loaded.notice
    assert loaded.backup is not None and loaded.backup.read_text(encoding="utf-8") == content


def test_a_version_1_file_is_migrated(private_config_dir: Path) -> None:
    data = dataclasses.asdict(every_field_changed())
    data["schema_version"] = 1
    data["source"]["kind"] = "replay"  # version 1 could leave a replay as the source to start with
    write(data)
    loaded = load_settings()
    assert loaded.settings.schema_version == SCHEMA_VERSION == 2
    assert loaded.settings.source.kind == "sim" and loaded.notice == ""
    assert loaded.settings.audio.muted is True  # its booleans, never read back by version 1, are kept


def test_a_missing_file_gives_the_defaults_quietly(private_config_dir: Path) -> None:
    assert load_settings() == LoadedSettings(Settings())


def test_command_line_source_options_override_settings() -> None:
    settings = Settings()
    args = gui_parser().parse_args(["--pathology", "myopathic", "--effort", "40", "--rate", "10000", "--seed", "7"])
    apply_source_options(args, settings)
    sim = settings.source.simulator
    assert (sim.pathology, sim.effort_percent, sim.sample_rate, sim.seed) == ("myopathic", 40.0, 10000.0, 7)
    assert settings.source.kind == "sim"

    args = gui_parser().parse_args(["--board", "CYTON_BOARD", "--serial-port", "/dev/ttyUSB0"])
    apply_source_options(args, settings)
    assert settings.source.kind == "brainflow"
    assert settings.source.brainflow.board == "CYTON_BOARD"
    assert settings.source.brainflow.serial_port == "/dev/ttyUSB0"


def test_scales_and_mains_snap_to_the_presets(private_config_dir: Path) -> None:
    """A hand-edited file must not open the scope at 0 µV/div or a negative sweep (it divided by zero)."""
    for display, expected in (
        ({"sensitivity_uv": 0, "sweep_ms": -5}, (100.0, 100.0)),  # out of their limits: reset
        ({"sensitivity_uv": 180, "sweep_ms": 12.5}, (200.0, 10.0)),  # between presets: snapped
        ({"sensitivity_uv": 1e9, "sweep_ms": 1e9}, (5000.0, 1000.0)),
    ):
        write({"display": display, "filters": {"notch_hz": 55}})
        loaded = load_settings().settings
        assert (loaded.display.sensitivity_uv, loaded.display.sweep_ms) == expected
        assert loaded.filters.notch_hz == 50.0


def test_a_trigger_window_on_the_wrong_side_of_its_level_resets_the_trigger_alone(tmp_path: Path) -> None:
    """Each field valid, together impossible (a falling slope's window above its level): the trigger takes its
    defaults and is named; the rest of the display group is kept."""
    path = tmp_path / "settings.json"
    settings = Settings()
    settings.display.sensitivity_uv = 50.0
    save_settings(settings, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["display"]["trigger"].update(level_uv=-100.0, slope="falling", window_uv=-50.0, ms_per_div=5.0)
    path.write_text(json.dumps(data), encoding="utf-8")
    loaded = load_settings(path)
    assert loaded.reset == ("display.trigger",)
    assert loaded.settings.display.trigger == TriggerSettings()
    assert loaded.settings.display.sensitivity_uv == 50.0
