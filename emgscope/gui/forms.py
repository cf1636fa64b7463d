"""Loading Qt Designer forms from ``ui/`` onto the widgets that own their behaviour.

Layouts live in ``.ui`` files so they can be edited in Designer without touching Python; each dialog or window
class calls :func:`load_form` in its constructor, after which the form's named children are attributes of the
widget. Where the files are (checkout, wheel, bundle) is :mod:`emgscope.core.paths`' business alone.
"""

from __future__ import annotations

from PyQt6 import uic
from PyQt6.QtWidgets import QWidget

from emgscope.core.paths import ui_file


def load_form(name: str, widget: QWidget) -> None:
    """Build the form ``ui/<name>`` into ``widget`` (its top-level class must match the widget's base class)."""
    uic.loadUi(str(ui_file(name)), widget)
