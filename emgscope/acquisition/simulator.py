"""The simulated patient: concentric-needle EMG from a normal, myopathic or neurogenic muscle.

:class:`SimulatedPatient` is the pure generator (no threads, no clocks): ``generate(n)`` returns the next ``n``
samples of every needle site in µV. Motor units are recruited one by one as ``effort_percent`` rises and fire
semi-regularly at rates that grow with effort, up to an interference pattern; the neurogenic preset adds
fibrillations, positive sharp waves and fasciculations at rest; ``insertion()`` adds the burst a needle
movement provokes. The physiology is in ``sim_profiles``, the waveforms in ``sim_shapes``, the generators of a
site in ``sim_pool`` and the discharge schedule in ``sim_firing``; this module renders and paces.

:class:`SimulatedSource` is the same patient behind the :class:`~emgscope.core.source.Source` interface,
paced by the monotonic clock like a device.

Rendering runs in fixed blocks of :data:`BLOCK_S` at fixed sample positions, ahead of what has been asked for:
each discharge adds its template to a canvas and the part that overhangs the block is carried into the next.
Because blocks never depend on the caller's chunk sizes, the same seed and the same calls give the same
samples however the stream is read. Effort is read once per block, so a change takes effect within one block.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from emgscope.acquisition import sim_profiles as profiles
from emgscope.acquisition.sim_firing import FiringSchedule
from emgscope.acquisition.sim_pool import INSERTION, UnitInfo, build_site
from emgscope.core.controls import SimulatorState
from emgscope.core.settings import PATHOLOGIES, SimulatorSettings
from emgscope.core.source import MIN_READ_S, Source, SourceError, StreamInfo

BLOCK_S = 0.02
"""Rendering block: short enough that the effort slider feels immediate, long enough to amortise numpy calls."""
MIN_SAMPLE_RATE = 1_000.0
MAX_SAMPLE_RATE = 200_000.0
MAX_CHANNELS = 64

# Independent random streams of one patient (the sites use ``(seed, channel)``).
_STREAM_FIRING = 1_000_001
_STREAM_NOISE = 1_000_002
_STREAM_INSERTION = 1_000_003
_STREAM_MAINS = 1_000_004


@dataclass(frozen=True)
class Firings:
    """Discharges, oldest first. ``samples`` are absolute sample indices of each potential's largest deflection
    (``UnitInfo.peak_offset`` after its start); ``units`` index :attr:`SimulatedPatient.units`; ``gains`` scale
    the unit's template (1 except for the insertional waveforms, whose templates are 1 µV peak to peak)."""

    samples: np.ndarray
    units: np.ndarray
    gains: np.ndarray

    @staticmethod
    def empty() -> Firings:
        return Firings(np.empty(0, np.int64), np.empty(0, np.intp), np.empty(0))

    @staticmethod
    def join(parts: list[Firings]) -> Firings:
        if not parts:
            return Firings.empty()
        return Firings(*(np.concatenate([getattr(f, name) for f in parts]) for name in ("samples", "units", "gains")))

    def __len__(self) -> int:
        return int(self.samples.size)


_NO_FIRINGS = Firings.empty()


