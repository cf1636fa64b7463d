"""The loudspeaker: a PortAudio output stream that plays one channel of the filtered ring.

:func:`make_monitor` gives the one the settings ask for: this in-process one, or the same monitor in a child
process (:mod:`emgscope.audio.process`) where the callback does not share the GIL with the GUI.

This is the only module that imports :mod:`sounddevice`. The app must run without it, without the PortAudio
library and without any audio device, so the import is guarded and :func:`audio_status` says, in words the
operator can act on, why sound is unavailable.

The PortAudio callback runs :meth:`AudioEngine.fill` and nothing else (DESIGN §2: the callback only copies): no
locks, no logging, no allocation beyond a few block-sized temporaries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from emgscope.audio.alsa_log import route_alsa_messages
from emgscope.audio.engine import AudioEngine, AudioStats
from emgscope.core.realtime import ProcessorsAwake
from emgscope.core.ring import SampleRing
from emgscope.core.settings import AudioSettings

if TYPE_CHECKING:
    from emgscope.audio.process import AudioProcessMonitor

route_alsa_messages()  # before PortAudio starts: its probing of the cards is the first thing ALSA complains about
try:
    import sounddevice as sd

    _IMPORT_ERROR = ""
except OSError as exc:  # sounddevice raises OSError when the PortAudio library cannot be loaded
    sd = None
    _IMPORT_ERROR = str(exc)

FIX_NO_PORTAUDIO = "Install the PortAudio library (Debian/Ubuntu: sudo apt install libportaudio2) and restart."
FIX_NO_DEVICE = "Connect speakers or headphones, or start PulseAudio/PipeWire, then choose the device in Settings."


def no_portaudio() -> str:
    """Said wherever a stream is asked for without PortAudio: what the loader reported, and the remedy."""
    return f"No sound: the PortAudio library is missing ({_IMPORT_ERROR}). {FIX_NO_PORTAUDIO}"


class AudioUnavailable(Exception):
    """Sound cannot be played; the message says why and how to fix it, and is shown to the user as is."""


@dataclass(frozen=True)
class AudioStatus:
    available: bool
    reason: str = ""


def audio_status(device: str = "") -> AudioStatus:
    """Whether an output stream can be opened on ``device`` ('' = default), and if not, why."""
    if sd is None:
        return AudioStatus(False, no_portaudio())
    try:
        outputs = [d for d in sd.query_devices() if d["max_output_channels"] > 0]
    except sd.PortAudioError as exc:
        return AudioStatus(False, f"No sound: PortAudio failed ({exc}). {FIX_NO_DEVICE}")
    if not outputs:
        return AudioStatus(False, f"No sound: no audio output device was found. {FIX_NO_DEVICE}")
    try:
        _resolve_device(device)
    except AudioUnavailable as exc:
        return AudioStatus(False, str(exc))
    return AudioStatus(True)


@dataclass(frozen=True)
class OutputDevice:
    """An output device as PortAudio lists it."""

    name: str
    """PortAudio's name: what the settings store and a stream is opened on ("pulse", "HDA Intel PCH: … (hw:0,0)")."""
    host_api: str
    """The sound system that offers it: "ALSA", "JACK Audio Connection Kit", "OSS"."""
    default: bool
    """PortAudio's default output (what the empty device setting plays on)."""


def output_device_list() -> list[OutputDevice]:
    """The output devices PortAudio offers, with their sound system and which is the default."""
    if sd is None:
        return []
    try:
        apis = [api["name"] for api in sd.query_hostapis()]
        default = sd.default.device[1]
        return [
            OutputDevice(d["name"], apis[d["hostapi"]], d["index"] == default)
            for d in sd.query_devices()
            if d["max_output_channels"] > 0
        ]
    except sd.PortAudioError:
        return []


def output_devices() -> list[str]:
    """Names of the output devices PortAudio offers."""
    return [device.name for device in output_device_list()]


def rescan_devices() -> None:
    """Make PortAudio list devices again (it only scans when initialised, e.g. after a sound server started)."""
    if sd is not None:
        sd._terminate()
        sd._initialize()


