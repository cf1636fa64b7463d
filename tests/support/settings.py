"""Settings with every field away from its default, to see each one survive a save and a load."""

from __future__ import annotations

import dataclasses

from emgscope.core.settings import Settings, TriggerSettings


def every_field_changed() -> Settings:
    """A value other than the default in every field of every group: floats, ints, strings, literals, booleans
    (each one flipped), a list, and the nested groups of the source."""
    settings = Settings()
    settings.source.kind = "brainflow"
    settings.source.simulator = dataclasses.replace(
        settings.source.simulator, pathology="myopathic", effort_percent=35.0, sample_rate=10_000.0, channels=4,
        seed=9, mains_hz=60.0,
    )  # fmt: skip
    settings.source.brainflow = dataclasses.replace(
        settings.source.brainflow, board="CYTON_BOARD", serial_port="/dev/ttyUSB3", mac_address="aa:bb",
        ip_address="10.0.0.2", ip_port=4567, serial_number="SN1", file="/x.csv", master_board="SYNTHETIC_BOARD",
        timeout=12,
    )  # fmt: skip
    settings.source.replay = dataclasses.replace(
        settings.source.replay, file="/r.bdf", board="B", speed=2.0, start_s=3.5
    )
    settings.filters = dataclasses.replace(
        settings.filters, preset="custom", low_cut_hz=20.0, high_cut_hz=5_000.0, notch_hz=50.0, notch_harmonics=5
    )
    settings.display = dataclasses.replace(
        settings.display, sensitivity_uv=500.0, sweep_ms=20.0, mode="scroll", hidden_channels=["Needle 2"],
        trigger=TriggerSettings(
            level_uv=-250.0, slope="rising", window_uv=150.0, ms_per_div=5.0, pretrigger=0.3, holdoff_ms=15.0
        ),
        trigger_style="raster", trigger_keep=30,
    )  # fmt: skip
    settings.recording = dataclasses.replace(settings.recording, sessions_folder="/data/emg", format="edf")
    audio = settings.audio
    flipped = {f.name: not getattr(audio, f.name) for f in dataclasses.fields(audio) if f.type == "bool"}
    assert len(flipped) == 5  # every boolean the settings have
    settings.audio = dataclasses.replace(
        audio, device="pulse", sample_rate=44_100.0, blocksize=256, stream_latency_s=0.01, target_buffer_ms=12.0,
        volume_db=-6.0, squelch_uv=40.0, band_low_hz=200.0, band_high_hz=4_000.0, **flipped,
    )  # fmt: skip
    return settings
