"""The last few recordings opened, newest first, so a session is one click away.

Kept as a small JSON list in the config folder, apart from the settings (it changes on every open and is not a
setting). A damaged or missing file is an empty list: losing the list must never stop the app.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from emgscope.core.settings import config_dir

MAX_RECENT = 10


def recent_path() -> Path:
    return config_dir() / "recent.json"


def load_recent(existing_only: bool = True) -> list[Path]:
    """The recent recordings, newest first; those since deleted or moved are left out when ``existing_only``."""
    try:
        data = json.loads(recent_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(data, list):
        return []
    paths = [Path(p) for p in data if isinstance(p, str)]
    return [p for p in paths if p.exists()] if existing_only else paths


def add_recent(path: str | Path) -> list[Path]:
    """Put ``path`` first (once), keep at most :data:`MAX_RECENT`, save, and return the new list."""
    path = Path(path).resolve()
    paths = [path] + [p for p in load_recent(existing_only=False) if p != path]
    paths = paths[:MAX_RECENT]
    target = recent_path()
    with contextlib.suppress(OSError):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps([str(p) for p in paths], indent=1), encoding="utf-8")
        tmp.replace(target)
    return paths