def clamp_effort(value: float) -> float:
    """Effort limited to 0-100 % (a slider or a protocol may overshoot); a non-number is refused."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"effort must be a number from 0 to 100, not {value}")
    return min(100.0, max(0.0, value))


def _check(settings: SimulatorSettings) -> None:
    """Refuse settings the generator cannot honour, with a message fit for the user."""
    if settings.pathology not in profiles.PROFILES:
        raise ValueError(f"unknown pathology {settings.pathology!r}: choose one of {', '.join(PATHOLOGIES)}")
    if not MIN_SAMPLE_RATE <= settings.sample_rate <= MAX_SAMPLE_RATE:
        raise ValueError(
            f"sample rate {settings.sample_rate:g} Hz is outside {MIN_SAMPLE_RATE:g}-{MAX_SAMPLE_RATE:g} Hz"
        )
    if not 1 <= settings.channels <= MAX_CHANNELS:
        raise ValueError(f"{settings.channels} channels: choose 1 to {MAX_CHANNELS}")
    if settings.seed < 0:
        raise ValueError(f"seed {settings.seed} is negative: use 0 or more")
    if settings.mains_hz < 0 or 3 * settings.mains_hz >= settings.sample_rate / 2:
        raise ValueError(f"mains frequency {settings.mains_hz:g} Hz: use 0 (off), 50 or 60")


class SimulatedPatient:
    """Needle EMG from ``settings.channels`` independent sites of one muscle. Not thread-safe except for
    :attr:`effort_percent` and :meth:`insertion`, which another thread may use while ``generate`` runs."""

    def __init__(self, settings: SimulatorSettings, log_firings: bool = False) -> None:
        """``log_firings`` keeps every discharge for :meth:`firing_log` (memory grows; for tests and benchmarks)."""
        _check(settings)
        self.settings = dataclasses.replace(settings)
        self.sample_rate = float(settings.sample_rate)
        self.channels = int(settings.channels)
        self.profile = profiles.PROFILES[settings.pathology]
        self.effort_percent = settings.effort_percent
        units: list[UnitInfo] = []
        specs = []
        noise = []
        for channel in range(self.channels):
            rng = np.random.default_rng([settings.seed, channel])
            for info, spec in build_site(self.profile, channel, self.sample_rate, rng, len(units)):
                units.append(info)
                specs.append(spec)
            noise.append(rng.uniform(*profiles.NOISE_RMS_UV))
        self.units: tuple[UnitInfo, ...] = tuple(units)
        """Ground truth of every generator; a firing's ``units`` value indexes this tuple."""
        self.noise_rms_uv = np.array(noise)
        """Background noise of each site, µV RMS."""
        self._noise_column = self.noise_rms_uv.astype(np.float32)[:, np.newaxis]
        self._templates = [u.template for u in units]
        self._unit_channel = [u.channel for u in units]
        self._peak_offset = np.array([u.peak_offset for u in units], dtype=np.int64)
        self._insertional = [
            np.array([u.id for u in units if u.kind == INSERTION and u.channel == ch]) for ch in range(self.channels)
        ]
        self._schedule = FiringSchedule(specs, self.sample_rate, np.random.default_rng([settings.seed, _STREAM_FIRING]))
        self._noise_rng = np.random.default_rng([settings.seed, _STREAM_NOISE])
        self._insertion_rng = np.random.default_rng([settings.seed, _STREAM_INSERTION])
        mains_rng = np.random.default_rng([settings.seed, _STREAM_MAINS])
        self._hum = profiles.MAINS_AMPLITUDE_UV * mains_rng.uniform(0.7, 1.3, (self.channels, 1))

        self._block = max(1, round(BLOCK_S * self.sample_rate))
        self._tail = max(t.size for t in self._templates)
        self._canvas = np.zeros((self.channels, 4 * (self._block + self._tail)))
        self._rows = list(self._canvas)
        """Row views of the canvas: indexing a row once per discharge is the cheapest way to paint."""
        self._head = 0
        """Canvas column of the next sample to deliver."""
        self._ready = 0
        """Samples rendered in full beyond ``_head``; the ``_tail`` columns after them hold carried overhangs."""
        self._position = 0
        """Absolute index of the next sample to deliver."""
        self._queued = Firings.empty()
        """Insertional discharges (by template start) beyond what is rendered yet."""
        self._pending = Firings.empty()
        """Rendered discharges not yet delivered, in order of their peaks."""
        self._insertion_requested = False
        self.insertions: list[tuple[int, int]] = []
        """Every insertional burst as ``(first sample, end sample)``, absolute indices."""
        self.last_firings = _NO_FIRINGS
        """The discharges delivered by the last :meth:`generate` call."""
        self._log: list[Firings] | None = [] if log_firings else None

    @property
    def effort_percent(self) -> float:
        """Voluntary effort, 0 (rest) to 100 (maximal); another thread may set it at any time."""
        return self._effort

    @effort_percent.setter
    def effort_percent(self, value: float) -> None:
        self._effort = clamp_effort(value)

    @property
    def position(self) -> int:
        """Samples delivered so far: the absolute index of the next sample :meth:`generate` returns."""
        return self._position

    def insertion(self) -> None:
        """Start an insertional burst at the next sample delivered (any thread; requests made while one
        ``generate`` call runs merge into one burst)."""
        self._insertion_requested = True

    def firing_log(self) -> Firings:
        """Every discharge delivered since construction or :meth:`clear_firing_log` (needs ``log_firings``)."""
        if self._log is None:
            raise RuntimeError("construct the patient with log_firings=True to keep a firing log")
        joined = Firings.join(self._log)
        self._log = [joined]
        return joined

    def clear_firing_log(self) -> None:
        if self._log is not None:
            self._log = []

    def generate(self, n: int) -> np.ndarray:
        """The next ``n`` samples, ``(channels, n)`` float64 in µV."""
        if n < 0:
            raise ValueError(f"cannot generate {n} samples")
        if self._insertion_requested:
            self._insertion_requested = False
            self._start_insertion()
        while self._ready < n:
            self._render_block()
        out = self._canvas[:, self._head : self._head + n].copy()
        self._head += n
        self._ready -= n
        self._position += n
        self._release_firings()
        return out

    def _release_firings(self) -> None:
        pending = self._pending
        done = int(np.searchsorted(pending.samples, self._position))
        if done == 0:
            self.last_firings = _NO_FIRINGS
            return
        self.last_firings = Firings(pending.samples[:done], pending.units[:done], pending.gains[:done])
        self._pending = Firings(pending.samples[done:], pending.units[done:], pending.gains[done:])
        if self._log is not None:
            self._log.append(self.last_firings)

    def _make_room(self) -> None:
        """Ensure a block and its overhang fit after the rendered samples, moving the live part to the front."""
        live = self._ready + self._tail
        if self._head + live + self._block <= self._canvas.shape[1]:
            return
        needed = live + self._block
        if needed <= self._canvas.shape[1]:
            self._canvas[:, :live] = self._canvas[:, self._head : self._head + live]
            self._canvas[:, live:] = 0.0
        else:
            canvas = np.zeros((self.channels, 2 * needed))
            canvas[:, :live] = self._canvas[:, self._head : self._head + live]
            self._canvas = canvas
            self._rows = list(canvas)
        self._head = 0

    def _render_block(self) -> None:
        self._make_room()
        first = self._position + self._ready
        stop = first + self._block
        origin = self._head + self._ready
        block = self._canvas[:, origin : origin + self._block]
        block += self._noise_rng.standard_normal(block.shape, dtype=np.float32) * self._noise_column
        if self.settings.mains_hz > 0:
            phase = (2 * np.pi * self.settings.mains_hz / self.sample_rate) * np.arange(first, stop)
            block += self._hum * (np.sin(phase) + 0.25 * np.sin(3 * phase))
        starts, ids = self._schedule.advance(first, stop, self._effort)
        self._paint(starts, ids, None, first, origin)
        queued = self._queued
        due = queued.samples < stop
        if due.any():
            self._paint(queued.samples[due], queued.units[due], queued.gains[due], first, origin)
            self._queued = Firings(queued.samples[~due], queued.units[~due], queued.gains[~due])
        self._ready += self._block

    def _paint(self, starts: np.ndarray, ids: np.ndarray, gains: np.ndarray | None, first: int, origin: int) -> None:
        """Add each discharge's template at its start (absolute ``first`` is canvas column ``origin``)."""
        if ids.size == 0:
            return
        rows, templates, channel = self._rows, self._templates, self._unit_channel
        columns = (starts - first + origin).tolist()
        if gains is None:
            for column, uid in zip(columns, ids.tolist(), strict=True):
                template = templates[uid]
                rows[channel[uid]][column : column + template.size] += template
            gains = np.ones(ids.size)
        else:
            for column, uid, gain in zip(columns, ids.tolist(), gains.tolist(), strict=True):
                template = templates[uid]
                rows[channel[uid]][column : column + template.size] += gain * template
        joined = Firings.join([self._pending, Firings(starts + self._peak_offset[ids], ids, gains)])
        order = np.argsort(joined.samples, kind="stable")
        self._pending = Firings(joined.samples[order], joined.units[order], joined.gains[order])

    def _start_insertion(self) -> None:
        """Scatter spikes and positive waves over a burst of the profile's length, starting at the next sample."""
        rng = self._insertion_rng
        length = round(rng.uniform(*self.profile.insertion_s) * self.sample_rate)
        start = self._position
        parts = []
        for ids in self._insertional:
            count = int(rng.poisson(profiles.INSERTION_RATE_HZ * length / self.sample_rate))
            units = rng.choice(ids, count + 2)
            sizes = np.array([self._templates[u].size for u in units])
            # The burst opens at its first sample and its last waveform ends on the burst's last sample.
            middle = np.sort(rng.integers(0, length - sizes[1:-1]))
            offsets = np.concatenate(([0], middle, [length - sizes[-1]]))
            fade = 1.0 - 0.5 * offsets / length
            gains = rng.uniform(*profiles.INSERTION_AMPLITUDE_UV, units.size) * fade
            parts.append(Firings(start + offsets.astype(np.int64), units, gains))
        self.insertions.append((start, start + length))
        burst = Firings.join(parts)
        rendered_end = self._position + self._ready
        now = burst.samples < rendered_end
        self._paint(burst.samples[now], burst.units[now], burst.gains[now], self._position, self._head)
        later = ~now
        self._queued = Firings.join(
            [self._queued, Firings(burst.samples[later], burst.units[later], burst.gains[later])]
        )


