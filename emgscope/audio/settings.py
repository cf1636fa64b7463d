"""The audio monitor's settings: what the operator adjusts at the bedside and what the sound card is asked for."""

from __future__ import annotations

from dataclasses import dataclass

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
