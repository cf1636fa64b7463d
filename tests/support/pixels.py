"""Reading what a real widget drew: its grab as RGB pixels, and the checks the theme's tests make on them."""

from __future__ import annotations

import numpy as np
from PyQt6.QtGui import QImage
from PyQt6.QtWidgets import QWidget


def rgb(widget: QWidget) -> np.ndarray:
    """``widget`` as it draws itself now: a (height, width, 3) array of 8-bit RGB."""
    return image_rgb(widget.grab().toImage())


def image_rgb(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    bits = image.constBits()
    bits.setsize(image.sizeInBytes())
    rows = np.frombuffer(bits, np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def lightness(pixels: np.ndarray) -> np.ndarray:
    """0 (black) … 1 (white) per pixel: the mean of its channels."""
    return pixels.astype(np.float64).mean(axis=-1) / 255.0


def light_patches(pixels: np.ndarray, size: int = 12, threshold: float = 0.7) -> int:
    """How many ``size``×``size`` squares are light all over: a white field or list, not text (whose strokes are a
    pixel or two wide) or an accent such as the green of a ticked box (lightness 0.61)."""
    light = (lightness(pixels) > threshold).astype(np.int64)
    summed = np.pad(light.cumsum(axis=0).cumsum(axis=1), ((1, 0), (1, 0)))
    squares = summed[size:, size:] - summed[:-size, size:] - summed[size:, :-size] + summed[:-size, :-size]
    return int((squares == size * size).sum())


def most_common(pixels: np.ndarray) -> tuple[int, int, int]:
    """The colour most pixels have (a widget's background)."""
    colours, counts = np.unique(pixels.reshape(-1, 3), axis=0, return_counts=True)
    return tuple(int(c) for c in colours[counts.argmax()])
