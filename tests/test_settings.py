"""Settings persist between runs and survive damaged or older files."""

from __future__ import annotations

import json
from pathlib import Path

from emgscope.cli import gui_parser
from emgscope.core.settings import SCHEMA_VERSION, Settings, load_settings, save_settings, settings_path
from emgscope.session.options import apply_source_options


def test_round_trip(private_config_dir: Path) -> None:
    settings = Settings()
    settings.display.sensitivity_uv = 500.0
    settings.display.hidden_channels = ["Needle 2"]
    settings.filters.notch_hz = 50.0
    settings.source.simulator.pathology = "neurogenic"
    save_settings(settings)
    assert settings_path().parent == private_config_dir
    loaded = load_settings()
    assert loaded == settings


def test_damaged_file_is_set_aside_and_defaults_used(private_config_dir: Path) -> None:
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json", encoding="utf-8")
    assert load_settings() == Settings()
    assert path.with_suffix(".bad").read_text(encoding="utf-8") == "{not json"


def test_unknown_keys_and_wrong_types_keep_defaults(private_config_dir: Path) -> None:
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "schema_version": 0,
        "display": {"sensitivity_uv": "loud", "sweep_ms": 20, "colour": "red"},
        "filters": {"low_cut_hz": 20},
        "future_group": {"x": 1},
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    loaded = load_settings()
    assert loaded.schema_version == SCHEMA_VERSION
    assert loaded.display.sensitivity_uv == Settings().display.sensitivity_uv
    assert loaded.display.sweep_ms == 20.0 and isinstance(loaded.display.sweep_ms, float)
    assert loaded.filters.low_cut_hz == 20.0


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


def test_scales_and_mode_out_of_range_snap_to_the_presets(private_config_dir: Path) -> None:
    """A hand-edited file must not open the scope at 0 µV/div or a negative sweep (it divided by zero)."""
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    for display, expected in (
        ({"sensitivity_uv": 0, "sweep_ms": -5, "mode": "zigzag"}, (10.0, 1.0, "sweep")),
        ({"sensitivity_uv": 180, "sweep_ms": 12.5, "mode": "scroll"}, (200.0, 10.0, "scroll")),
        ({"sensitivity_uv": 1e9, "sweep_ms": 1e9, "hidden_channels": ["Needle 2", 3]}, (5000.0, 1000.0, "sweep")),
    ):
        path.write_text(json.dumps({"display": display}), encoding="utf-8")
        loaded = load_settings().display
        assert (loaded.sensitivity_uv, loaded.sweep_ms, loaded.mode) == expected
        assert all(isinstance(label, str) for label in loaded.hidden_channels)
