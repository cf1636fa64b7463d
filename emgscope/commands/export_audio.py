"""``emgscope export-audio FILE --start S --end E --out x.wav``: what the loudspeaker would have played."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emgscope.audio.export import ExportError, export_audio
from emgscope.core.settings import AudioSettings, FilterSettings, load_settings
from emgscope.replay.reader import RecordingError


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


def run(args: argparse.Namespace) -> int:
    settings = load_settings().settings if not args.no_settings else None
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
