"""The dark theme reaches the sidebar too (its style sheet follows a theme switch), every page
has an icon in the sidebar, and the page's primary button is recoloured with the theme."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QLabel, QPushButton

from lora_studio.viewmodels.message_bridge import MessageBridge
from lora_studio.views.main_window import MainWindow, PageSpec
from lora_studio.views.style import make_primary
from lora_studio.views.theme import apply_theme


def _lightness(window: MainWindow) -> int:
    image = window.sidebar.grab().toImage()
    return QColor(image.pixel(image.width() // 2, image.height() - 20)).lightness()


def test_sidebar_and_primary_button_follow_the_theme(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = QApplication.instance()
    original_palette, original_style = app.palette(), app.style().name()
    try:
        pages = [
            PageSpec(key, key.title(), QLabel(key)) for key in ("dataset", "presets", "settings")
        ]
        state = QSettings(str(tmp_path / "state.ini"), QSettings.Format.IniFormat)
        window = MainWindow(pages, MessageBridge(), state)
        qtbot.addWidget(window)
        button = make_primary(QPushButton("Go", pages[0].widget))
        window.show()
        apply_theme(app, "light")
        assert _lightness(window) > 200
        light_button = button.grab().toImage().pixel(5, 5)
        apply_theme(app, "dark")
        assert _lightness(window) < 60  # not a white sidebar in the dark theme
        assert button.grab().toImage().pixel(5, 5) != light_button  # highlight of the theme
        for row in range(window.sidebar.count()):
            assert not window.sidebar.item(row).icon().isNull()
    finally:
        app.setStyle(original_style)
        app.setPalette(original_palette)


def test_a_page_without_a_glyph_gets_a_neutral_icon(qtbot) -> None:  # type: ignore[no-untyped-def]
    from lora_studio.views.icons import icon

    assert not icon("page.something-new").isNull()
