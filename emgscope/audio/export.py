"""What the loudspeaker would have played for a stretch of a recording, as a WAV file (``emgscope export-audio``).

The recording is read through the app's own reader, filtered with the clinical filters (the sound is made from
the filtered signal, as live), then run through the very :class:`~emgscope.audio.dsp.AudioChain` the live
callback uses (band filter, squelch, resampling, volume, limiter) and written as 16-bit mono WAV. Only the
drift control is absent: a file has no second clock.
"""

from __future__ import annotations

import math
import wave
from pathlib import Path

import numpy as np

from emgscope.audio.dsp import AudioChain, volume_gain
from emgscope.core.settings import AudioSettings, FilterSettings
from emgscope.dsp.filters import FilterBank

READ_SECONDS = 1.0
"""Read and process the file a second at a time, so a long recording never sits in memory whole."""
OUTPUT_BLOCK = 4096


class ExportError(Exception):
    """The export cannot be done; the message is shown as is."""


def _choose_signal(recording: object, channel: str) -> int:
    data_signals: list[int] = recording.data_signals  # type: ignore[attr-defined]
    labels = [recording.signals[i].label.strip() for i in data_signals]  # type: ignore[attr-defined]
    if channel in labels:
        return data_signals[labels.index(channel)]
    if channel.isdigit() and int(channel) < len(data_signals):
        return data_signals[int(channel)]
    raise ExportError(f"no channel {channel!r}: the data signals are {', '.join(labels) or 'none'}")


def export_audio(
    path: Path,
    out: Path,
    start_s: float,
    end_s: float | None,
    channel: str,
    filters: FilterSettings,
    audio: AudioSettings,
) -> float:
    """Write the WAV; returns the seconds of sound written."""
    from emgscope.replay.reader import open_recording

    if out.exists():
        raise ExportError(f"{out} already exists: choose another name (exports never overwrite a file)")
    recording = open_recording(path)
    index = _choose_signal(recording, channel)
    info = recording.signals[index]
    rate = info.sample_rate
    first = max(0, round(start_s * rate))
    last = info.n_samples if end_s is None else min(info.n_samples, round(end_s * rate))
    if last <= first:
        raise ExportError(
            f"nothing to export between {start_s:g} s and {end_s} s (the signal lasts {info.n_samples / rate:g} s)"
        )
    step = max(1, round(READ_SECONDS * rate))
    bank = FilterBank(filters, rate, 1)
    chain = AudioChain(rate, audio.sample_rate, OUTPUT_BLOCK)
    chain.band.configure(audio.band_filter, audio.band_low_hz, audio.band_high_hz)
    chain.squelch.threshold_uv = max(0.0, audio.squelch_uv)
    chain.limiter.target_volume = volume_gain(audio.volume_db, audio.muted)
    chain.limiter.settle()
    expected = math.floor((last - first) * audio.sample_rate / rate)
    block = np.zeros(OUTPUT_BLOCK, dtype=np.float32)
    # Feed what one output block consumes at a time, so the resampler never holds more than it can.
    piece = max(1, math.floor(OUTPUT_BLOCK * rate / audio.sample_rate))
    written = 0
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(round(audio.sample_rate))

        def play(samples: np.ndarray) -> None:
            nonlocal written
            for at in range(0, samples.size, piece):
                chain.feed(samples[at : at + piece])
                while written < expected:
                    n = chain.render(block[: min(OUTPUT_BLOCK, expected - written)])
                    if n == 0:
                        break
                    wav.writeframes(np.round(block[:n] * 32767).astype("<i2").tobytes())
                    written += n

        for position in range(first, last, step):
            samples = recording.read(index, position, min(last, position + step))
            play(bank.process(samples[np.newaxis, :])[0].astype(np.float32))
        play(np.zeros(chain.resampler.taps, dtype=np.float32))  # push the kernel past the last sample
    return written / audio.sample_rate
