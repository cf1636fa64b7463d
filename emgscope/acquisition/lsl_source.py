"""Any Lab Streaming Layer stream as an amplifier: TMSi, g.tec, OT Bioelettronica, Delsys and others ship LSL apps.

The stream is found by name (:mod:`emgscope.acquisition.lsl_streams`); its rate, channel labels and units come from
its metadata (values in a voltage unit are scaled to µV; a stream that names no voltage is shown as it comes, and
the operator is told). Samples are pulled without waiting, so the pump's poll paces the source like any other.

Clocks: the inlet applies LSL's clock synchronisation (``proc_clocksync``: the sender's clock offset, measured by
liblsl, is added to every stamp), so the stamps are times on this computer's LSL clock. Jitter is this module's
own business: a :class:`~emgscope.core.sample_clock.SampleClock` learns the stream's sample clock from the lower
envelope of the stamps (a stamp can be late, never early), and a chunk whose first stamp lies more than
:data:`GAP_MIN_S` after the sample clock's time for it follows samples that never arrived (the sender's connection
broke and came back, its device dropped a packet): they are counted as skipped, which the pump posts as a gap and
a recording annotates. liblsl's own dejittering is not used: it smooths over such a gap instead of showing it.

A sender that stops leaves the reads empty, so the pump reports "connection lost" after
:attr:`~emgscope.core.source.Source.silence_timeout_s`, as for an unplugged board. A stream with a source id is
recovered by liblsl itself when its sender comes back (the connection resumes, the outage is a gap); Reconnect
looks for the stream again.

Markers: an LSL marker stream named in the settings is read alongside; each marker is placed on the sample its
time falls on and handed to the pump (:meth:`LslSource.annotations`) once that sample has been delivered, so a
recording writes it there.
"""

from __future__ import annotations

import numpy as np

from emgscope.acquisition import lsl_streams
from emgscope.acquisition.lsl_streams import StreamSummary
from emgscope.core.sample_clock import SampleClock
from emgscope.core.settings import LslSettings
from emgscope.core.source import Source, SourceError, StreamInfo
from emgscope.replay.reader import uv_factor

INLET_BUFFER_S = 30
"""What liblsl holds for the inlet before it drops the oldest samples: as long as the rings (a stall of the
acquisition process longer than this loses samples, which the stamps then show as a gap)."""
OPEN_TIMEOUT_S = 5.0
"""How long opening the stream (its full description, then its data connection) may take."""
READ_MAX_S = 0.25
"""Most signal taken per read: a backlog after a stall is caught up in pieces the pump writes promptly."""
GAP_MIN_S = 0.01
"""A chunk that starts this much after the sample clock expects follows lost samples. Shorter jumps are the
sender's timing, not losses: LSL apps stamp a chunk when they push it, a few ms late at worst; a lost packet of
an amplifier or a broken connection is longer."""
CLOCK_RESTART_S = 600.0
"""A jump forwards in the stamps this large, or one backwards beyond :data:`CLOCK_BACK_S`, means the sender's clock
started again (a sender restarted on another computer), not a gap: the sample clock is learnt anew."""
CLOCK_BACK_S = 0.1
"""Stamps earlier than the sample clock expects by more than the jitter its estimate may have (see
:mod:`emgscope.core.sample_clock`): no stream goes back in time by this much."""
MARKER_MAX = 256
"""Most markers taken per read."""


