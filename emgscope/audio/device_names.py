"""Output devices named as a user knows them, not as ALSA's plugins are called.

PortAudio's list on a Linux desktop reads "pulse", "default", "sysdefault", "dmix" beside the cards' own names:
words from ALSA's configuration. This module puts them in words, and names the sound server's device after the
output the server plays on, as the desktop's sound settings show it (PulseAudio's or PipeWire's sink description,
from ``pactl`` when it is installed). The settings keep PortAudio's name; only the label changes.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

from emgscope.audio.monitor import OutputDevice, output_device_list

PACTL_TIMEOUT_S = 1.0
"""``pactl`` answers in milliseconds; a sound server that does not answer within this is left unnamed."""
SOUND_SERVER_DEVICES = frozenset({"pulse", "pipewire"})
"""ALSA plugins that play through the desktop's sound server."""
ALSA_WORDS = {
    "default": "ALSA default output",
    "sysdefault": "ALSA system default (the first sound card)",
    "dmix": "ALSA mixer of the first sound card (dmix)",
}
"""ALSA plugin names with words a user recognises."""


@dataclass(frozen=True)
class DeviceChoice:
    """One entry of the output device list: what it says, and the device setting it stands for."""

    label: str
    name: str


def _pactl(*args: str) -> str:
    """``pactl``'s output in English ("" when it is not installed or no server answers)."""
    try:
        result = subprocess.run(
            ["pactl", *args],
            capture_output=True,
            text=True,
            timeout=PACTL_TIMEOUT_S,
            env={**os.environ, "LC_ALL": "C"},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout if result.returncode == 0 else ""


def sound_server_output() -> str:
    """The description of the sound server's default output ("Built-in Audio Analog Stereo"), or ""."""
    default = ""
    for line in _pactl("info").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Default Sink":
            default = value.strip()
    if not default:
        return ""
    name = ""
    for line in _pactl("list", "sinks").splitlines():
        key, _, value = line.strip().partition(":")
        if key == "Name":
            name = value.strip()
        elif key == "Description" and name == default:
            return value.strip()
    return ""


def device_label(device: OutputDevice, server_output: str) -> str:
    """``device`` in words; ``server_output`` names what the sound server plays on ("" when unknown)."""
    if device.host_api != "ALSA":
        return f"{device.name} ({device.host_api})"
    if device.name in SOUND_SERVER_DEVICES:
        return f"{server_output} (sound server)" if server_output else "Sound server (PulseAudio or PipeWire)"
    if device.name in ALSA_WORDS:
        return ALSA_WORDS[device.name]
    if "(hw:" in device.name:
        return device.name  # a card's own name, e.g. "HDA Intel PCH: ALC295 Analog (hw:0,0)"
    return f"ALSA '{device.name}' output"


def device_choices() -> list[DeviceChoice]:
    """The system default, then every output device, each in words."""
    devices = output_device_list()
    server_output = sound_server_output() if any(d.name in SOUND_SERVER_DEVICES for d in devices) else ""
    default = next((device_label(d, server_output) for d in devices if d.default), "")
    choices = [DeviceChoice(f"System default: {default}" if default else "System default", "")]
    choices += [DeviceChoice(device_label(d, server_output), d.name) for d in devices]
    return choices