MAX_CATCH_UP_S = 0.1
"""After a stall, one read delivers at most this much; the rest is skipped (and counted), not rushed."""


class SimulatedSource(Source):
    """The simulated patient as a device: samples become due at the sample rate by the clock.

    Implements :class:`~emgscope.core.controls.SimulatorControl`.
    """

    def __init__(self, settings: SimulatorSettings, clock: Callable[[], float] = time.monotonic) -> None:
        """``clock``: seconds, monotonic (a test passes its own to make samples due without waiting)."""
        self.settings = dataclasses.replace(settings)
        self._clock = clock
        self._effort = settings.effort_percent
        """Checked by :meth:`open`, which reports a bad value as a :class:`SourceError`."""
        self.patient: SimulatedPatient | None = None
        """The running generator (for its ground truth), from :meth:`open` until :meth:`close`."""
        self.skipped_samples = 0
        """Samples that fell due during stalls longer than :data:`MAX_CATCH_UP_S` and were never generated."""
        self._start = 0.0
        self._accounted = 0

    @property
    def effort_percent(self) -> float:
        """The patient's effort (the GUI slider writes it; any thread)."""
        return self._effort

    @effort_percent.setter
    def effort_percent(self, value: float) -> None:
        # The effort is stored before the patient is looked at, and :meth:`open` passes it on again once the
        # patient exists: an effort set while the patient is being built (a command arriving at start) is kept.
        self._effort = clamp_effort(value)
        patient = self.patient
        if patient is not None:
            patient.effort_percent = self._effort

    def insertion(self) -> None:
        """Provoke an insertional burst (ignored while the source is not open)."""
        patient = self.patient
        if patient is not None:
            patient.insertion()

    def open(self) -> StreamInfo:
        settings = dataclasses.replace(self.settings, effort_percent=self._effort)
        try:
            patient = SimulatedPatient(settings)
        except ValueError as exc:
            raise SourceError(f"The simulated patient cannot start: {exc}.") from exc
        self.patient = patient
        patient.effort_percent = self._effort
        self.skipped_samples = 0
        self._accounted = 0
        self._start = self._clock()
        return StreamInfo(
            sample_rate=patient.sample_rate,
            channel_labels=tuple(f"Needle {i + 1}" for i in range(patient.channels)),
            description=f"Simulated patient ({settings.pathology})",
            device="emgscope simulated patient",
            details={"pathology": settings.pathology, "seed": str(settings.seed), "mains_hz": f"{settings.mains_hz:g}"},
        )

    def read(self) -> np.ndarray:
        patient = self.patient
        if patient is None:
            raise SourceError("The simulated patient is not running.")
        fs = patient.sample_rate
        due = int((self._clock() - self._start) * fs) - self._accounted
        if due < MIN_READ_S * fs:
            return np.empty((patient.channels, 0))
        cap = round(MAX_CATCH_UP_S * fs)
        if due > cap:
            self.skipped_samples += due - cap
            self._accounted += due - cap
            due = cap
        self._accounted += due
        return patient.generate(due)

    def close(self) -> None:
        self.patient = None

    def state(self) -> SimulatorState:
        return SimulatorState(self.skipped_samples, self._effort)
