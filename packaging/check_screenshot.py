"""Check that a screenshot of emgscope's main window shows traces: ``python check_screenshot.py PNG``.

Used by the build (the bundle's first picture) and by CI (the installed app's): a window that starts but draws
no signal, a blank grab or an error dialog all fail here. The traces are drawn in one colour, so their pixels are
counted exactly, inside the plot (the box the major grid lines span: the scale readout above it shares the
trace colour).
"""

from __future__ import annotations

import sys

import numpy as np
from PyQt6.QtGui import QImage

TRACE_RGB = (0x5C, 0xFF, 0x7A)
"""The trace colour (``TRACE_COLOUR`` in emgscope/gui/raster.py)."""
GRID_RGB = (70, 86, 96)
"""The major grid lines (``GRID_COLOUR`` in emgscope/gui/scope_items.py)."""
MIN_COLUMNS_FRACTION = 0.05
"""At least this share of the plot's columns must hold trace pixels: 50 ms of signal at the default 100 ms/div
(a window still connecting has none; one second of signal fills the whole sweep)."""


def trace_columns(path: str) -> tuple[int, int]:
    """(plot columns holding trace pixels, width of the plot); (0, 0) for a file that is not a picture."""
    image = QImage(path)
    if image.isNull():
        return 0, 0
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    bits = image.constBits()
    bits.setsize(image.sizeInBytes())
    rows = np.frombuffer(bits, np.uint8).reshape(height, image.bytesPerLine())[:, : width * 3]
    pixels = rows.reshape(height, width, 3)
    grid_rows, grid_columns = np.nonzero(np.all(pixels == np.array(GRID_RGB, np.uint8), axis=2))
    if grid_rows.size == 0:
        return 0, width
    plot = pixels[grid_rows.min() : grid_rows.max() + 1, grid_columns.min() : grid_columns.max() + 1]
    is_trace = np.all(plot == np.array(TRACE_RGB, np.uint8), axis=2)
    return int(is_trace.any(axis=0).sum()), plot.shape[1]


def main() -> int:
    path = sys.argv[1]
    columns, width = trace_columns(path)
    if width == 0:
        print(f"{path}: not a picture", file=sys.stderr)
        return 1
    if columns < MIN_COLUMNS_FRACTION * width:
        print(f"{path}: traces in {columns} of the plot's {width} columns: no signal drawn", file=sys.stderr)
        return 1
    print(f"{path}: traces in {columns} of the plot's {width} columns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
