"""A pytest plugin: the app's theme on the test run's one QApplication for one test (``themed``), taken off again
afterwards so the other tests see Qt as it comes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QPalette
from PyQt6.QtWidgets import QApplication

from emgscope.gui.theme import apply_theme


@pytest.fixture
def themed(qapp: QApplication) -> Iterator[QApplication]:
    """The application with :func:`~emgscope.gui.theme.apply_theme` applied, as ``emgscope`` runs it."""
    style, palette = qapp.style().name(), QPalette(qapp.palette())
    apply_theme(qapp)
    yield qapp
    qapp.setStyleSheet("")
    qapp.setStyle(style)
    qapp.setPalette(palette)
    qapp.setAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs, False)
