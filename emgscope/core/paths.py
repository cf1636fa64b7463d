"""Where the app's shipped files (``ui/`` forms, ``resources/``) are, wherever it runs from.

In a source checkout they sit beside the package; in an installed wheel they are installed inside the package
as ``emgscope/_data/ui`` and ``emgscope/_data/resources``; in a PyInstaller bundle they are under
``sys._MEIPASS``. This module is the only place that knows; everything else asks it.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


@cache
def _data_root() -> Path:
    frozen_root = getattr(sys, "_MEIPASS", None)
    candidates = []
    if frozen_root:
        candidates.append(Path(frozen_root))
    candidates += [_PACKAGE_DIR / "_data", _PACKAGE_DIR.parent]
    for root in candidates:
        if (root / "ui").is_dir() and (root / "resources").is_dir():
            return root
    raise FileNotFoundError(f"emgscope's ui/ and resources/ folders were not found (looked in {candidates})")


def ui_file(name: str) -> Path:
    """A Qt Designer form or style sheet in ``ui/``."""
    return _data_root() / "ui" / name


def resource(*parts: str) -> Path:
    """A shipped data file in ``resources/``."""
    return _data_root().joinpath("resources", *parts)
