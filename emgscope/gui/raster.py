"""The traces as pixels: min/max per pixel column, drawn into a numpy image one dirty strip at a time.

Drawing every sample with ``setData`` costs far more than a 60 Hz frame allows at 16 channels × 20 kHz, so
the scope draws less instead of faster. Each pixel column holds the minimum and maximum (µV) of the samples
that fall into it; a frame only computes the columns its new samples land in and repaints that strip of an
ARGB image as vertical min–max lines, each stretched to meet its left neighbour so the trace stays continuous.

Columns are numbered absolutely (``floor(sample_index × width / sweep_samples)``), and the image is a circular
buffer of ``width`` columns. Sweep mode paints the buffer as it is (the write position runs left to right and
wraps); scroll mode paints it in two parts so the newest column sits at the right edge. No whole-image copy or
roll ever happens per frame. This module holds no Qt: the view wraps :attr:`TraceRaster.pixels` in a QImage.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emgscope.core.settings import DIVISIONS

TRACE_COLOUR = 0xFF5CFF7A
"""Premultiplied ARGB of the trace: bright green on the dark screen, as clinical machines draw it."""
CLIP_COLOUR = 0xFFFF9F1A
"""Premultiplied ARGB of the mark where a trace runs past its lane: orange, unlike anything else on the scope."""
CLIP_MARK_PX = 3
"""Rows of the mark at the lane's edge: without it a wave cut flat there looks like a trapezoid of the signal's
own."""
ERASE_FRACTION = 0.02
"""Width of the erase bar ahead of the write position in sweep mode, as a fraction of the screen."""


class TraceRaster:
    """Per-channel min/max per pixel column for one sweep's worth of samples, and the pixels they draw."""

    def __init__(
        self,
        n_channels: int,
        width: int,
        height: int,
        sweep_samples: float,
        sensitivity_uv: float,
        visible: Sequence[int],
        erase: bool,
    ) -> None:
        self.n_channels = n_channels
        self.width = max(1, width)
        self.height = max(1, height)
        self.sweep_samples = sweep_samples
        self.columns_per_sample = self.width / sweep_samples
        self.pixels = np.zeros((self.height, self.width), dtype=np.uint32)
        self.mins = np.full((n_channels, self.width), np.nan, dtype=np.float32)
        self.maxs = np.full((n_channels, self.width), np.nan, dtype=np.float32)
        self.erase_columns = max(2, round(self.width * ERASE_FRACTION)) if erase else 0
        self.last_column: int | None = None
        """Absolute number of the newest column written."""
        self._next_index: int | None = None
        self._last_sample = np.zeros(n_channels, dtype=np.float32)
        self.visible: list[int] = []
        self._baselines = np.zeros(0)
        self._lane_half = 0.0
        self._px_per_uv = 0.0
        self._lane_top = np.zeros((0, 1))
        self._lane_bottom = np.zeros((0, 1))
        self._past_top_uv = np.zeros((0, 1))
        self._past_bottom_uv = np.zeros((0, 1))
        self.set_layout(sensitivity_uv, visible)

    def set_layout(self, sensitivity_uv: float, visible: Sequence[int]) -> None:
        """Which channels are drawn (top to bottom) and at what scale; the caller then calls :meth:`redraw`."""
        self.visible = list(visible)
        n = max(1, len(self.visible))
        self._baselines = (np.arange(len(self.visible)) + 0.5) * self.height / n
        self._lane_half = self.height / (2 * n)
        self._px_per_uv = self.height / (DIVISIONS * sensitivity_uv)
        baselines = self._baselines[:, None]
        self._lane_top = np.maximum(np.ceil(baselines - self._lane_half), 0)
        self._lane_bottom = np.minimum(np.floor(baselines + self._lane_half) - 1, self.height - 1)
        # The values whose pixel row falls outside the lane (row = floor(baseline + µV × px_per_uv)), so a
        # repaint finds the clipped columns with one comparison each.
        self._past_top_uv = (self._lane_top - baselines) / self._px_per_uv
        self._past_bottom_uv = (self._lane_bottom + 1 - baselines) / self._px_per_uv

    def baseline_rows(self) -> list[float]:
        """Pixel row of each visible channel's baseline (for the channel labels)."""
        return [float(row) for row in self._baselines]

    @property
    def head(self) -> int | None:
        """Buffer column of the newest sample (the write position), or ``None`` before the first sample."""
        return None if self.last_column is None else self.last_column % self.width

    def ingest(self, start: int, data: np.ndarray) -> list[slice]:
        """Fold samples ``start…start+n`` into their columns and repaint them; returns the dirty buffer slices."""
        n = data.shape[1]
        if n == 0:
            return []
        index = start + np.arange(n, dtype=np.int64)
        columns = np.floor(index * self.columns_per_sample).astype(np.int64)
        last = int(columns[-1])
        keep_from = int(np.searchsorted(columns, last - self.width + 1))
        continuing = self._next_index == start and keep_from == 0
        if keep_from:
            self._last_sample = data[:, keep_from - 1].copy()
            self._next_index = int(index[keep_from])
            index, columns, data = index[keep_from:], columns[keep_from:], data[:, keep_from:]
            continuing = True
        first = int(columns[0])
        if continuing and self.last_column is not None and self.last_column < first:
            first = max(self.last_column + 1, last - self.width + 1)
        mins, maxs = self._column_extremes(first, last, index, columns, data, continuing)
        if first == self.last_column:
            buffer_column = first % self.width
            mins[:, 0] = np.fmin(mins[:, 0], self.mins[:, buffer_column])
            maxs[:, 0] = np.fmax(maxs[:, 0], self.maxs[:, buffer_column])
        dirty = self._store(first, mins, maxs)
        if self.erase_columns:
            erased = self._column_slices(last + 1, self.erase_columns)
            for part in erased:
                self.mins[:, part] = np.nan
                self.maxs[:, part] = np.nan
            dirty += erased + self._column_slices(last + 1 + self.erase_columns, 1)
        self.last_column = last
        self._next_index = start + n
        self._last_sample = data[:, -1].copy()
        for part in dirty:
            self._paint(part)
        return dirty

    def _column_extremes(
        self, first: int, last: int, index: np.ndarray, columns: np.ndarray, data: np.ndarray, continuing: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """Min and max of each column ``first…last``; columns no sample falls in (zoomed in) are interpolated."""
        k = last - first + 1
        starts = np.searchsorted(columns, np.arange(first, last + 1))
        ends = np.append(starts[1:], data.shape[1])
        filled = starts < ends
        mins = np.full((self.n_channels, k), np.nan, dtype=np.float32)
        maxs = np.full((self.n_channels, k), np.nan, dtype=np.float32)
        mins[:, filled] = np.minimum.reduceat(data, starts[filled], axis=1)
        maxs[:, filled] = np.maximum.reduceat(data, starts[filled], axis=1)
        if not filled.all():
            centres = (first + np.flatnonzero(~filled) + 0.5) / self.columns_per_sample
            xp, fp = index, data
            if continuing:
                xp = np.concatenate(([index[0] - 1], index))
                fp = np.concatenate((self._last_sample[:, None], data), axis=1)
            for channel in range(self.n_channels):
                values = np.interp(centres, xp, fp[channel])
                mins[channel, ~filled] = values
                maxs[channel, ~filled] = values
        return mins, maxs

    def _store(self, first: int, mins: np.ndarray, maxs: np.ndarray) -> list[slice]:
        parts = self._column_slices(first, mins.shape[1])
        offset = 0
        for part in parts:
            width = part.stop - part.start
            self.mins[:, part] = mins[:, offset : offset + width]
            self.maxs[:, part] = maxs[:, offset : offset + width]
            offset += width
        return parts

    def _column_slices(self, first: int, count: int) -> list[slice]:
        """Buffer slices covering ``count`` absolute columns from ``first`` (two when they wrap)."""
        count = min(count, self.width)
        begin = first % self.width
        end = begin + count
        if end <= self.width:
            return [slice(begin, end)]
        return [slice(begin, self.width), slice(0, end - self.width)]

    def redraw(self) -> None:
        """Repaint every column from the stored min/max (after a change of scale or of visible channels)."""
        self._paint(slice(0, self.width))

    def _paint(self, part: slice) -> None:
        """Repaint one strip: every visible channel's min–max line per column, in a few whole-strip operations,
        and a mark at the lane's edge where a trace ran past it.

        Each (channel, column) line adds +1 at its top row and −1 below its bottom row; a cumulative sum down
        the rows then marks every covered pixel, however many channels there are, without a Python loop.
        """
        strip = self.pixels[:, part]
        count = part.stop - part.start
        if not self.visible:
            strip[:] = 0
            return
        channels = np.asarray(self.visible)
        previous = (part.start - 1) % self.width
        lo = self.mins[channels, part]
        hi = self.maxs[channels, part]
        prev_lo = np.concatenate((self.mins[channels, previous, None], lo[:, :-1]), axis=1)
        prev_hi = np.concatenate((self.maxs[channels, previous, None], hi[:, :-1]), axis=1)
        joined = ~np.isnan(prev_lo)
        lo = np.where(joined, np.fmin(lo, prev_hi), lo)
        hi = np.where(joined, np.fmax(hi, prev_lo), hi)
        drawn = ~np.isnan(lo)
        baselines = self._baselines[:, None]
        # Negative up, the clinical convention; each trace is clipped to its own lane so a large potential at
        # high gain never scribbles over its neighbours.
        lane_top, lane_bottom = self._lane_top, self._lane_bottom
        top = np.clip(np.floor(baselines + lo * self._px_per_uv), lane_top, lane_bottom)
        bottom = np.clip(np.floor(baselines + hi * self._px_per_uv), lane_top, lane_bottom)
        column = np.broadcast_to(np.arange(count), lo.shape)[drawn]
        starts = top[drawn].astype(np.int64) * count + column
        stops = (bottom[drawn].astype(np.int64) + 1) * count + column
        size = (self.height + 1) * count
        coverage = np.bincount(starts, minlength=size) - np.bincount(stops, minlength=size)
        covered = np.cumsum(coverage.reshape(self.height + 1, count)[:-1], axis=0) > 0
        strip[:] = np.where(covered, np.uint32(TRACE_COLOUR), np.uint32(0))
        self._mark_clipped(strip, self.mins[channels, part], self.maxs[channels, part])

    def _mark_clipped(self, strip: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        """Mark, at the lane's edge, each column whose own samples (``lo``, ``hi``: µV per visible channel and
        column) went past it: :data:`CLIP_MARK_PX` rows in :data:`CLIP_COLOUR`."""
        past_top = lo < self._past_top_uv
        past_bottom = hi >= self._past_bottom_uv
        if not (past_top.any() or past_bottom.any()):
            return
        rows = np.arange(CLIP_MARK_PX)
        for past, edge, step in ((past_top, self._lane_top, 1), (past_bottom, self._lane_bottom, -1)):
            channel, column = np.nonzero(past)
            lane_rows = edge[channel] + step * rows  # (marks, CLIP_MARK_PX) rows from the edge inwards
            lane_rows = np.clip(lane_rows, self._lane_top[channel], self._lane_bottom[channel]).astype(np.int64)
            strip[lane_rows, np.broadcast_to(column[:, None], lane_rows.shape)] = np.uint32(CLIP_COLOUR)
