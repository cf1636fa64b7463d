"""The audio strip as a user meets it: real Qt widgets offscreen over the session's audio service, a real device
(null sink) or none, and a real audio process that is killed for real."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from emgscope.audio import monitor as monitor_module
from emgscope.audio.process import AudioProcessMonitor
from emgscope.core import realtime
from emgscope.core.events import EventBus
from emgscope.core.ring import SampleRing
from emgscope.core.settings import AudioSettings
from emgscope.gui.audio_controls import AudioControls
from emgscope.gui.bridge import EventBridge
from emgscope.session.audio import AUDIO_LOST, AudioService, Stream

pytestmark = pytest.mark.timeout(90)
"""Sound opens in an audio process through a sound server: a hang fails its own test."""


def make_strip(qtbot, settings: AudioSettings | None = None) -> tuple[AudioControls, AudioService]:
    """The strip over its own audio service, the events crossing the real Qt bridge as in the window."""
    bus = EventBus()
    service = AudioService(settings or AudioSettings(), bus)
    strip = AudioControls(service, EventBridge(bus))
    qtbot.addWidget(strip)
    return strip, service


def test_unknown_device_disables_the_strip_and_says_how_to_fix_it(qtbot) -> None:
    strip, service = make_strip(qtbot, AudioSettings(device="no such sound card 42"))
    assert not strip.volume.isEnabled() and not strip.channel.isEnabled()
    assert strip.output.isEnabled()  # another device can still be chosen
    assert "No sound" in strip.toolTip()
    ring = SampleRing(2, 1000)
    assert not service.attach(Stream(ring, 1000.0, ("A", "B")))  # the app carries on: nothing played
    qtbot.waitUntil(lambda: strip.channel.count() == 2, timeout=10_000)  # the channels are listed all the same
    assert strip.monitor is None and strip.readout.text() == "No sound"
    assert not ring.readers


def test_missing_portaudio_disables_the_strip(qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    # A fake, because uninstalling the PortAudio library under a running test is not possible: the module's
    # own record of a failed import is set to what a machine without libportaudio2 produces.
    monkeypatch.setattr(monitor_module, "sd", None)
    monkeypatch.setattr(monitor_module, "_IMPORT_ERROR", "PortAudio library not found")
    strip, _ = make_strip(qtbot)
    assert not strip.volume.isEnabled()
    assert "(PortAudio library not found)" in strip.toolTip() and "libportaudio2" in strip.toolTip()


def playing_shows_latency(strip: AudioControls, ring: SampleRing, rate: float) -> Callable[[], bool]:
    """A wait condition that feeds ``ring`` in real time and is met once the strip shows a plausible latency."""
    written = 0
    started = time.monotonic()

    def feed() -> bool:
        nonlocal written
        due = int((time.monotonic() - started) * rate)
        if due > written:
            ring.write(np.full((ring.n_channels, due - written), 100.0, dtype=np.float32))
            written = due
        strip.refresh()
        shown = re.search(r"Latency (\d+) ms", strip.readout.text())
        # A fresh null sink stalls a new stream for up to 2 s, and the readout honestly shows that lag first.
        return shown is not None and 5 < float(shown.group(1)) < 200

    return feed


def test_strip_plays_shows_latency_and_follows_the_operator(qtbot, null_sink) -> None:
    rate = 20_000.0
    ring = SampleRing(2, int(rate * 5))
    strip, service = make_strip(
        qtbot, AudioSettings(device=null_sink.device, blocksize=256, stream_latency_s=0.04, target_buffer_ms=20.0)
    )
    assert strip.volume.isEnabled()
    service.attach(Stream(ring, rate, ("Ch1", "Ch2")))
    qtbot.waitUntil(playing_shows_latency(strip, ring, rate), timeout=10_000)
    assert re.fullmatch(r"Latency \d+ ms · underruns \d+", strip.readout.text())
    assert "of which 20 ms is buffered against late samples" in strip.readout.toolTip()
    strip.volume.setValue(-12)
    strip.squelch.setValue(50)
    strip.mute.setChecked(True)
    assert strip.monitor.settings.volume_db == -12
    assert strip.monitor.settings.squelch_uv == 50
    assert strip.monitor.settings.muted
    strip.select_channel(1)
    assert strip.monitor.channel == 1 and strip.channel.currentText() == "Ch2"
    strip.select_channel(7)  # out of range: ignored
    assert strip.monitor.channel == 1
    service.detach()
    assert strip.monitor is None
    qtbot.waitUntil(lambda: not ring.readers, timeout=10_000)


def test_output_dialog_lists_devices_and_returns_the_choice(qtbot, null_sink) -> None:
    from emgscope.gui.audio_dialog import AudioDialog

    dialog = AudioDialog(AudioSettings(blocksize=128, target_buffer_ms=12.0))
    qtbot.addWidget(dialog)
    names = [dialog.deviceCombo.itemData(i) for i in range(dialog.deviceCombo.count())]
    assert names[0] == "" and len(names) > 1  # the system default, then PortAudio's outputs
    dialog.deviceCombo.setCurrentIndex(1)
    dialog.blockCombo.setCurrentIndex(dialog.blockCombo.findData(256))
    dialog.targetSpin.setValue(30.0)
    assert dialog.awakeCheck.isChecked()  # the default: sound before power
    dialog.awakeCheck.setChecked(False)
    chosen = dialog.audio_settings()
    assert chosen.device == names[1] and not chosen.keep_processors_awake
    assert (chosen.blocksize, chosen.target_buffer_ms, chosen.sample_rate) == (256, 30.0, 48_000.0)


def test_output_devices_are_named_as_a_user_knows_them(qtbot, null_sink) -> None:
    from emgscope.gui.audio_dialog import AudioDialog

    dialog = AudioDialog(AudioSettings())
    qtbot.addWidget(dialog)
    combo = dialog.deviceCombo
    labels = {combo.itemText(i): combo.itemData(i) for i in range(combo.count())}
    # The test sink is PulseAudio's module-null-sink, which the sound settings of a desktop list as "Null Output".
    assert labels["Null Output (sound server)"] == "pulse"
    assert labels["ALSA default output"] == "default"
    assert combo.itemText(0).startswith("System default: ") and combo.itemData(0) == ""
    assert not {"pulse", "default", "System default"} & set(labels), "no bare ALSA plugin names"


def test_devices_of_other_sound_systems_and_cards_keep_their_names() -> None:
    from emgscope.audio.device_names import device_label
    from emgscope.audio.monitor import OutputDevice

    card = OutputDevice("HDA Intel PCH: ALC295 Analog (hw:0,0)", "ALSA", False)
    assert device_label(card, "Speakers") == "HDA Intel PCH: ALC295 Analog (hw:0,0)"
    assert device_label(OutputDevice("system", "JACK Audio Connection Kit", False), "") == (
        "system (JACK Audio Connection Kit)"
    )
    assert device_label(OutputDevice("pulse", "ALSA", True), "") == "Sound server (PulseAudio or PipeWire)"
    assert device_label(OutputDevice("surround51", "ALSA", False), "") == "ALSA 'surround51' output"


def test_quitting_waits_for_the_audio_process_to_end_and_free_its_memory(qtbot, null_sink) -> None:
    ring = SampleRing.shared(1, 20_000)
    strip, service = make_strip(qtbot, AudioSettings(device=null_sink.device))
    service.attach(Stream(ring, 20_000.0, ("Ch1",)))
    qtbot.waitUntil(lambda: strip.monitor is not None, timeout=15_000)
    monitor = strip.monitor
    assert isinstance(monitor, AudioProcessMonitor)
    ours = f"emgscope-{os.getpid()}-"
    assert len([name for name in os.listdir("/dev/shm") if name.startswith(ours)]) == 2  # the ring, the figures
    service.detach()  # returns at once: the stream closes on a thread
    service.wait_closed()
    assert not monitor.stats.running
    assert [name for name in os.listdir("/dev/shm") if name.startswith(ours)] == [ring.shared_name.lstrip("/")]


def test_a_killed_audio_process_is_shown_and_restarted_once(qtbot, null_sink) -> None:
    """The strip's readout timer (4 Hz) notices the loss; how soon on a loaded machine is not a unit test's to say."""
    ring = SampleRing.shared(1, 20_000)
    strip, service = make_strip(qtbot, AudioSettings(device=null_sink.device))
    lost = []
    service.bus.subscribe(lambda event: lost.append(event) if event.kind == AUDIO_LOST else None)
    service.attach(Stream(ring, 20_000.0, ("Ch1",)))
    qtbot.waitUntil(lambda: strip.monitor is not None, timeout=15_000)
    first = strip.monitor
    assert isinstance(first, AudioProcessMonitor)

    os.kill(first._child._process.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: bool(lost), timeout=10_000)
    assert lost[0].data["restarting"] and "ended unexpectedly" in lost[0].message
    qtbot.waitUntil(lambda: strip.monitor is not None and strip.monitor is not first, timeout=15_000)
    second = strip.monitor
    assert second.stats.running

    os.kill(second._child._process.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: len(lost) == 2, timeout=10_000)
    assert not lost[1].data["restarting"]  # the second time the operator decides (the window offers a button)
    assert strip.monitor is None and strip.readout.text() == "Sound lost"
    service.restart()
    qtbot.waitUntil(lambda: strip.monitor is not None, timeout=15_000)
    service.detach()
    service.wait_closed()


def test_strip_warns_when_the_processors_cannot_be_kept_awake(qtbot, null_sink, monkeypatch, tmp_path: Path) -> None:
    # The request file made missing, as on a kernel without PM QoS: the refusal a user without permission gets too.
    monkeypatch.setattr(realtime, "CPU_LATENCY_REQUEST", tmp_path / "cpu_dma_latency")
    rate = 20_000.0
    ring = SampleRing(1, int(rate * 5))
    settings = AudioSettings(device=null_sink.device, blocksize=256, stream_latency_s=0.04, separate_process=False)
    strip, service = make_strip(qtbot, settings)
    service.attach(Stream(ring, rate, ("Ch1",)))
    qtbot.waitUntil(playing_shows_latency(strip, ring, rate), timeout=10_000)
    assert re.fullmatch(r"Latency \d+ ms · underruns \d+ ⚠ CPU may sleep", strip.readout.text())
    tip = strip.readout.toolTip()
    assert tip.startswith("The processors may sleep between sound blocks") and "'Keep processors awake' off" in tip
    assert "Amplifier → loudspeaker" in tip  # the latency's own explanation follows
    service.reopen(dataclasses.replace(settings, keep_processors_awake=False))  # the operator turned it off
    qtbot.waitUntil(playing_shows_latency(strip, ring, rate), timeout=10_000)
    assert re.fullmatch(r"Latency \d+ ms · underruns \d+", strip.readout.text())
    assert not strip.monitor.stats.processors_awake
    service.detach()