class LslSource(Source):
    """The LSL stream the settings name, in µV."""

    skipped_cause = "samples of the LSL stream were lost on the way"

    def __init__(self, settings: LslSettings) -> None:
        self.settings = settings
        self.skipped_samples = 0
        self._inlet = None
        self._markers = None
        self._factors = np.ones((1, 1), dtype=np.float32)
        self._clock: SampleClock | None = None
        self._rate = 0.0
        self._delivered = 0
        self._max_samples = 1
        self._pending: list[tuple[float, str]] = []
        """Markers (LSL time, text) whose sample has not been delivered yet."""
        self._placed: list[tuple[int, str]] = []

    def open(self) -> StreamInfo:
        pylsl = lsl_streams.pylsl()
        name = self.settings.name.strip()
        if not name:
            raise SourceError("Name the LSL stream to take as the amplifier (--lsl-name NAME, or pick it in Connect…).")
        wait = self.settings.resolve_timeout_s
        stream = lsl_streams.find_named(name, wait)
        marker_stream = None
        if self.settings.markers.strip():
            marker_stream = lsl_streams.find_named(self.settings.markers.strip(), wait, markers=True)
        try:
            self._inlet = inlet = pylsl.StreamInlet(
                stream.handle, max_buflen=INLET_BUFFER_S, recover=True, processing_flags=pylsl.proc_clocksync
            )
            full = inlet.info(OPEN_TIMEOUT_S)
            inlet.open_stream(OPEN_TIMEOUT_S)
            if marker_stream is not None:
                self._markers = pylsl.StreamInlet(
                    marker_stream.handle, max_buflen=INLET_BUFFER_S, recover=True, processing_flags=pylsl.proc_clocksync
                )
                self._markers.open_stream(OPEN_TIMEOUT_S)
        except (pylsl.util.TimeoutError, pylsl.util.LostError, RuntimeError) as exc:
            raise SourceError(f"The LSL stream {stream.describe()} did not answer: {exc or 'timed out'}.") from None
        labels = _labels(full.get_channel_labels(), stream.channels)
        factors, warnings = _scaling(full.get_channel_units(), stream.channels)
        self._factors = np.asarray(factors, dtype=np.float32)[np.newaxis, :]
        self._rate = stream.rate
        self._clock = SampleClock(stream.rate)
        self._max_samples = max(1, round(stream.rate * READ_MAX_S))
        markers = f"; markers from '{marker_stream.name}'" if marker_stream is not None else ""
        return StreamInfo(
            sample_rate=stream.rate,
            channel_labels=labels,
            description=f"LSL stream {stream.name} ({stream.type or 'no type'}, on {stream.hostname}){markers}",
            device=f"LSL stream {stream.name} ({stream.type or 'no type'}, source id {stream.source_id or 'none'})",
            details=_details(stream, marker_stream),
            warnings=tuple(warnings),
        )

    def read(self) -> np.ndarray:
        inlet, clock = self._inlet, self._clock
        n_channels = self._factors.shape[1]
        if inlet is None or clock is None:
            return np.empty((n_channels, 0), dtype=np.float32)
        self._pull_markers()
        try:
            data, stamps = inlet.pull_chunk(timeout=0.0, max_samples=self._max_samples, as_numpy=True)
        except Exception:  # lost for good (a stream without a source id): quiet, so the pump reports it lost
            self._inlet = None
            return np.empty((n_channels, 0), dtype=np.float32)
        n = len(stamps)
        if n == 0:
            return np.empty((n_channels, 0), dtype=np.float32)
        self._count_gap(float(stamps[0]))
        self._delivered += n
        clock.observe(self._delivered, float(stamps[-1]))
        self._place_markers()
        return (data * self._factors).T.astype(np.float32, copy=False)

    def _count_gap(self, first_stamp: float) -> None:
        """Before a chunk: samples that never arrived since the last one, counted by the sample clock."""
        clock = self._clock
        assert clock is not None
        if not clock.ready:
            return
        late = first_stamp - clock.time_of(self._delivered)
        if late > CLOCK_RESTART_S or late < -CLOCK_BACK_S:
            self._clock = SampleClock(self._rate)
            self._clock.observe(self._delivered, first_stamp)
            return
        if late > GAP_MIN_S:
            missing = round(late * self._rate)
            clock.skip(self._delivered, missing)
            self.skipped_samples += missing

    def _pull_markers(self) -> None:
        inlet = self._markers
        if inlet is None:
            return
        try:
            values, stamps = inlet.pull_chunk(timeout=0.0, max_samples=MARKER_MAX)
        except Exception:  # the marker sender is gone for good: the signal goes on without markers
            self._markers = None
            return
        for value, stamp in zip(values, stamps, strict=True):
            self._pending.append((float(stamp), " ".join(str(v) for v in value)))

    def _place_markers(self) -> None:
        """Markers whose time has been reached by the samples delivered go on their sample."""
        clock = self._clock
        assert clock is not None
        reached = clock.time_of(self._delivered - 0.5)
        due = [marker for marker in self._pending if marker[0] <= reached]
        if due:
            self._pending = [marker for marker in self._pending if marker[0] > reached]
            last = self._delivered - 1
            self._placed += [(min(clock.index_at(stamp), last), text) for stamp, text in sorted(due)]

    def annotations(self) -> list[tuple[int, str]]:
        placed, self._placed = self._placed, []
        return placed

    def close(self) -> None:
        for inlet in (self._inlet, self._markers):
            if inlet is not None:
                inlet.close_stream()
        self._inlet = self._markers = None


def _labels(labels: list[str | None] | None, n: int) -> tuple[str, ...]:
    """The stream's channel labels, ``Ch<n>`` for any it leaves out."""
    given = list(labels or [])[:n]
    given += [None] * (n - len(given))
    return tuple((label or "").strip() or f"Ch{i + 1}" for i, label in enumerate(given))


def _scaling(units: list[str | None] | None, n: int) -> tuple[list[float], list[str]]:
    """Factors to µV per channel, and what the operator should know of channels whose unit is not a voltage."""
    given = list(units or [])[:n]
    given += [None] * (n - len(given))
    factors: list[float] = []
    unnamed: list[str] = []
    foreign: set[str] = set()
    for i, unit in enumerate(given):
        factor = uv_factor(unit or "")
        if factor is None and unit and unit.strip():
            foreign.add(unit.strip())
        elif factor is None:
            unnamed.append(str(i + 1))
        factors.append(factor or 1.0)
    warnings = []
    if len(unnamed) == n:
        warnings.append("The LSL stream does not say the unit of its samples: they are taken as µV.")
    elif unnamed:
        warnings.append(f"The LSL stream does not say the unit of channel(s) {', '.join(unnamed)}: taken as µV.")
    if foreign:
        warnings.append(
            f"The LSL stream measures in {', '.join(sorted(foreign))}, not a voltage: the values are shown as if µV."
        )
    return factors, warnings


def _details(stream: StreamSummary, markers: StreamSummary | None) -> dict[str, str]:
    details = {
        "lsl_name": stream.name,
        "lsl_type": stream.type,
        "lsl_source_id": stream.source_id,
        "lsl_host": stream.hostname,
        "lsl_format": stream.format_name,
    }
    if markers is not None:
        details["lsl_markers"] = markers.name
    return details
