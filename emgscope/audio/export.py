"""``emgscope export-audio FILE --start S --end E --out x.wav``: what the loudspeaker would have played.

The recording is read through the app's own reader, filtered with the clinical filters (the sound is made from
the filtered signal, as live), then run through the very :class:`~emgscope.audio.dsp.AudioChain` the live
callback uses (band filter, squelch, resampling, volume, limiter) and written as 16-bit mono WAV. Only the
drift control is absent: a file has no second clock.
"""

from __future__ import annotations

import argparse
import math
import sys
import wave
from pathlib import Path

import numpy as np

from emgscope.audio.dsp import AudioChain, volume_gain
from emgscope.audio.settings import AudioSettings
from emgscope.core.settings import FilterSettings, load_settings
from emgscope.dsp.filters import FilterBank

READ_SECONDS = 1.0
"""Read and process the file a second at a time, so a long recording never sits in memory whole."""
OUTPUT_BLOCK = 4096


class ExportError(Exception):
    """The export cannot be done; the message is shown as is."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a recording (EDF/BDF, WFDB, BrainFlow file)")
    parser.add_argument("--out", required=True, help="the WAV file to write (never overwritten)")
    parser.add_argument("--start", type=float, default=0.0, help="from this many seconds into the recording")
    parser.add_argument("--end", type=float, help="up to this many seconds (default: the end)")
    parser.add_argument("--channel", default="0", help="signal label or index among the data signals (default 0)")
    parser.add_argument("--volume-db", type=float, help="volume in dB (default 0)")
    parser.add_argument("--squelch", type=float, metavar="UV", help="squelch threshold in µV, 0 = off")
    parser.add_argument("--band", type=float, nargs=2, metavar=("LOW", "HIGH"), help="audio band filter in Hz")
    parser.add_argument("--rate", type=int, help="WAV sample rate (default: the audio output rate, 48000)")
    parser.add_argument("--no-settings", action="store_true", help="use default filters and audio settings")


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


def run(args: argparse.Namespace) -> int:
    from emgscope.replay.reader import RecordingError

    settings = load_settings() if not args.no_settings else None
    filters = settings.filters if settings is not None else FilterSettings()
    audio = AudioSettings()
    if args.volume_db is not None:
        audio.volume_db = args.volume_db
    if args.squelch is not None:
        audio.squelch_uv = args.squelch
    if args.band is not None:
        audio.band_filter, (audio.band_low_hz, audio.band_high_hz) = True, args.band
    if args.rate is not None:
        if args.rate < 8000:
            print("emgscope export-audio: --rate must be at least 8000 Hz", file=sys.stderr)
            return 2
        audio.sample_rate = float(args.rate)
    try:
        seconds = export_audio(Path(args.file), Path(args.out), args.start, args.end, args.channel, filters, audio)
    except (ExportError, RecordingError, OSError) as exc:
        print(f"emgscope export-audio: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {seconds:.2f} s of sound to {args.out}")
    return 0
