"""The one interface every signal source implements: hardware, the simulated patient, and replay.

Nothing downstream of a :class:`Source` knows which kind is running. The acquisition pump calls
:meth:`Source.open` once (it may block: BrainFlow's ``prepare_session`` can take seconds, which is why the
pump, never the GUI thread, calls it), then :meth:`Source.read` in a loop, then :meth:`Source.close`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from emgscope.core.controls import SourceState

MIN_READ_S = 0.0005
"""Paced sources (the simulated patient, replay) return nothing from a read until this much is due: half the
pump's 1 ms poll, so every poll finds samples and the sound waits for no coarser packet than that, while a caller
polling in a tight loop still gets chunks worth their cost. A read is cheap: measured on the files in
``../shared/data``, one of 1 ms costs at most 0.055 ms (the 139-signal ``test.edf``); with 5 ms chunks a 4 kHz
file ran the audio buffer dry three times at the start and settled at 19 ms of latency."""


REPLAY_DEVICE = "replay:"
"""How a replayed recording's :attr:`StreamInfo.device` begins (``replay:EDF+``): the stream is a file."""


class SourceError(Exception):
    """A source failed in a way the user must be told about, in plain words (the message is shown as is)."""


class SourceEnded(Exception):
    """A finite source (a recording being replayed without looping) has delivered its last sample."""


@dataclass(frozen=True)
class StreamInfo:
    """What a source delivers: known after :meth:`Source.open` succeeds."""

    sample_rate: float
    channel_labels: tuple[str, ...]
    description: str
    """One line for the status bar and the recording header, e.g. ``"Simulated patient (neurogenic)"``."""
    device: str = ""
    """The device as a recording header names it (board name and connection)."""
    units: str = "uV"
    details: dict[str, str] = field(default_factory=dict)
    """Extra facts worth recording (firmware, board id, file name)."""
    warnings: tuple[str, ...] = ()
    """What the user should know about the stream from the start (a replayed file whose end was cut off); the
    pump posts each as a WARNING event once connected."""

    @property
    def n_channels(self) -> int:
        return len(self.channel_labels)


class Source(ABC):
    """A stream of samples in microvolts, channels in rows."""

    #: Seconds without a sample after which the pump reports the connection as lost. Replay and the
    #: simulated patient never go quiet; hardware may. 1.5 s leaves room for the pump's poll and the GUI's
    #: queued event, so the user sees "connection lost" within 2 s of the last sample, as issue 2 asks; a
    #: streaming board delivers packets many times a second, far inside it.
    silence_timeout_s: float = 1.5
    #: Samples the source lost before the pump saw them (the simulated patient skips what fell due during a
    #: stall instead of rushing it; a board's packets lost on the way). Nothing is lost silently: the pump posts
    #: each new stretch as a SAMPLES_DROPPED event at its place in the ring, which the recorder annotates, and the
    #: status bar adds these to its dropped count. A source counts what it skipped *before* the chunk its next
    #: read returns.
    skipped_samples: int = 0
    #: Why the source skips, in words for the gap's annotation.
    skipped_cause: str = "the source stalled"

    @abstractmethod
    def open(self) -> StreamInfo:
        """Connect and start streaming. May block; raises :class:`SourceError` with a readable message."""

    @abstractmethod
    def read(self) -> np.ndarray:
        """Return the samples that arrived since the last call, ``(n_channels, n)`` float in µV.

        Returns an empty ``(n_channels, 0)`` array when nothing is new; never waits for data for long
        (the pump sleeps between calls). Raises :class:`SourceError` if the device failed and
        :class:`SourceEnded` after the last sample of a finite source.
        """

    @abstractmethod
    def close(self) -> None:
        """Stop streaming and release the device. Safe to call twice and after a failed ``open``."""

    def annotations(self) -> list[tuple[int, str]]:
        """What the stream itself says of its samples (an LSL marker stream's markers) since the last call, each as
        ``(ring index of its sample, text)``; the pump asks after each chunk it writes and posts each as an
        :data:`~emgscope.core.events.ANNOTATION` event, which a recording writes at that sample."""
        return []

    def state(self) -> SourceState:
        """What the source publishes to the GUI when it runs in the acquisition process (kinds with controls
        publish more: see :mod:`emgscope.core.controls`)."""
        return SourceState(self.skipped_samples)
