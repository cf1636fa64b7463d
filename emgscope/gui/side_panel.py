"""How wide a panel docked beside the scope may be: one size, and the scope keeps most of the window.

A neurologist reads 10 ms/div off the screen, so the time base's physical width must neither shrink to a strip nor
change while an exam or a replay runs. Docked panels (the exam's prompts, the replay transport) take a fixed share.
"""

from __future__ import annotations

WIDTH_FRACTION = 0.28
"""A docked panel's share of the window's width."""
WIDTH_RANGE_PX = (300, 460)
"""Never narrower than its controls need, never wider than this however wide the screen."""


def side_panel_width(window_width: int) -> int:
    """The width of a panel docked beside the scope in a window ``window_width`` pixels wide."""
    low, high = WIDTH_RANGE_PX
    return min(high, max(low, round(window_width * WIDTH_FRACTION)))
