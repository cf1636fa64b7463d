"""The layering rule (DESIGN §2): only emgscope/gui imports Qt, only emgscope/audio imports sounddevice.

Every other module is imported in a fresh interpreter, which then must not hold PyQt6, pyqtgraph or
sounddevice; so the core, acquisition, recording and analysis run headless, as napari's test proves for its model.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import emgscope

QT_MODULES = ("PyQt6", "pyqtgraph")
AUDIO_MODULES = ("sounddevice",)


def module_names() -> list[str]:
    names = [
        info.name
        for info in pkgutil.walk_packages(emgscope.__path__, "emgscope.")
        if info.name != "emgscope.__main__"  # runs the app when imported
    ]
    return sorted(names)


def imported_after(modules: list[str]) -> set[str]:
    """Top-level package names in ``sys.modules`` of a fresh interpreter after importing ``modules``."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_only_gui_imports_qt_and_only_audio_imports_sounddevice() -> None:
    names = module_names()
    headless = [n for n in names if not n.startswith(("emgscope.gui", "emgscope.audio"))]
    assert "emgscope.core.ring" in headless and "emgscope.acquisition.pump" in headless
    loaded = imported_after(headless)
    assert not loaded & set(QT_MODULES + AUDIO_MODULES)
    audio = [n for n in names if n.startswith("emgscope.audio")]
    if audio:
        assert not imported_after(audio) & set(QT_MODULES)
