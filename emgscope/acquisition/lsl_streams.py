"""Lab Streaming Layer streams as emgscope sees them: found on the network, described, and judged as amplifiers.

Shared by the LSL source (:mod:`emgscope.acquisition.lsl_source`), the connection dialog's list of streams and the
outlet (:mod:`emgscope.session.lsl_out`). pylsl, which loads liblsl, is imported on first use only: a session that
never touches LSL never loads it, and a machine without it gets one sentence instead of a traceback.

Discovery keeps liblsl's own configuration: a lab finds its streams at its site's scope, and a file named by
``LSLAPICFG`` (or ``lsl_api.cfg``, see the README) restricts it, e.g. to this machine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from emgscope.core.source import SourceError
from emgscope.replay.reader import RecordingError, check_sample_rate

FORMATS = {0: "undefined", 1: "float32", 2: "double64", 3: "string", 4: "int32", 5: "int16", 6: "int8", 7: "int64"}
"""LSL's channel formats (``cf_*``) by number, in LSL's words."""
NUMERIC_FORMATS = (1, 2, 4, 5, 6)
"""The formats read as a signal: every number pylsl pulls into numpy on every platform (int64 it does not)."""
STRING_FORMAT = 3
EMG_TYPES = ("emg", "exg")
"""Stream types that announce electromyography (``ExG``: any electrophysiology, as several amplifiers' apps say);
listed first among the streams the connection dialog offers."""
MAX_CHANNELS = 256
"""More channels than any EMG amplifier has; the limit keeps a damaged description from allocating gigabytes."""
MAX_VALUES_PER_S = 4_000_000
"""Channels × rate at most: each of the two rings holds 30 s of it (480 MB at this limit). 16 needle channels at
20 kHz are 320 000."""
LISTING_S = 1.0
"""How long to look for the other streams, to name them when the one asked for is not there."""
CLOCK_PAIRS = 5
"""Readings of both clocks taken to learn their offset; the closest pair wins."""


@dataclass(frozen=True)
class StreamSummary:
    """One stream found on the network, as its core metadata describes it."""

    name: str
    type: str
    channels: int
    rate: float
    """Nominal rate in Hz; 0 for an irregular stream."""
    format: int
    source_id: str
    hostname: str
    handle: Any = field(default=None, compare=False, repr=False)
    """pylsl's ``StreamInfo`` of it (what an inlet is made from)."""

    @property
    def format_name(self) -> str:
        return FORMATS.get(self.format, f"format {self.format}")

    def describe(self) -> str:
        """``'Delsys' (EMG, 4 channels at 2000 Hz, float32, on lab-pc)``."""
        rate = f"at {self.rate:g} Hz" if self.rate > 0 else "irregular"
        kind = self.type or "no type"
        return f"'{self.name}' ({kind}, {self.channels} channels {rate}, {self.format_name}, on {self.hostname})"

    @property
    def problem(self) -> str | None:
        """Why this stream cannot be an amplifier, in one sentence; ``None`` when it can."""
        name = f"The LSL stream '{self.name}'"
        if self.format == STRING_FORMAT:
            return f"{name} carries text (a marker stream), not a signal, so it cannot be used as an amplifier."
        if self.format not in NUMERIC_FORMATS:
            readable = ", ".join(FORMATS[f] for f in NUMERIC_FORMATS)
            return f"{name} sends {self.format_name} samples, which emgscope cannot read (it reads {readable})."
        if self.rate <= 0:
            return (
                f"{name} has no nominal sampling rate (its samples are irregular), so it cannot be used as an "
                "amplifier: emgscope needs a stream sampled at a fixed rate."
            )
        try:
            check_sample_rate(self.rate, f"{name}'s nominal rate")
        except RecordingError as exc:
            return f"{exc}."
        if not 1 <= self.channels <= MAX_CHANNELS:
            return f"{name} has {self.channels} channels; emgscope takes 1 to {MAX_CHANNELS}."
        if self.channels * self.rate > MAX_VALUES_PER_S:
            return (
                f"{name} sends {self.channels} channels at {self.rate:g} Hz, more than emgscope holds "
                f"(at most {MAX_VALUES_PER_S / 1e6:g} million values a second)."
            )
        return None

    @property
    def emg_like(self) -> bool:
        """A usable stream whose type says it carries EMG."""
        return self.problem is None and self.type.strip().lower() in EMG_TYPES

    @property
    def is_markers(self) -> bool:
        """A stream of markers: text, or anything its type calls markers (event codes as numbers)."""
        return self.format == STRING_FORMAT or self.type.strip().lower() == "markers"


def pylsl() -> ModuleType:
    """The pylsl module; :class:`~emgscope.core.source.SourceError` in one sentence when it or liblsl is missing."""
    try:
        import pylsl as module
    except (ImportError, OSError, RuntimeError) as exc:
        message = f"The Lab Streaming Layer is not available (pylsl or liblsl could not be loaded: {exc})."
        raise SourceError(message) from None
    return module


def summarize(info: Any) -> StreamSummary:
    """A pylsl ``StreamInfo`` as a :class:`StreamSummary`."""
    return StreamSummary(
        name=info.name(),
        type=info.type(),
        channels=info.channel_count(),
        rate=info.nominal_srate(),
        format=info.channel_format(),
        source_id=info.source_id(),
        hostname=info.hostname(),
        handle=info,
    )


def find_streams(wait_s: float) -> list[StreamSummary]:
    """Every stream found within ``wait_s`` seconds, EMG-like first, then by name."""
    found = [summarize(info) for info in pylsl().resolve_streams(wait_s)]
    return sorted(found, key=lambda s: (not s.emg_like, s.problem is not None, s.name.lower(), s.hostname))


def listing(streams: list[StreamSummary]) -> str:
    """The streams found, for a message: ``'A' (EMG, …); 'B' (Markers, …)``, or a word that there were none."""
    return "; ".join(stream.describe() for stream in streams) if streams else "none"


def no_such_stream(name: str, streams: list[StreamSummary], wait_s: float) -> str:
    """One sentence for a name not found, with what was found instead."""
    if not streams:
        return (
            f"No LSL stream named '{name}' was found in {wait_s:g} s, nor any other: is its sender running, and "
            "on a network this computer reaches?"
        )
    return f"No LSL stream named '{name}' was found in {wait_s:g} s; found: {listing(streams)}."


def find_named(name: str, wait_s: float, markers: bool = False) -> StreamSummary:
    """The stream called ``name``, as soon as it answers (within ``wait_s``): a usable one, if several share the
    name; otherwise :class:`~emgscope.core.source.SourceError` saying why, with the streams found instead."""
    named = [summarize(info) for info in pylsl().resolve_byprop("name", name, 1, wait_s)]
    if not named:
        raise SourceError(no_such_stream(name, find_streams(min(wait_s, LISTING_S)), wait_s))
    if markers:
        usable = [stream for stream in named if stream.is_markers]
        if not usable:
            raise SourceError(
                f"The LSL stream '{name}' is not a marker stream ({named[0].describe()}): markers come as text, or "
                "in a stream of type Markers."
            )
        return usable[0]
    usable = [stream for stream in named if stream.problem is None]
    if not usable:
        raise SourceError(named[0].problem or "")
    return usable[0]


def lsl_minus_monotonic() -> float:
    """LSL's clock (``local_clock``) minus ``time.monotonic``, in seconds: how a ring's write stamps become LSL times.

    On Linux both are the monotonic clock and this is a few microseconds; it is measured rather than assumed, from
    the pair of readings taken closest together.
    """
    clock = pylsl().local_clock
    best: tuple[float, float] = (float("inf"), 0.0)
    for _ in range(CLOCK_PAIRS):
        before = time.monotonic()
        lsl = clock()
        after = time.monotonic()
        best = min(best, (after - before, lsl - (before + after) / 2))
    return best[1]
