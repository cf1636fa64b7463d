"""The scope view and its raster: real widgets offscreen, a real ring written with known signals.

The tests write samples into the ring themselves and call ``tick()`` (what the 60 Hz timer calls), so every
frame is deterministic: no thread, no wall clock. Amplitudes are checked in pixels against the clinical scale.
"""

from __future__ import annotations

import numpy as np
import pytest

from emgscope.acquisition.pump import Pipeline
from emgscope.core.ring import SampleRing
from emgscope.core.settings import DIVISIONS, FilterSettings
from emgscope.core.source import StreamInfo
from emgscope.dsp.filters import FilterBank
from emgscope.gui.raster import TRACE_COLOUR, TraceRaster
from emgscope.gui.scope_view import ScopeView

RATE = 20_000.0


def make_pipeline(n_channels: int, seconds: float = 3.0) -> Pipeline:
    info = StreamInfo(RATE, tuple(f"Ch{i + 1}" for i in range(n_channels)), "test stream")
    capacity = int(RATE * seconds)
    return Pipeline(
        info,
        SampleRing(n_channels, capacity),
        SampleRing(n_channels, capacity),
        FilterBank(FilterSettings(), RATE, n_channels),
    )


def sine(n_channels: int, start: int, n: int, amplitude_uv: float, hz: float = 50.0) -> np.ndarray:
    t = (start + np.arange(n)) / RATE
    return np.tile(amplitude_uv * np.sin(2 * np.pi * hz * t), (n_channels, 1)).astype(np.float32)


def drawn_rows(pixels: np.ndarray, row0: int = 0, row1: int | None = None) -> np.ndarray:
    return np.flatnonzero((pixels[row0:row1] == TRACE_COLOUR).any(axis=1)) + row0


@pytest.fixture
def view(qtbot):
    widget = ScopeView()
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    qtbot.waitExposed(widget)
    widget.timer.stop()
    return widget


def stream(view: ScopeView, pipeline: Pipeline, amplitude: float, seconds: float, chunk: int = 333) -> None:
    """Write ``seconds`` of sine into the ring one chunk per frame, as the pump and the timer would."""
    ring = pipeline.filtered
    for _ in range(round(seconds * RATE / chunk)):
        ring.write(sine(ring.n_channels, ring.write_index, chunk, amplitude))
        view.tick()


def test_raster_amplitude_follows_sensitivity() -> None:
    raster = TraceRaster(1, 800, 400, RATE, 100.0, [0], erase=True)
    raster.ingest(0, sine(1, 0, int(RATE), 200.0))
    rows = drawn_rows(raster.pixels)
    # ±200 µV at 100 µV/div on a 10-division, 400-pixel screen: 4 divisions = 160 pixels peak to peak.
    assert rows.max() - rows.min() == pytest.approx(160, abs=2)
    raster.set_layout(50.0, [0])
    raster.redraw()
    rows = drawn_rows(raster.pixels)
    assert rows.max() - rows.min() == pytest.approx(320, abs=2)


def test_raster_zoomed_in_trace_has_no_gaps() -> None:
    # 1 ms/div: 200 samples across 1000 columns, five columns per sample, filled by interpolation.
    raster = TraceRaster(1, 1000, 400, 200, 100.0, [0], erase=False)
    for start in range(0, 200, 7):
        raster.ingest(start, sine(1, start, min(7, 200 - start), 300.0, hz=500.0))
    assert raster.head == 995  # the last sample (199) falls in column 199 × 5
    empty_columns = np.flatnonzero(~(raster.pixels == TRACE_COLOUR).any(axis=0))
    assert empty_columns.tolist() == [996, 997, 998, 999]


def test_sweep_erase_bar_runs_ahead_of_the_write_position() -> None:
    raster = TraceRaster(1, 500, 200, RATE, 100.0, [0], erase=True)
    raster.ingest(0, sine(1, 0, int(RATE * 1.5), 100.0))
    head = raster.head
    assert head == pytest.approx(250, abs=1)
    blank = ~(raster.pixels == TRACE_COLOUR).any(axis=0)
    assert blank[head + 1 : head + 1 + raster.erase_columns].all()
    assert not blank[: head + 1].any()
    assert not blank[head + 2 + raster.erase_columns :].any()


