"""The triggered display's state: a trigger and delay line on the heard channel, its sweeps and its level lines.

:class:`~emgscope.gui.display_modes.TriggeredMode` delegates to the :class:`TriggerScope` the scope view owns: a
frame reads the display's ring reader, feeds the trigger channel to a :class:`~emgscope.dsp.trigger.TriggerDelayLine`
and shows its kept sweeps, the sweeps still being captured and their average (:mod:`emgscope.gui.sweeps_item`).
The display only reads the ring, so acquisition, sound and recording carry on whatever it does.

The trigger level, and the amplitude window's far level when the window is on, are horizontal lines on the trace
that the user drags; they sit on the newest sweep's baseline (the middle of the plot superimposed, the bottom lane
rastered) and follow the scope's µV/div, negative up. Levels and slopes are in the signal's own µV, as the delay
line takes them: a negative spike, which goes *up* on the screen, crosses a negative level on a *falling* slope.

Frozen (Space), the display keeps its sweeps and the user steps through them one by one.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QObject, Qt, pyqtSignal

from emgscope.acquisition.pump import Pipeline
from emgscope.core.ring import RingReader
from emgscope.core.settings import (
    DIVISIONS,
    FALLING,
    KEEP_DEFAULT,
    KEEP_RANGE,
    RISING,
    SUPERIMPOSE,
    TRIGGER_STYLES,
    TriggerSettings,
)
from emgscope.dsp.trigger import TriggerDelayLine
from emgscope.gui.scope_items import LABEL_FILL
from emgscope.gui.sweeps_item import (
    TRIGGER_MARK_COLOUR,
    SweepPicture,
    SweepsItem,
    baseline_divisions,
)

PRIME_S = 2.0
"""A new delay line (the mode chosen, another channel, sweep, pre-trigger or count) is first fed this much of the
ring, so the sweeps of the last seconds show at once instead of an empty screen."""
LEVEL_RANGE_UV = (-10_000.0, 10_000.0)
"""Trigger and window levels on offer: ±2 divisions at the least sensitive preset (5 mV/div)."""
WINDOW_GAP_DIVISIONS = 2.0
"""A window switched on opens this far beyond the trigger level (at the current µV/div)."""
LEVEL_Z = 20


class TriggerScope(QObject):
    """The trigger settings, the delay line and what the triggered display draws."""

    changed = pyqtSignal()
    """Settings, style or count changed (a dragged level, a new channel): the controls follow."""
    status_changed = pyqtSignal(str)
    """What the display is doing, in words ("Sweep 7 of 20 …", "Waiting for a crossing …")."""

    def __init__(self, view_box: pg.ViewBox) -> None:
        super().__init__()
        self.settings = TriggerSettings()
        self.style = SUPERIMPOSE
        self.keep = KEEP_DEFAULT
        self.channel = 0
        self.label = ""
        self.uv_per_div = 100.0
        self.active = False
        self.frozen = False
        self.selected: int | None = None
        """Index of the kept sweep chosen while frozen, or ``None``."""
        self.delay: TriggerDelayLine | None = None
        self.pipeline: Pipeline | None = None
        self.reader: RingReader | None = None
        self.shown: tuple[int, ...] = ()
        """Trigger samples of the sweeps on screen (kept or being captured), oldest first."""
        self.status = ""
        self._key: tuple[object, ...] | None = None
        self._recent = np.zeros(0, dtype=np.float32)
        self._version = 0
        self._kept_key: tuple[object, ...] = ()
        self.item = SweepsItem()
        self.item.setVisible(False)
        view_box.addItem(self.item)
        self.level_line = self._line(solid=True)
        self.window_line = self._line(solid=False)
        view_box.addItem(self.level_line)
        view_box.addItem(self.window_line)
        self.level_line.sigPositionChanged.connect(lambda: self._dragged(self.level_line, "level"))
        self.window_line.sigPositionChanged.connect(lambda: self._dragged(self.window_line, "window"))
        self._placing = False

    @staticmethod
    def _line(solid: bool) -> pg.InfiniteLine:
        if solid:
            pen = pg.mkPen(TRIGGER_MARK_COLOUR, width=2)
        else:
            pen = pg.mkPen(TRIGGER_MARK_COLOUR, width=1.5, style=Qt.PenStyle.DashLine)
        line = pg.InfiniteLine(
            angle=0,
            movable=True,
            pen=pen,
            hoverPen=pg.mkPen("w", width=2),
            bounds=(0.0, float(DIVISIONS)),
            label="",
            labelOpts={"position": 0.97, "color": TRIGGER_MARK_COLOUR, "anchors": [(1, 1), (1, 1)], "fill": LABEL_FILL},
        )
        line.setZValue(LEVEL_Z)
        line.setVisible(False)
        return line

    # --- what the user sets ---------------------------------------------------------------------------

    @property
    def ms_per_div(self) -> float:
        return self.settings.ms_per_div

    def set_active(self, active: bool) -> None:
        """Shown (the triggered mode is chosen) or not; a mode left lets go of its delay line."""
        self.active = active
        self.item.setVisible(active)
        if not active:
            self.delay, self._key = None, None
        self._place_lines()

    def set_settings(self, settings: TriggerSettings) -> None:
        """New trigger settings (raises ``ValueError`` with a sentence for ones the trigger cannot honour)."""
        settings.check()
        if settings == self.settings:
            return
        geometry = (settings.ms_per_div, settings.pretrigger) != (self.settings.ms_per_div, self.settings.pretrigger)
        self.settings = settings
        if self.delay is not None and not geometry:
            self.delay.settings = settings
        self._place_lines()
        self.changed.emit()
        if geometry:
            self.refresh()

    def update_settings(self, **changes: object) -> None:
        """Change some settings (``level_uv=-150``); an amplitude window left on the wrong side of the level moves
        with it, so the window stays open."""
        settings = dataclasses.replace(self.settings, **changes)  # type: ignore[arg-type]
        window = settings.window_uv
        if window is not None and "window_uv" not in changes and not beyond_level(window, settings):
            settings = dataclasses.replace(settings, window_uv=self.default_window(settings))
        self.set_settings(settings)

    def default_window(self, settings: TriggerSettings | None = None) -> float:
        """Where a window switched on opens: :data:`WINDOW_GAP_DIVISIONS` beyond the level, in the slope's way."""
        s = settings or self.settings
        gap = WINDOW_GAP_DIVISIONS * self.uv_per_div
        return s.level_uv + gap if s.slope == RISING else s.level_uv - gap

    def set_style(self, style: str) -> None:
        if style not in TRIGGER_STYLES:
            raise ValueError(f"unknown style {style!r}: use one of {', '.join(TRIGGER_STYLES)}")
        if style != self.style:
            self.style = style
            self._layout()
            self._place_lines()
            self.changed.emit()

    def set_keep(self, keep: int) -> None:
        """Keep the last ``keep`` sweeps (the delay line starts again from the ring's last seconds)."""
        keep = int(min(max(keep, KEEP_RANGE[0]), KEEP_RANGE[1]))
        if keep != self.keep:
            self.keep = keep
            self.changed.emit()
            self.refresh()

    def set_channel(self, channel: int, label: str) -> None:
        """Trigger on ``channel`` (the one heard)."""
        if (channel, label) != (self.channel, self.label):
            self.channel, self.label = channel, label
            self.refresh()

    def set_sensitivity(self, uv_per_div: float) -> None:
        self.uv_per_div = uv_per_div
        self._layout()
        self._place_lines()

    def set_frozen(self, frozen: bool) -> None:
        """Frozen, the sweeps being captured leave the screen and the kept ones can be stepped through."""
        self.frozen = frozen
        self.selected = None
        self._show()

    def step(self, direction: int) -> bool:
        """Choose the previous (``-1``) or next (``+1``) kept sweep of a frozen display; the first step chooses the
        newest. ``False`` when there is nothing to step through."""
        delay = self.delay
        if not self.frozen or delay is None or not delay.sweeps:
            return False
        count = len(delay.sweeps)
        if self.selected is None:
            self.selected = count - 1
        else:
            self.selected = int(min(max(self.selected + direction, 0), count - 1))
        self._show()
        return True

    # --- frames ----------------------------------------------------------------------------------------

    def rebuild(self, pipeline: Pipeline | None, reader: RingReader | None) -> None:
        """Draw afresh (new size, scale or stream); a new stream, channel or sweep geometry primes a new delay line."""
        self.pipeline, self.reader = pipeline, reader
        self.refresh()

    def refresh(self) -> None:
        if not self.active:
            return
        pipeline, reader = self.pipeline, self.reader
        if pipeline is None or reader is None:
            self.delay, self._key = None, None
            self._show()
            return
        self.channel = min(self.channel, pipeline.info.n_channels - 1)
        rate = pipeline.info.sample_rate
        key = (id(pipeline), self.channel, rate, self.settings.ms_per_div, self.settings.pretrigger, self.keep)
        if key != self._key or self.delay is None:
            self._key = key
            self.delay = TriggerDelayLine(self.settings, rate, self.keep)
            position = reader.position
            first, data = pipeline.filtered.read_range(position - round(PRIME_S * rate), position)
            self._recent = np.zeros(0, dtype=np.float32)
            self._feed(first, data)
            self.selected = None
        self._layout()
        self._place_lines()
        self._show()

    def frame(self) -> None:
        """Take what arrived since the last frame, feed the trigger, show its sweeps."""
        pipeline, reader, delay = self.pipeline, self.reader, self.delay
        if pipeline is None or reader is None or delay is None:
            return
        ring = pipeline.filtered
        lost = ring.oldest_index - reader.position
        if lost > 0:
            reader.overrun_samples += lost  # fell behind by more than the ring holds: those samples are gone
        behind = ring.write_index - round(PRIME_S * pipeline.info.sample_rate)
        if reader.position < behind:
            reader.skip_to(behind)  # a stalled display catches up on the last seconds, not on all it missed
        data = reader.read()
        if data.shape[1]:
            self._feed(reader.position - data.shape[1], data)
        self._show()

    def _feed(self, first: int, data: np.ndarray) -> None:
        assert self.delay is not None
        if data.shape[1] == 0:
            return
        channel = data[self.channel]
        self.delay.feed(first, channel)
        length = self.delay.settings.sweep_samples(self.delay.sample_rate)
        self._recent = np.concatenate((self._recent, channel))[-length:]

    def _layout(self) -> None:
        rate = self.pipeline.info.sample_rate if self.pipeline is not None else 20_000.0
        s = self.settings
        self.item.set_layout(
            self.style, self.keep, s.sweep_samples(rate), s.pre_samples(rate), self.uv_per_div, self.label
        )
        self.item.set_span(s.ms_per_div * DIVISIONS)

    def _show(self) -> None:
        delay = self.delay
        if delay is None:
            self.item.show_picture(SweepPicture())
            self.shown = ()
            self._say("No signal to trigger on." if self.active else "")
            return
        sweeps = delay.sweeps
        capturing = () if self.frozen else tuple(delay.in_progress())
        kept_key = (tuple(s.trigger_index for s in sweeps), self.selected)
        if kept_key != self._kept_key:
            self._kept_key = kept_key
            self._version += 1
        picture = SweepPicture(
            sweeps=tuple(s.samples for s in sweeps),
            triggers=tuple(s.trigger_index for s in sweeps),
            capturing=tuple(s.samples for s in capturing),
            average=delay.average,
            free_run=self._recent if not sweeps and not capturing else None,
            selected=self.selected,
            version=self._version,
        )
        self.item.show_picture(picture)
        self.shown = tuple(s.trigger_index for s in (*sweeps, *capturing))
        self._say(self._describe(sweeps))

    def _describe(self, sweeps: tuple[object, ...]) -> str:
        delay = self.delay
        assert delay is not None
        if self.selected is not None:
            chosen = delay.sweeps[self.selected]
            text = f"Sweep {self.selected + 1} of {len(sweeps)}"
            if self.selected > 0:
                before = delay.sweeps[self.selected - 1]
                gap_ms = (chosen.trigger_index - before.trigger_index) * 1000 / delay.sample_rate
                text += f", {gap_ms:.1f} ms after the one before ({1000 / gap_ms:.1f} Hz)"
            return text
        s = self.settings
        screen = "going up" if s.slope == FALLING else "going down"
        if not sweeps:
            return f"Waiting for the trace to cross {s.level_uv:g} µV {screen} (grey: the signal, untriggered)"
        window = "" if s.window_uv is None else f", window to {s.window_uv:g} µV"
        frozen = ": , and . step through them" if self.frozen else ""
        counted = "1 sweep" if len(sweeps) == 1 else f"{len(sweeps)} sweeps"
        return f"{counted} at {s.level_uv:g} µV {screen}{window}{frozen}"

    def _say(self, text: str) -> None:
        if text != self.status:
            self.status = text
            self.status_changed.emit(text)

    # --- the level lines -------------------------------------------------------------------------------

    def _baseline(self) -> float:
        """Divisions from the bottom of the newest sweep's baseline, where the levels are drawn."""
        return baseline_divisions(self.style, self.keep, self.keep)

    def level_y(self, uv: float) -> float:
        """Height on the plot (divisions) of a level in µV, negative up."""
        return self._baseline() - uv / self.uv_per_div

    def level_uv(self, y: float) -> float:
        """The level in µV at a height on the plot (divisions), to the µV."""
        return float(np.round((self._baseline() - y) * self.uv_per_div))

    def _place_lines(self) -> None:
        s = self.settings
        self._placing = True
        for line, uv, shown, name in (
            (self.level_line, s.level_uv, self.active, "Trigger"),
            (self.window_line, s.window_uv, self.active and s.window_uv is not None, "Window"),
        ):
            line.setVisible(shown)
            if uv is not None:
                line.setValue(min(max(self.level_y(uv), 0.0), float(DIVISIONS)))
                line.label.setFormat(f"{name} {uv:g} µV")
        self._placing = False

    def _dragged(self, line: pg.InfiniteLine, which: str) -> None:
        """A level line moved under the mouse: the trigger follows (a window that would cross the level stops a
        µV short of it)."""
        if self._placing:
            return
        uv = self.level_uv(float(line.value()))
        s = self.settings
        try:
            if which == "level":
                self.update_settings(level_uv=uv)
            else:
                if not beyond_level(uv, s):
                    uv = s.level_uv + (1.0 if s.slope == RISING else -1.0)
                self.set_settings(dataclasses.replace(s, window_uv=uv))
        except ValueError:
            self._place_lines()


def beyond_level(uv: float, settings: TriggerSettings) -> bool:
    """Whether a window level ``uv`` lies beyond the trigger level in the slope's direction (where it must)."""
    return uv > settings.level_uv if settings.slope == RISING else uv < settings.level_uv
