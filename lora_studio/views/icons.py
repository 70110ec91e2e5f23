"""View: icons from one library (qtawesome's Material Design Icons, shipped in its wheel — nothing
is downloaded), coloured from the application palette so they follow the light and dark themes.

`icon("page.dataset")` names what the icon is for, not its glyph, so a page and its buttons agree
and the glyph can change in one place. The app icon stays our own (resources/icons).
"""

from __future__ import annotations

from typing import Any

import qtawesome
from PySide6.QtGui import QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QWidget

FALLBACK_GLYPH = "mdi6.circle-medium"
GLYPHS = {
    "page.dataset": "mdi6.image-multiple-outline",
    "page.captions": "mdi6.tag-text-outline",
    "page.presets": "mdi6.tune-variant",
    "page.train": "mdi6.school-outline",
    "page.jobs": "mdi6.progress-clock",
    "page.settings": "mdi6.cog-outline",
    "dataset.new": "mdi6.folder-plus-outline",
    "dataset.open": "mdi6.folder-open-outline",
    "dataset.import": "mdi6.tray-arrow-down",
    "dataset.delete": "mdi6.delete-outline",
    "dataset.undo": "mdi6.undo",
    "dataset.doctor": "mdi6.stethoscope",
    "dataset.stats": "mdi6.chart-bar",
    "dataset.details": "mdi6.information-outline",
    "train.start": "mdi6.rocket-launch-outline",
    "preset.checks": "mdi6.format-list-checks",
}


def icon(name: str, *, primary: bool = False) -> QIcon:
    """The icon for `name` (a GLYPHS key, or a qtawesome glyph name), in the palette's text
    colour — or in highlighted-text colour for the page's one highlighted (primary) button."""
    palette = QGuiApplication.palette()
    role = QPalette.ColorRole.HighlightedText if primary else QPalette.ColorRole.ButtonText
    colour = palette.color(role)
    disabled = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText)
    options = {
        "color": colour,
        "color_disabled": disabled,
        "color_active": colour,
        "color_selected": palette.color(QPalette.ColorRole.HighlightedText),
    }
    try:
        return qtawesome.icon(GLYPHS.get(name, name), **options)
    except Exception:  # a page or action without a glyph of its own gets a neutral one
        return qtawesome.icon(FALLBACK_GLYPH, **options)


def set_icon(widget: Any, name: str, *, primary: bool = False) -> None:
    """Give a button, action or tab-less widget its icon and remember which one, so a theme
    switch can recolour it (`refresh_themed`)."""
    widget.setIcon(icon(name, primary=primary))
    widget.setProperty("icon_name", name)
    widget.setProperty("icon_primary", primary)


def set_themed_style(widget: QWidget, style: str) -> None:
    """A style sheet that uses palette(...) colours; Qt resolves those once, so it is kept and
    re-applied when the theme changes."""
    widget.setProperty("themed_style", style)
    widget.setStyleSheet(style)


def refresh_themed(app: QApplication) -> None:
    """After a palette change: re-resolve themed style sheets and recolour remembered icons."""
    for widget in app.allWidgets():
        style = widget.property("themed_style")
        if isinstance(style, str):
            widget.setStyleSheet("")
            widget.setStyleSheet(style)
        refresh = getattr(widget, "refresh_icons", None)
        if callable(refresh):  # item views whose items carry icons (the sidebar)
            refresh()
        name = widget.property("icon_name")
        if isinstance(name, str) and hasattr(widget, "setIcon"):
            widget.setIcon(icon(name, primary=bool(widget.property("icon_primary"))))