def test_view_draws_moving_trace_at_clinical_scale(view: ScopeView) -> None:
    pipeline = make_pipeline(1)
    view.set_pipeline(pipeline)
    view.set_sensitivity(100.0)
    stream(view, pipeline, 200.0, 0.5)
    first = view.raster.pixels.copy()
    stream(view, pipeline, 200.0, 0.2)
    assert not np.array_equal(first, view.raster.pixels)
    height = view.raster.height
    rows = drawn_rows(view.raster.pixels)
    expected = 2 * 200.0 / 100.0 * height / DIVISIONS
    assert rows.max() - rows.min() == pytest.approx(expected, abs=2)
    assert view.scale_label.text() == "100 µV/div    100 ms/div"
    view.set_sensitivity(200.0)
    rows = drawn_rows(view.raster.pixels)
    assert rows.max() - rows.min() == pytest.approx(expected / 2, abs=2)
    assert view.scale_label.text().startswith("200 µV/div")


def test_sweep_change_rebuilds_from_the_ring(view: ScopeView) -> None:
    pipeline = make_pipeline(1)
    view.set_pipeline(pipeline)
    stream(view, pipeline, 100.0, 1.2)
    view.set_sweep(10.0)
    assert view.scale_label.text().endswith("10 ms/div")
    assert view.raster.sweep_samples == pytest.approx(0.1 * RATE)
    # The rebuilt 100 ms sweep is filled straight from the ring, without waiting for new samples.
    filled = (view.raster.pixels == TRACE_COLOUR).any(axis=0)
    assert filled.mean() > 0.9
    assert view.view_box.viewRange()[0] == pytest.approx([0.0, 100.0])


def test_freeze_holds_picture_while_ring_keeps_filling(view: ScopeView) -> None:
    pipeline = make_pipeline(1)
    view.set_pipeline(pipeline)
    stream(view, pipeline, 150.0, 0.3)
    view.set_frozen(True)
    picture = view.raster.pixels.copy()
    before = pipeline.filtered.write_index
    stream(view, pipeline, 400.0, 0.3)
    assert pipeline.filtered.write_index > before
    assert np.array_equal(picture, view.raster.pixels)
    assert view.frozen_label.isVisibleTo(view)
    view.set_frozen(False)
    stream(view, pipeline, 400.0, 0.05)
    assert not np.array_equal(picture, view.raster.pixels)
    assert view.reader.overrun_samples == 0


def test_hidden_channel_is_not_drawn(view: ScopeView) -> None:
    pipeline = make_pipeline(2)
    view.set_pipeline(pipeline)
    stream(view, pipeline, 100.0, 0.3)
    height = view.raster.height
    assert drawn_rows(view.raster.pixels, height // 2).size > 0
    view.set_hidden({"Ch2"})
    stream(view, pipeline, 100.0, 0.1)
    rows = drawn_rows(view.raster.pixels)
    # Ch1 alone is re-centred on the whole screen: its ±1 division sine spans the middle fifth.
    assert rows.min() == pytest.approx(0.4 * height, abs=2)
    assert rows.max() == pytest.approx(0.6 * height, abs=2)


def test_display_falling_behind_the_ring_counts_lost_samples(view: ScopeView) -> None:
    pipeline = make_pipeline(1, seconds=1.0)
    view.set_pipeline(pipeline)
    ring = pipeline.filtered
    ring.write(sine(1, 0, int(RATE * 2.5), 100.0))
    view.tick()
    assert view.reader.overrun_samples == int(RATE * 1.5)
    assert view.reader.position == ring.write_index


def test_scroll_mode_puts_newest_samples_at_the_right_edge(view: ScopeView) -> None:
    pipeline = make_pipeline(1)
    view.set_pipeline(pipeline)
    view.set_mode("scroll")
    stream(view, pipeline, 200.0, 0.4)
    assert view.raster.erase_columns == 0
    image = view.plot.grab().toImage()
    plot_rect = view.view_box.sceneBoundingRect().toRect()
    green = [
        x
        for x in range(plot_rect.left(), plot_rect.right())
        if any(is_trace(image.pixelColor(x, y)) for y in range(plot_rect.top(), plot_rect.bottom(), 2))
    ]
    # 0.4 s of a 1 s screen: the trace fills the right 40 % and the left is still empty.
    assert min(green) - plot_rect.left() == pytest.approx(0.6 * plot_rect.width(), abs=6)
    assert max(green) >= plot_rect.right() - 3


def is_trace(colour) -> bool:
    """The trace's bright green, not the grey labels or the dim grid."""
    return colour.green() > 200 and colour.red() < 150
