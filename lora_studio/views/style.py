"""View: the shared look — the 4 px spacing scale, page headers (title, one line, primary
action) and the highlighted primary button — so every page is built the same way."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from lora_studio.views.icons import set_themed_style

SPACE = 4  # every margin and gap is a multiple of this
PAGE_MARGINS = (4 * SPACE, 3 * SPACE, 4 * SPACE, 2 * SPACE)


def make_primary(button: QPushButton) -> QPushButton:
    """The page's one highlighted action, in the palette's highlight colour (both themes)."""
    button.setProperty("primary", True)
    set_themed_style(
        button,
        "QPushButton { background: palette(highlight); color: palette(highlighted-text);"
        " border: none; border-radius: 4px; padding: 6px 16px; font-weight: 600; }"
        "QPushButton:disabled { background: palette(mid); color: palette(window); }",
    )
    return button


def page_header(title: str, line: str, parent: QWidget) -> tuple[QVBoxLayout, QHBoxLayout]:
    """A page title with one line under it; returns (the header layout, the row on the right of
    the title where the page puts its actions, primary first)."""
    header = QVBoxLayout()
    header.setSpacing(SPACE)
    top = QHBoxLayout()
    top.setSpacing(2 * SPACE)
    heading = QLabel(title, parent)
    heading.setObjectName("PageTitle")
    font = heading.font()
    font.setPointSizeF(font.pointSizeF() * 1.5)
    font.setBold(True)
    heading.setFont(font)
    top.addWidget(heading)
    top.addStretch(1)
    actions = QHBoxLayout()
    actions.setSpacing(2 * SPACE)
    top.addLayout(actions)
    header.addLayout(top)
    subtitle = QLabel(line, parent)
    subtitle.setObjectName("PageLine")
    subtitle.setWordWrap(True)
    header.addWidget(subtitle)
    return header, actions