def _resolve_device(device: str) -> int | None:
    if sd is None:
        raise AudioUnavailable(no_portaudio())
    if not device:
        try:
            index = sd.default.device[1]
            if index is None or index < 0:
                index = sd.query_devices(kind="output")["index"]
        except (sd.PortAudioError, ValueError) as exc:
            raise AudioUnavailable(f"No sound: there is no default output device ({exc}). {FIX_NO_DEVICE}") from exc
        return int(index)
    try:
        return int(sd.query_devices(device, kind="output")["index"])
    except (sd.PortAudioError, ValueError) as exc:
        raise AudioUnavailable(
            f"No sound: the output device {device!r} is not available ({exc}). Choose another one in Settings."
        ) from exc


class AudioMonitor:
    """Plays the selected channel of ``ring`` (filtered µV at ``sample_rate``) through PortAudio."""

    def __init__(self, ring: SampleRing, sample_rate: float, settings: AudioSettings, channel: int = 0) -> None:
        self.settings = settings
        self.engine = AudioEngine(ring, sample_rate, settings, channel)
        self._stream: Any = None
        self._awake = ProcessorsAwake()
        self.output_delay_s = 0.0
        self.latency_history = np.empty(0)
        """Every block's latency (ms), kept when the monitor stops (for the benchmark)."""
        self.callback_history = np.empty(0)
        self.on_block: Callable[[np.ndarray], None] | None = None
        """Test hook: called with each block played (after the engine filled it), inside the callback."""

    @property
    def stats(self) -> AudioStats:
        return self.engine.stats

    @property
    def channel(self) -> int:
        return self.engine.channel

    @property
    def awake_refusal(self) -> str:
        """Why the processors could not be kept awake as the settings ask ('' if they are, or were not asked)."""
        return self._awake.refusal

    @property
    def blocks(self) -> int:
        """Blocks played so far."""
        return self.engine.blocks

    def set_channel(self, channel: int) -> None:
        """Choose the channel heard (any thread; from the next block)."""
        self.engine.set_channel(channel)

    def apply(self, settings: AudioSettings) -> None:
        """Volume, mute, squelch, band filter (any thread; from the next block)."""
        self.settings = settings
        self.engine.apply(settings)

    def start(self) -> None:
        """Open and start the output stream; raises :class:`AudioUnavailable` with a readable message."""
        if self._stream is not None:
            return
        device = _resolve_device(self.settings.device)
        if self.settings.keep_processors_awake:
            self.engine.stats.processors_awake = self._awake.hold()
        try:
            stream = sd.OutputStream(
                samplerate=self.settings.sample_rate,
                blocksize=self.settings.blocksize,
                latency=self.settings.stream_latency_s,
                device=device,
                channels=1,
                dtype="float32",
                callback=self._callback,
            )
            stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            self._release_processors()
            raise AudioUnavailable(f"No sound: the audio output could not be opened ({exc}). {FIX_NO_DEVICE}") from exc
        self.output_delay_s = float(stream.latency)
        self._stream = stream
        self.engine.stats.running = True

    def stop(self) -> None:
        """Stop playing (safe to call twice); the ring reader is released."""
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except sd.PortAudioError:
                pass  # the device went away; nothing left to release
        self._release_processors()
        self.engine.stats.running = False
        self.engine.close()
        blocks = self.engine.blocks
        self.latency_history = self.engine.latency_history[:blocks].copy()
        self.callback_history = self.engine.callback_history[:blocks].copy()

    def _release_processors(self) -> None:
        self._awake.release()
        self.engine.stats.processors_awake = False

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        if status.output_underflow:
            self.engine.stats.device_underruns += 1
        delay = time_info.outputBufferDacTime - time_info.currentTime
        if not 0 < delay < 1:
            delay = self.output_delay_s  # some host APIs report no timing
        block = outdata[:, 0]
        self.engine.fill(block, delay, time.monotonic())
        if self.on_block is not None:
            self.on_block(block)


def make_monitor(
    ring: SampleRing, sample_rate: float, settings: AudioSettings, channel: int = 0
) -> AudioMonitor | AudioProcessMonitor:
    """An audio monitor for ``ring`` (not yet started), in a child process when ``settings.separate_process`` and
    the ring is in shared memory (the pump's filtered ring is), else in this one."""
    if settings.separate_process and ring.shared_name:
        from emgscope.audio.process import AudioProcessMonitor

        return AudioProcessMonitor(ring, sample_rate, settings, channel)
    return AudioMonitor(ring, sample_rate, settings, channel)
