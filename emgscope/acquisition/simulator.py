"""The simulated patient: concentric-needle EMG from a normal, a diseased or a named teaching patient's muscle.

:class:`SimulatedPatient` is the pure generator (no clocks): ``generate(n)`` returns the next ``n`` samples of every
needle site in µV. Each channel is a needle in its own neighbourhood of one muscle (:mod:`sim_pool`): the motor units
there (:mod:`sim_muscle`, their potentials from :mod:`sim_fibre`) are recruited as ``effort_percent`` rises and fire
semi-regularly at rates that grow with effort (:mod:`sim_firing`), up to an interference pattern; the muscle's
spontaneous activity fires on its own patterns (:mod:`sim_discharges`); ``insertion()`` moves the needle a small
step, which provokes an insertional burst and changes which units are near, and ``move_needle(new_site=True)`` takes
it to a new site. The muscle comes from ``settings.patient`` (a teaching patient, :mod:`sim_patients`) or
``settings.pathology`` (the generic presets of :mod:`sim_profiles`).

:class:`SimulatedSource` is the same patient behind the :class:`~emgscope.core.source.Source` interface,
paced by the monotonic clock like a device.

Rendering runs in fixed blocks of :data:`BLOCK_S` at fixed sample positions, ahead of what has been asked for:
each discharge adds its template to a canvas and the part that overhangs the block is carried into the next.
Because blocks never depend on the caller's chunk sizes, the same seed and the same calls give the same samples
however the stream is read. Effort is read once per block, so a change takes effect within one block. A needle
movement's new potentials are computed on a helper thread while the signal goes on, and take effect at a fixed
delay after the movement (:data:`SETTLE_S`): the insertional burst hides the change, as it does in a real muscle.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from emgscope.acquisition import sim_pool as pool
from emgscope.acquisition import sim_profiles as profiles
from emgscope.acquisition.sim_firing import FiringSchedule
from emgscope.acquisition.sim_muscle import Potential, force_capacity
from emgscope.acquisition.sim_pool import INSERTION, Discharge, Site, UnitInfo
from emgscope.core.controls import SimulatorState
from emgscope.core.settings import PATHOLOGIES, SimulatorSettings
from emgscope.core.source import MIN_READ_S, Source, SourceError, StreamInfo

BLOCK_S = 0.02
"""Rendering block: short enough that the effort slider feels immediate, long enough to amortise numpy calls."""
MIN_SAMPLE_RATE = 1_000.0
MAX_SAMPLE_RATE = 200_000.0
MAX_CHANNELS = 64
SETTLE_S = 0.2
"""A needle movement changes the potentials this long after it starts, plus :data:`SETTLE_PER_CHANNEL_S` per
channel (the time to compute them, so the signal never waits)."""
SETTLE_PER_CHANNEL_S = 0.15

# Independent random streams of one patient (the sites use ``(seed, channel, site, purpose)``).
_STREAM_FIRING = 1_000_001
_STREAM_NOISE = 1_000_002
_STREAM_INSERTION = 1_000_003
_STREAM_MAINS = 1_000_004


@dataclass(frozen=True)
class Firings:
    """Discharges, oldest first. ``samples`` are absolute sample indices of each potential's largest deflection
    (``UnitInfo.peak_offset`` after its start); ``units`` index :attr:`SimulatedPatient.units`; ``gains`` scale
    the unit's template (1 except for insertional waveforms, whose templates are 1 µV peak to peak, and for the
    waxing and waning or decrementing discharges)."""

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


@dataclass(frozen=True)
class NeedlePosition:
    """Where one channel's needle was from ``sample`` on (ground truth of every movement)."""

    channel: int
    sample: int
    site: int
    """The site's number (0 the first; a new site is a new neighbourhood)."""
    move: int
    """Small movements within the site so far."""
    tip_mm: tuple[float, float]
    from_endplates_mm: float
    at_endplate: bool
    muscle: str
    """The muscle examined (the profile's name)."""


