"""Turns source settings into a :class:`Source`: the one place that knows every kind of source."""

from __future__ import annotations

from emgscope.core.settings import SourceSettings
from emgscope.core.source import Source


def make_source(settings: SourceSettings) -> Source:
    """The source ``settings`` describe (not yet opened: the pump opens it on its own thread)."""
    if settings.kind == "sim":
        from emgscope.acquisition.simulator import SimulatedSource

        return SimulatedSource(settings.simulator)
    if settings.kind == "brainflow":
        from emgscope.acquisition.brainflow_source import BrainFlowSource

        return BrainFlowSource(settings.brainflow)
    if settings.kind == "replay":
        from emgscope.replay.source import ReplaySource

        replay = settings.replay
        return ReplaySource(
            replay.file, brainflow_board=replay.board or None, speed=replay.speed, start_s=replay.start_s
        )
    if settings.kind == "lsl":
        from emgscope.acquisition.lsl_source import LslSource

        return LslSource(settings.lsl)
    raise ValueError(f"unknown source kind {settings.kind!r}")
