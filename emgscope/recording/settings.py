"""The recording settings group (sessions folder, file format), kept free of imports so the core settings can
include it without an import cycle."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FORMATS = ("bdf", "edf")


@dataclass
class RecordingSettings:
    """Where sessions go and in which format; persisted with the app's settings."""

    sessions_folder: str = ""
    """Empty means ``~/emgscope-sessions``."""
    format: str = "bdf"
    """``bdf`` (BDF+, 24-bit, the default) or ``edf`` (EDF+, 16-bit)."""

    def folder(self) -> Path:
        return Path(self.sessions_folder).expanduser() if self.sessions_folder else Path.home() / "emgscope-sessions"