def clamp_effort(value: float) -> float:
    """Effort limited to 0-100 % (a slider or a protocol may overshoot); a non-number is refused."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"effort must be a number from 0 to 100, not {value}")
    return min(100.0, max(0.0, value))


def muscle_profile(settings: SimulatorSettings) -> profiles.MuscleProfile:
    """The muscle ``settings`` ask for: a teaching patient's (``patient``, ``NAME`` or ``NAME:MUSCLE``) or a generic
    preset (``pathology``). Raises ValueError with a sentence for the user."""
    if settings.patient:
        from emgscope.acquisition.sim_patients import profile_of

        return profile_of(settings.patient)
    if settings.pathology not in profiles.PROFILES:
        raise ValueError(f"unknown pathology {settings.pathology!r}: choose one of {', '.join(PATHOLOGIES)}")
    return profiles.PROFILES[settings.pathology]


def _check(settings: SimulatorSettings) -> None:
    """Refuse settings the generator cannot honour, with a message fit for the user."""
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


@dataclass
class _Move:
    """A needle movement under way: the new sites, their potentials being computed, and when they take effect."""

    at: int
    sites: list[Site]
    new_site: list[bool]
    result: list[list[Potential]]
    thread: threading.Thread
    profile: profiles.MuscleProfile


class SimulatedPatient:
    """Needle EMG from ``settings.channels`` independent sites of one muscle. Not thread-safe except for
    :attr:`effort_percent`, :meth:`insertion` and :meth:`move_needle`, which another thread may use while
    ``generate`` runs."""

    def __init__(
        self, settings: SimulatorSettings, log_firings: bool = False, profile: profiles.MuscleProfile | None = None
    ) -> None:
        """``log_firings`` keeps every discharge for :meth:`firing_log` (memory grows; for tests, benchmarks and
        the ground truth written beside a recording). ``profile``: this muscle instead of the one ``settings``
        name (for tests and tools that build a muscle of their own)."""
        _check(settings)
        self.settings = dataclasses.replace(settings)
        self.sample_rate = float(settings.sample_rate)
        self.channels = int(settings.channels)
        self.profile = profile or muscle_profile(settings)
        self._capacity = force_capacity(self.profile.state)
        self.effort_percent = settings.effort_percent
        self.units: list[UnitInfo] = []
        """Ground truth of every generator so far; a firing's ``units`` value indexes it. A needle movement adds
        the new potentials of the site's units (the old entries stay, for the discharges already made)."""
        self.needle: list[NeedlePosition] = []
        """Every needle position of every channel, in order."""
        self._templates: list[np.ndarray] = []
        self._unit_channel: list[int] = []
        self._peak_offset = np.empty(0, np.int64)
        first_at_endplate = self.profile.needle_at_endplate
        self.sites = [
            Site(self.profile, settings.seed, ch, self.sample_rate, 0, first_at_endplate) for ch in range(self.channels)
        ]
        """The current site of each channel."""
        noise = [self.sites[ch].rng(9).uniform(*profiles.NOISE_RMS_UV) for ch in range(self.channels)]
        self.noise_rms_uv = np.array(noise)
        """Background noise of each site, µV RMS."""
        self._noise_column = self.noise_rms_uv.astype(np.float32)[:, np.newaxis]
        self._slot_first = [0] * self.channels
        self._slot_count = [0] * self.channels
        self._discharges: list[list[Discharge]] = [[] for _ in range(self.channels)]
        self._insertional: list[np.ndarray] = [np.empty(0, np.intp)] * self.channels
        specs: list[pool.FiringSpec] = []
        for ch, site in enumerate(self.sites):
            self._slot_first[ch] = len(specs)
            channel_specs = site.firing_specs()
            self._slot_count[ch] = len(channel_specs)
            specs += channel_specs
        self._slot_unit = np.zeros(len(specs), np.intp)
        for ch, site in enumerate(self.sites):
            self._install(ch, site, site.potentials(), 0, fresh=True)
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
        self._move_requested: tuple[bool, bool | None] | None = None
        self._muscle_requested: profiles.MuscleProfile | None = None
        self._move: _Move | None = None
        self.insertions: list[tuple[int, int]] = []
        """Every insertional burst as ``(first sample, end sample)``, absolute indices; the end is where its
        fading waveforms stop."""
        self.last_firings = _NO_FIRINGS
        """The discharges delivered by the last :meth:`generate` call."""
        self._log: list[Firings] | None = [] if log_firings else None

    # ---- the ground truth's bookkeeping

    def _add_unit(self, channel: int, kind: str, template: np.ndarray, **fields) -> int:
        uid = len(self.units)
        info = pool.describe(uid, channel, kind, template, self.sample_rate, **fields)
        self.units.append(info)
        self._templates.append(template)
        self._unit_channel.append(channel)
        self._peak_offset = np.append(self._peak_offset, info.peak_offset)
        return uid

    def _install(self, channel: int, site: Site, potentials: list[Potential], start: int, fresh: bool) -> None:
        """Make ``site`` (with its units' ``potentials``) the channel's current one from sample ``start``.

        ``fresh``: a new site (new units, new spontaneous activity); otherwise a movement within the site, after
        which the units keep firing and their whole-unit discharges go on with the new templates."""
        fs = self.sample_rate
        first = self._slot_first[channel]
        ids = []
        specs = site.firing_specs()
        for k, (unit, pot) in enumerate(zip(site.anatomy, potentials, strict=True)):
            kind = pool.MUAP if pool.near_field(pot.template, fs) else pool.FAR
            ids.append(
                self._add_unit(
                    channel,
                    kind,
                    pot.template,
                    threshold=unit.threshold_percent,
                    rate=specs[k].rate_at(100.0),
                    distance=pot.nearest_mm,
                    motor_unit=k,
                    site=site.number,
                )
            )
        self._slot_unit[first : first + len(ids)] = ids
        old = {d.motor_unit: d for d in self._discharges[channel] if d.motor_unit >= 0}
        discharges: list[Discharge] = []
        for index, (kind, template, rate) in enumerate(site.fibre_templates()):
            uid = self._add_unit(channel, kind, template, threshold=pool.ALWAYS, rate=rate, site=site.number)
            pattern = pool.make_pattern(kind, site.rng(7, site.moves, index), fs, float(start), rate)
            discharges.append(Discharge(pattern, uid, -1, kind))
        for index, (kind, unit, rate) in enumerate(site.unit_discharges([pot.template for pot in potentials])):
            previous = old.get(unit) if not fresh else None
            pattern = previous.pattern if previous is not None and previous.kind == kind else None
            if pattern is None:
                pattern = pool.make_pattern(kind, site.rng(8, index), fs, float(start), rate)
            uid = self._add_unit(
                channel,
                kind,
                potentials[unit].template,
                threshold=pool.ALWAYS,
                rate=rate,
                distance=potentials[unit].nearest_mm,
                motor_unit=unit,
                site=site.number,
            )
            discharges.append(Discharge(pattern, uid, unit, kind))
        self._discharges[channel] = discharges
        if fresh:
            self._insertional[channel] = np.array(
                [
                    self._add_unit(channel, INSERTION, t, threshold=pool.NEVER, rate=0.0, site=site.number)
                    for t in site.insertional_templates()
                ]
            )
        geometry = site.geometry
        self.needle.append(
            NeedlePosition(
                channel,
                start,
                site.number,
                site.moves,
                geometry.tip,
                geometry.from_endplates_mm,
                geometry.at_endplate,
                site.profile.name,
            )
        )

    # ---- the public surface

    @property
    def effort_percent(self) -> float:
        """Voluntary effort, 0 (rest) to 100 (maximal); another thread may set it at any time."""
        return self._effort

    @effort_percent.setter
    def effort_percent(self, value: float) -> None:
        self._effort = clamp_effort(value)

    @property
    def drive_percent(self) -> float:
        """The drive to the motor units: effort over the muscle's force capacity, at most 100 % (a weak muscle needs
        more drive for the same effort, :func:`~emgscope.acquisition.sim_muscle.force_capacity`)."""
        return min(100.0, self._effort / self._capacity)

    @property
    def position(self) -> int:
        """Samples delivered so far: the absolute index of the next sample :meth:`generate` returns."""
        return self._position

    def insertion(self) -> None:
        """Move the needle a small step, as an insertion does: an insertional burst starts at the next sample
        delivered and the units' potentials change (any thread; requests made while one ``generate`` call runs
        merge into one)."""
        self._insertion_requested = True

    def move_needle(self, new_site: bool = True, endplate: bool | None = None) -> None:
        """Move every channel's needle: to a new site of the muscle (a fresh neighbourhood of units and its own
        spontaneous activity) or, with ``new_site=False``, a small step as :meth:`insertion` does. ``endplate``:
        land in the endplate zone (True), away from it (False) or as chance has it (None, new sites only)."""
        self._move_requested = (new_site, endplate)

    def select_muscle(self, muscle: str) -> bool:
        """Examine another muscle of the teaching patient (``"Deltoid"`` or ``"Deltoid L"``): the needle goes into it
        at a new site (any thread). False, and nothing changes, when the patient has no such muscle or the muscle
        is a generic preset's."""
        if not self.settings.patient:
            return False
        from emgscope.acquisition.sim_patients import PatientError, split_spec

        name, _ = split_spec(self.settings.patient)
        try:
            profile = muscle_profile(dataclasses.replace(self.settings, patient=f"{name}:{muscle}"))
        except PatientError:
            return False
        if profile.name != self.profile.name:
            self._muscle_requested = profile
        return True

    def follow_step(self, label: str, muscle: str, side: str, repeat: int) -> None:
        """Do with the needle what a guided exam's new step asks: into the step's muscle (a teaching patient's own;
        nothing when it is the one examined), a small movement for the insertion step (``INS``), a new site for each
        rest after the first (``REST``, ``repeat`` > 1)."""
        if muscle:
            self.select_muscle(f"{muscle} {side}".strip())
        if label == "INS":
            self.insertion()
        elif label == "REST" and repeat > 1:
            self.move_needle(new_site=True)

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

    def current_units(self, channel: int = 0) -> list[UnitInfo]:
        """The generators of ``channel`` as the needle now sees them (its units at the current position, its
        spontaneous generators)."""
        first, count = self._slot_first[channel], self._slot_count[channel]
        ids = [int(i) for i in self._slot_unit[first : first + count]]
        ids += [d.unit for d in self._discharges[channel]]
        return [self.units[i] for i in ids]

    def generate(self, n: int) -> np.ndarray:
        """The next ``n`` samples, ``(channels, n)`` float64 in µV."""
        if n < 0:
            raise ValueError(f"cannot generate {n} samples")
        move, muscle = self._move_requested, self._muscle_requested
        if self._insertion_requested or move is not None or muscle is not None:
            self._insertion_requested = False
            self._move_requested = self._muscle_requested = None
            self._start_insertion(muscle or self.profile)
            if muscle is not None:
                self._begin_move(True, None, muscle)
            else:
                self._begin_move(*(move or (False, None)))
        while self._ready < n:
            self._render_block()
        out = self._canvas[:, self._head : self._head + n].copy()
        self._head += n
        self._ready -= n
        self._position += n
        self._release_firings()
        return out

    # ---- needle movements

    def _begin_move(self, new_site: bool, endplate: bool | None, profile: profiles.MuscleProfile | None = None) -> None:
        """Start computing the new potentials (of ``profile``'s muscle, or the same one); they take effect
        :data:`SETTLE_S` (and more per channel) later."""
        if self._move is not None:
            self._finish_move(self._move)
        profile = profile or self.profile
        at = self._position + self._ready + round((SETTLE_S + SETTLE_PER_CHANNEL_S * self.channels) * self.sample_rate)
        sites = []
        for ch, site in enumerate(self.sites):
            if new_site:
                at_endplate = (
                    profile.needle_at_endplate if profile is not self.profile and endplate is None else endplate
                )
                sites.append(Site(profile, self.settings.seed, ch, self.sample_rate, site.number + 1, at_endplate))
            else:
                moved = Site.__new__(Site)
                moved.__dict__.update(site.__dict__)
                moved.move()
                sites.append(moved)
        for discharges in self._discharges:
            for d in discharges:
                if isinstance(d.pattern, pool.patterns.Myotonic):
                    d.pattern.start_run(float(self._position))
        result: list[list[Potential]] = []
        thread = threading.Thread(target=lambda: result.extend(s.potentials() for s in sites), daemon=True)
        thread.start()
        self._move = _Move(at, sites, [new_site] * self.channels, result, thread, profile)

    def _finish_move(self, move: _Move) -> None:
        move.thread.join()
        self._move = None
        self.profile = move.profile
        self._capacity = force_capacity(move.profile.state)
        start = self._position + self._ready
        for ch, (site, potentials) in enumerate(zip(move.sites, move.result, strict=True)):
            fresh = move.new_site[ch]
            if fresh:
                specs = site.firing_specs()
                first = self._slot_first[ch]
                self._schedule.replace(first, self._slot_count[ch], specs)
                shift = len(specs) - self._slot_count[ch]
                self._slot_unit = np.concatenate(
                    (
                        self._slot_unit[:first],
                        np.zeros(len(specs), np.intp),
                        self._slot_unit[first + self._slot_count[ch] :],
                    )
                )
                self._slot_count[ch] = len(specs)
                for later in range(ch + 1, self.channels):
                    self._slot_first[later] += shift
            self.sites[ch] = site
            self._install(ch, site, potentials, start, fresh)
        longest = max(t.size for t in self._templates)
        if longest > self._tail:
            self._grow_tail(longest)

    def _grow_tail(self, tail: int) -> None:
        live = self._ready + self._tail
        canvas = np.zeros((self.channels, 4 * (self._block + tail) + live))
        canvas[:, :live] = self._canvas[:, self._head : self._head + live]
        self._canvas = canvas
        self._rows = list(canvas)
        self._head = 0
        self._tail = tail

    # ---- rendering

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
        first = self._position + self._ready
        if self._move is not None and first >= self._move.at:
            self._finish_move(self._move)
        self._make_room()
        stop = first + self._block
        origin = self._head + self._ready
        block = self._canvas[:, origin : origin + self._block]
        block += self._noise_rng.standard_normal(block.shape, dtype=np.float32) * self._noise_column
        if self.settings.mains_hz > 0:
            phase = (2 * np.pi * self.settings.mains_hz / self.sample_rate) * np.arange(first, stop)
            block += self._hum * (np.sin(phase) + 0.25 * np.sin(3 * phase))
        starts, slots = self._schedule.advance(first, stop, self.drive_percent)
        self._paint(starts, self._slot_unit[slots], None, first, origin)
        spontaneous: list[Firings] = []
        for discharges in self._discharges:
            for discharge in discharges:
                times, gains = discharge.pattern.advance(first, stop)
                if times.size:
                    spontaneous.append(Firings(times, np.full(times.size, discharge.unit, np.intp), gains))
        if spontaneous:
            joined = Firings.join(spontaneous)
            self._paint(joined.samples, joined.units, joined.gains, first, origin)
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

    def _start_insertion(self, profile: profiles.MuscleProfile) -> None:
        """An insertional burst from the next sample: spikes and positive waves, frequent and large at first, then
        rarer and smaller, fading out with the time constant of the grade of ``profile``, the muscle the needle goes
        into (normal, increased, decreased)."""
        rng = self._insertion_rng
        grade = profile.spontaneous.insertional
        tau = rng.uniform(*profiles.INSERTION_FADE_MS[grade]) * self.sample_rate / 1000.0
        size = profiles.INSERTION_SIZE[grade]
        start = self._position
        parts = []
        end = start
        for ids in self._insertional:
            # Discharge times of a Poisson process whose rate falls as exp(-t / tau): transform unit-rate arrivals.
            expected = profiles.INSERTION_RATE_HZ * tau / self.sample_rate
            arrivals = np.cumsum(rng.exponential(1.0, int(rng.poisson(expected)) + 1))
            arrivals = arrivals[arrivals < expected]
            offsets = -tau * np.log1p(-arrivals / expected)
            offsets = np.concatenate(([0.0], offsets))
            units = rng.choice(ids, offsets.size)
            fade = np.exp(-offsets / tau)
            gains = rng.uniform(*profiles.INSERTION_AMPLITUDE_UV, offsets.size) * size * fade
            trailing = profiles.INSERTION_TRAILING_PSW[grade]
            positive = [u for u in ids if self.units[u].template[self.units[u].peak_offset] > 0]
            for _ in range(int(rng.integers(trailing[0], trailing[1] + 1)) if positive else 0):
                # Denervated muscle: the burst ends in short trains of positive waves.
                count = int(rng.integers(*profiles.TRAILING_PSW_COUNT))
                began = rng.uniform(1.0, 3.0) * tau
                train = began + np.arange(count) * self.sample_rate / rng.uniform(*profiles.TRAILING_PSW_RATE_HZ)
                offsets = np.concatenate((offsets, train))
                units = np.concatenate((units, np.full(count, rng.choice(positive))))
                height = rng.uniform(*profiles.FIBRILLATION_AMPLITUDE_UV) * np.linspace(1.0, 0.5, count)
                gains = np.concatenate((gains, height))
            sizes = np.array([self._templates[u].size for u in units])
            end = max(end, start + int(np.max(offsets + sizes)))
            parts.append(Firings(start + offsets.astype(np.int64), units.astype(np.intp), gains))
        self.insertions.append((start, end))
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

    def __init__(
        self, settings: SimulatorSettings, log_firings: bool = False, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """``log_firings``: the patient keeps every discharge, for a ground-truth file (:mod:`sim_truth`);
        ``clock``: seconds, monotonic (a test passes its own to make samples due without waiting)."""
        self.settings = dataclasses.replace(settings)
        self.log_firings = log_firings
        self._clock = clock
        self._effort = settings.effort_percent
        """Checked by :meth:`open`, which reports a bad value as a :class:`SourceError`."""
        self.patient: SimulatedPatient | None = None
        """The running generator (for its ground truth), from :meth:`open` until :meth:`close`."""
        self.last_patient: SimulatedPatient | None = None
        """The generator of the last :meth:`open`, kept after :meth:`close` for its ground truth."""
        self.skipped_samples = 0
        """Samples that fell due during stalls longer than :data:`MAX_CATCH_UP_S` and were never generated."""
        self._start: float | None = None
        """When the first read after :meth:`open` came (the clock's seconds)."""
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
        """Move the needle a small step, provoking an insertional burst (ignored while the source is not open)."""
        patient = self.patient
        if patient is not None:
            patient.insertion()

    def move_needle(self, new_site: bool = True, endplate: bool | None = None) -> None:
        """Move the needle to a new site (see :meth:`SimulatedPatient.move_needle`; ignored while not open)."""
        patient = self.patient
        if patient is not None:
            patient.move_needle(new_site, endplate)

    def follow_step(self, label: str, muscle: str, side: str, repeat: int) -> None:
        """See :meth:`SimulatedPatient.follow_step` (ignored while the source is not open)."""
        patient = self.patient
        if patient is not None:
            patient.follow_step(label, muscle, side, repeat)

    def open(self) -> StreamInfo:
        settings = dataclasses.replace(self.settings, effort_percent=self._effort)
        try:
            patient = SimulatedPatient(settings, self.log_firings)
        except ValueError as exc:
            raise SourceError(f"The simulated patient cannot start: {exc}.") from exc
        self.patient = self.last_patient = patient
        patient.effort_percent = self._effort
        self.skipped_samples = 0
        self._accounted = 0
        self._start = None
        return StreamInfo(
            sample_rate=patient.sample_rate,
            channel_labels=tuple(f"Needle {i + 1}" for i in range(patient.channels)),
            description=f"Simulated patient ({patient.profile.name})",
            device="emgscope simulated patient",
            details={
                "pathology": settings.pathology,
                "patient": settings.patient,
                "seed": str(settings.seed),
                "mains_hz": f"{settings.mains_hz:g}",
            },
        )

    def read(self) -> np.ndarray:
        patient = self.patient
        if patient is None:
            raise SourceError("The simulated patient is not running.")
        fs = patient.sample_rate
        now = self._clock()
        if self._start is None:  # the clock starts at the first read: building the pipeline after open() is no stall
            self._start = now
        due = int((now - self._start) * fs) - self._accounted
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
