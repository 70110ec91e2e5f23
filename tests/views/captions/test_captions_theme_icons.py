"""A theme switch recolours the Captions page's navigation icons (Previous, Next, Next without
caption, Undo, Redo): they are actions, which `refresh_themed` does not reach by itself, and stayed
in the light palette's dark grey on the dark theme (seen in the dark screenshots)."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import QApplication

from lora_studio.views.theme import apply_theme


def _ink(icon: QIcon) -> int:
    """Mean lightness of the glyph's drawn pixels."""
    image = icon.pixmap(QSize(24, 24)).toImage()
    drawn = [
        QColor.fromRgba(image.pixel(x, y)).lightness()
        for x in range(image.width())
        for y in range(image.height())
        if QColor.fromRgba(image.pixel(x, y)).alpha() > 200
    ]
    assert drawn, "the icon draws nothing"
    return sum(drawn) // len(drawn)


def test_dark_theme_recolours_the_navigation_icons(qtbot, caption_dataset, pages) -> None:  # type: ignore[no-untyped-def]
    app = QApplication.instance()
    original_palette, original_style = app.palette(), app.style().name()
    try:
        apply_theme(app, "light")
        page = pages(caption_dataset(count=2)).captions_page
        buttons = (
            page.previous_button,
            page.next_button,
            page.uncaptioned_button,
            page.undo_button,
            page.redo_button,
        )
        light = [_ink(button.icon()) for button in buttons]
        assert all(value < 110 for value in light), light  # dark glyphs on a light page
        apply_theme(app, "dark")
        dark = [_ink(button.icon()) for button in buttons]
        assert all(value > 150 for value in dark), dark  # light glyphs on a dark page
    finally:
        app.setStyle(original_style)
        app.setPalette(original_palette)


def test_dark_theme_restyles_the_tag_chips(qtbot, caption_dataset, pages) -> None:  # type: ignore[no-untyped-def]
    """The chips' background is `palette(alternate-base)` in a style sheet, which Qt resolves once:
    chips made in the light theme stayed light on the dark one."""
    app = QApplication.instance()
    original_palette, original_style = app.palette(), app.style().name()
    try:
        apply_theme(app, "light")
        built = pages(caption_dataset(count=2))
        built.captions_vm.select(str(built.dataset_vm.root / "img_000.jpg"))
        chips = built.captions_page.editor.chips
        qtbot.waitUntil(lambda: len(chips.chips) == 4, timeout=5000)

        def chip_lightness() -> int:
            chip = chips.chips[1]
            image = chip.grab().toImage()
            return QColor(image.pixel(image.width() // 2, 2)).lightness()

        assert chip_lightness() > 180, chip_lightness()
        apply_theme(app, "dark")
        assert chip_lightness() < 100, chip_lightness()
    finally:
        app.setStyle(original_style)
        app.setPalette(original_palette)
