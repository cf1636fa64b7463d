"""The app's one dark theme: Qt's Fusion style, a dark palette, tinted glyph icons and ``ui/style.qss``.

A style sheet alone leaves every widget it does not name in the platform's light palette (a notes box, a date
field, the file dialog's list and its calendar), so the palette carries the theme's colours and the style sheet
refers to them by role (``palette(base)``) and adds the states a palette cannot say (a checked radio button, the
mute and recording states). Fusion is chosen on every desktop so a desktop style does not mix its own look in.

Qt's own file dialog is used everywhere (``AA_DontUseNativeDialogs``): a desktop's native dialog would open in the
desktop's (often light) theme. Its toolbar icons are dark glyphs drawn for light backgrounds; :class:`ThemeStyle`
repaints those glyphs in the text colour.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QDir, Qt
from PyQt6.QtGui import QColor, QIcon, QImage, QPalette, QPixmap
from PyQt6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleOption, QWidget

from emgscope.core.paths import ui_file

WINDOW = "#12181d"
"""Dialogs and the main window."""
PANEL = "#182027"
"""Menus, toolbars, the status bar, table headers."""
BASE = "#0c1115"
"""Where text is typed or listed: fields, lists, tables."""
ALTERNATE_BASE = "#141b21"
BUTTON = "#22303a"
TEXT = "#d6e0e6"
BRIGHT_TEXT = "#ffffff"
DISABLED_TEXT = "#66757f"
"""About 4:1 against the window colour: readable, yet plainly not the 13:1 of enabled text."""
HIGHLIGHT = "#2b6a4a"
LINK = "#8cc8ff"
PLACEHOLDER = "#7d8c96"
TOOLTIP = "#26343e"

GLYPH_ICONS = (
    QStyle.StandardPixmap.SP_ArrowBack,
    QStyle.StandardPixmap.SP_ArrowForward,
    QStyle.StandardPixmap.SP_ArrowUp,
    QStyle.StandardPixmap.SP_ArrowDown,
    QStyle.StandardPixmap.SP_ArrowLeft,
    QStyle.StandardPixmap.SP_ArrowRight,
    QStyle.StandardPixmap.SP_FileDialogToParent,
    QStyle.StandardPixmap.SP_FileDialogListView,
    QStyle.StandardPixmap.SP_FileDialogDetailedView,
    QStyle.StandardPixmap.SP_FileDialogContentsView,
    QStyle.StandardPixmap.SP_FileDialogInfoView,
    QStyle.StandardPixmap.SP_ToolBarHorizontalExtensionButton,
    QStyle.StandardPixmap.SP_ToolBarVerticalExtensionButton,
)
"""Fusion's one-colour glyphs (dark grey, for light backgrounds): repainted in the theme's text colour. They
include the toolbar's extension button (»), which opens the controls a narrow window has no room for."""


def palette() -> QPalette:
    """The theme's colours by role, for every widget the style sheet does not name."""
    pal = QPalette()
    roles = QPalette.ColorRole
    colours = {
        roles.Window: WINDOW,
        roles.WindowText: TEXT,
        roles.Base: BASE,
        roles.AlternateBase: ALTERNATE_BASE,
        roles.Text: TEXT,
        roles.Button: BUTTON,
        roles.ButtonText: TEXT,
        roles.BrightText: BRIGHT_TEXT,
        roles.Highlight: HIGHLIGHT,
        roles.HighlightedText: BRIGHT_TEXT,
        roles.Link: LINK,
        roles.LinkVisited: LINK,
        roles.PlaceholderText: PLACEHOLDER,
        roles.ToolTipBase: TOOLTIP,
        roles.ToolTipText: TEXT,
        roles.Light: "#3a4b57",
        roles.Midlight: "#2c3b46",
        roles.Mid: "#1c262e",
        roles.Dark: "#0a0e12",
        roles.Shadow: "#000000",
    }
    for role, colour in colours.items():
        pal.setColor(role, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.WindowText, roles.Text, roles.ButtonText, roles.PlaceholderText):
        pal.setColor(disabled, role, QColor(DISABLED_TEXT))
    pal.setColor(disabled, roles.Base, QColor(WINDOW))
    pal.setColor(disabled, roles.Button, QColor(WINDOW))
    pal.setColor(disabled, roles.Highlight, QColor("#2a3640"))
    return pal


def tinted(icon: QIcon, colour: QColor) -> QIcon:
    """``icon``'s dark shapes in ``colour``, at every size it comes in; its light parts become transparent.

    Fusion draws some glyphs on an opaque light square, so the alpha alone would tint the square too: each
    pixel's coverage is its opacity times its darkness, relative to the icon's darkest pixel (a mid-grey glyph
    becomes fully opaque).
    """
    result = QIcon()
    for size in icon.availableSizes():
        image = icon.pixmap(size).toImage().convertToFormat(QImage.Format.Format_ARGB32)
        height, width = image.height(), image.width()
        bits = image.constBits()
        bits.setsize(height * image.bytesPerLine())
        argb = np.frombuffer(bits, np.uint32).reshape(height, image.bytesPerLine() // 4)[:, :width]
        alpha = (argb >> 24) & 0xFF
        darkness = 255.0 - (((argb >> 16) & 0xFF) + ((argb >> 8) & 0xFF) + (argb & 0xFF)) / 3
        darkest = max(1.0, float(darkness[alpha > 0].max(initial=0.0)))
        coverage = (alpha * np.minimum(darkness / darkest, 1.0)).round().astype(np.uint32)
        shaped = (coverage << 24) | np.uint32(colour.rgb() & 0xFFFFFF)
        out = QImage(shaped.tobytes(), width, height, 4 * width, QImage.Format.Format_ARGB32)
        result.addPixmap(QPixmap.fromImage(out.copy()))
    return result


class ThemeStyle(QProxyStyle):
    """Fusion, with its dark glyph icons (the file dialog's back, up, list and detail buttons) in the text colour."""

    def __init__(self) -> None:
        super().__init__("Fusion")
        self._icons: dict[QStyle.StandardPixmap, QIcon] = {}

    def standardIcon(  # noqa: N802 (Qt's name)
        self, standard: QStyle.StandardPixmap, option: QStyleOption | None = None, widget: QWidget | None = None
    ) -> QIcon:
        if standard not in GLYPH_ICONS:
            return super().standardIcon(standard, option, widget)
        if standard not in self._icons:
            self._icons[standard] = tinted(super().standardIcon(standard, option, widget), QColor(TEXT))
        return self._icons[standard]


def set_style_state(widget: QWidget, name: str, value: object) -> None:
    """Set the dynamic property ``name`` that the style sheet selects on (``[recording="true"]``) and restyle
    ``widget`` now: Qt applies a sheet's property selectors only when a widget is polished."""
    widget.setProperty(name, value)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def apply_theme(app: QApplication) -> None:
    """Give ``app`` the theme: Qt's own dialogs, Fusion with the tinted glyphs, the palette, the style sheet (and
    the ``theme:`` search path its images are found by)."""
    app.setAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs, True)
    app.setStyle(ThemeStyle())
    app.setPalette(palette())
    QDir.addSearchPath("theme", str(ui_file("theme")))
    app.setStyleSheet(ui_file("style.qss").read_text(encoding="utf-8"))
