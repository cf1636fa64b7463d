"""The trace raster follows the clinical drawing conventions: negative up, each trace within its own lane."""

from __future__ import annotations

import numpy as np

from emgscope.core.settings import DIVISIONS
from emgscope.gui.raster import TraceRaster


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
