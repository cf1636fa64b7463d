"""Readouts in the units clinicians read: µV or mV per division, ms per division, a filter band in Hz/kHz."""

from __future__ import annotations

from emgscope.core.settings import FilterSettings


def format_sensitivity(uv: float) -> str:
    """``50 µV``, ``1 mV``: millivolts from 1000 µV up, as EMG machines label their gain."""
    return f"{uv / 1000:g} mV" if uv >= 1000 else f"{uv:g} µV"


def format_sweep(ms: float) -> str:
    return f"{ms:g} ms"


def format_hz(hz: float) -> str:
    return f"{hz / 1000:g} kHz" if hz >= 1000 else f"{hz:g} Hz"


def counted(n: int, noun: str, plural: str = "") -> str:
    """``1 channel``, ``2 channels``: a count with its noun in the number it needs (``plural`` where adding "s"
    does not make it)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def format_band(settings: FilterSettings) -> str:
    """The active band as shown on screen, e.g. ``10 Hz – 10 kHz`` or ``10 Hz – 10 kHz, notch 50 Hz``."""
    low = format_hz(settings.low_cut_hz) if settings.low_cut_hz > 0 else "DC"
    high = format_hz(settings.high_cut_hz) if settings.high_cut_hz > 0 else "open"
    text = f"{low} – {high}"
    if settings.notch_hz > 0:
        text += f", notch {format_hz(settings.notch_hz)}"
    return text
