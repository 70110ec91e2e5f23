"""A theme switch recolours the Dataset page's icons too (issue 11: "the dark theme applies
everywhere"): the empty state's picture and buttons, the header buttons, the side tabs and the
Delete/Undo actions were drawn once in the light palette's dark grey, nearly invisible on dark."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import QApplication

from lora_studio.views.theme import apply_theme


def _ink(icon: QIcon) -> int:
    """Lightness of the darkest-or-lightest drawn pixel: the glyph's colour."""
    image = icon.pixmap(QSize(24, 24)).toImage()
    values = [
        QColor.fromRgba(image.pixel(x, y))
        for x in range(image.width())
        for y in range(image.height())
    ]
    drawn = [c.lightness() for c in values if c.alpha() > 200]
    assert drawn, "the icon draws nothing"
    return sum(drawn) // len(drawn)


def test_dark_theme_recolours_the_dataset_page_icons(qtbot, page_factory) -> None:  # type: ignore[no-untyped-def]
    app = QApplication.instance()
    original_palette, original_style = app.palette(), app.style().name()
    try:
        apply_theme(app, "light")
        page, _vm = page_factory()
        empty = page.empty_state

        def inks() -> list[int]:
            return [
                _ink(QIcon(empty.picture.pixmap())),
                _ink(empty.buttons[1].icon()),  # "Open folder…"
                _ink(page.open_button.icon()),
                _ink(page.side.tabIcon(0)),
                _ink(page.delete_action.icon()),
            ]

        light = inks()
        assert all(value < 110 for value in light), light  # dark glyphs on a light page
        apply_theme(app, "dark")
        dark = inks()
        assert all(value > 150 for value in dark), dark  # light glyphs on a dark page
    finally:
        app.setStyle(original_style)
        app.setPalette(original_palette)
