"""The trace raster follows the clinical drawing conventions: negative up, each trace within its own lane."""

from __future__ import annotations

import numpy as np

from emgscope.core.settings import DIVISIONS
from emgscope.gui.raster import CLIP_COLOUR, CLIP_MARK_PX, TRACE_COLOUR, TraceRaster


def drawn_rows(raster: TraceRaster, column: int) -> np.ndarray:
    return np.flatnonzero(raster.pixels[:, column])


def test_negative_is_drawn_above_the_baseline_at_the_set_sensitivity() -> None:
    height, sensitivity = 400, 100.0
    raster = TraceRaster(1, 100, height, 100, sensitivity, [0], erase=False)
    data = np.zeros((1, 100), np.float32)
    data[0, 50] = -300.0  # three divisions negative
    raster.ingest(0, data)
    rows = drawn_rows(raster, 50)
    baseline = height / 2
    px_per_division = height / DIVISIONS
    assert rows.min() == np.floor(baseline - 3 * px_per_division)
    assert rows.max() <= baseline + 1
    quiet = drawn_rows(raster, 20)
    assert quiet.min() == quiet.max() == np.floor(baseline)


def test_a_large_potential_stays_in_its_own_lane() -> None:
    height = 400
    raster = TraceRaster(2, 100, height, 100, 10.0, [0, 1], erase=False)
    data = np.zeros((2, 100), np.float32)
    data[0, 40] = 5000.0  # 500 divisions at 10 µV/div: far past the lane
    data[1, 60] = -5000.0
    raster.ingest(0, data)
    # Lanes are rows 0–199 (baseline 100) and 200–399 (baseline 300). Channel 0's positive spike runs from its
    # baseline down to the bottom of its lane and stops; channel 1 only shows its baseline in that column.
    np.testing.assert_array_equal(drawn_rows(raster, 40), [*range(100, 200), 300])
    # Channel 1's negative spike runs up from its baseline to the top of its lane, not into channel 0's.
    np.testing.assert_array_equal(drawn_rows(raster, 60), [100, *range(200, 301)])


def test_a_trace_past_its_lane_edge_is_marked_at_that_edge_for_exactly_those_columns() -> None:
    height, width = 400, 200
    raster = TraceRaster(2, width, height, width, 10.0, [0, 1], erase=False)  # 4 px per µV, lanes ±100 px
    data = np.zeros((2, width), np.float32)
    data[0, 20:40] = -60.0  # 240 px up: past the top of lane 0 (a negative wave cut flat)
    data[0, 60:80] = 60.0  # past the bottom of lane 0
    data[0, 100:120] = 20.0  # 80 px: large, but inside the lane
    data[1, 140:160] = -30.0  # lane 1 (rows 200–399) past its top, at row 200
    raster.ingest(0, data)
    marked = raster.pixels == CLIP_COLOUR
    rows, columns = np.nonzero(marked)
    top_of_lane_0 = rows < CLIP_MARK_PX
    bottom_of_lane_0 = (rows >= 200 - CLIP_MARK_PX) & (rows < 200)
    top_of_lane_1 = (rows >= 200) & (rows < 200 + CLIP_MARK_PX)
    assert top_of_lane_0.sum() + bottom_of_lane_0.sum() + top_of_lane_1.sum() == rows.size, "marks only at lane edges"
    np.testing.assert_array_equal(np.unique(columns[top_of_lane_0]), np.arange(20, 40))
    np.testing.assert_array_equal(np.unique(columns[bottom_of_lane_0]), np.arange(60, 80))
    np.testing.assert_array_equal(np.unique(columns[top_of_lane_1]), np.arange(140, 160))
    assert marked[:, 20:40].sum() == marked[:, 60:80].sum() == marked[:, 140:160].sum() == 20 * CLIP_MARK_PX
    # The wave's edge is still drawn from the baseline up to the mark, in the trace's colour.
    assert (raster.pixels[CLIP_MARK_PX:100, 20] == TRACE_COLOUR).all()
    # A larger gain keeps everything in its lane: the marks go.
    raster.set_layout(100.0, [0, 1])
    raster.redraw()
    assert not (raster.pixels == CLIP_COLOUR).any()
