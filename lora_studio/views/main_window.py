"""View: the main window — a sidebar of pages, a status line for notices, remembered geometry.

The window builds no services: app.py hands it ready pages and the message bridge. Closing it emits
`close_requested` and lets app.py shut down in order (cancel tasks, close clients).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSettings, QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

from lora_studio import APP_NAME
from lora_studio.viewmodels.message_bridge import MessageBridge
from lora_studio.views import icons as themed
from lora_studio.views.icons import set_themed_style


@dataclass
class PageSpec:
    key: str
    title: str
    widget: QWidget
    tooltip: str = ""


class MainWindow(QMainWindow):
    close_requested = Signal()

    def __init__(
        self,
        pages: list[PageSpec],
        bridge: MessageBridge,
        window_state: QSettings,
        icon: QIcon | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(APP_NAME)
        if icon is not None:
            self.setWindowIcon(icon)
        self._state = window_state
        self.pages = pages

        central = QWidget(self)
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.sidebar = QListWidget(central)
        self.sidebar.setObjectName("Sidebar")
        self.sidebar.setFixedWidth(150)
        self.sidebar.setIconSize(QSize(20, 20))
        # Themed: palette(...) is resolved when the sheet is applied, so a theme switch
        # re-applies it (views/icons.refresh_themed) and the sidebar follows dark and light.
        set_themed_style(
            self.sidebar,
            "#Sidebar { border: none; outline: 0; font-size: 11pt;"
            " background: palette(base); color: palette(text); }"
            "#Sidebar::item { padding: 10px 14px; border-radius: 4px; margin: 2px 4px; }"
            "#Sidebar::item:selected { background: palette(highlight);"
            " color: palette(highlighted-text); }",
        )
        self.stack = QStackedWidget(central)
        for index, page in enumerate(pages):
            item = QListWidgetItem(page.title, self.sidebar)
            item.setIcon(themed.icon(f"page.{page.key}"))
            item.setToolTip(page.tooltip or page.title)
            item.setData(Qt.ItemDataRole.UserRole, page.key)
            self.stack.addWidget(page.widget)
            # Ctrl+1 … Ctrl+9 jump to a page.
            if index < 9:
                shortcut = QShortcut(QKeySequence(f"Ctrl+{index + 1}"), self)
                shortcut.activated.connect(lambda i=index: self.sidebar.setCurrentRow(i))
        self.sidebar.currentRowChanged.connect(self.stack.setCurrentIndex)
        quit_shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Quit), self)
        quit_shortcut.activated.connect(self.close)
        if quit_shortcut.key().isEmpty():  # some platforms define no standard Quit key
            quit_shortcut.setKey(QKeySequence("Ctrl+Q"))
        layout.addWidget(self.sidebar)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.statusBar().showMessage("Ready")
        bridge.notice_posted.connect(self._on_bridge_notice_posted)

        self.resize(1200, 800)
        self._restore_state()

    def refresh_icons(self) -> None:
        """Recolour the sidebar's icons for the current theme."""
        for row, page in enumerate(self.pages):
            item = self.sidebar.item(row)
            if item is not None:
                item.setIcon(themed.icon(f"page.{page.key}"))

    def page_keys(self) -> list[str]:
        return [page.key for page in self.pages]

    def show_page(self, key: str) -> None:
        self.sidebar.setCurrentRow(self.page_keys().index(key))

    def current_page_key(self) -> str:
        return self.pages[self.stack.currentIndex()].key

    def _restore_state(self) -> None:
        geometry = self._state.value("main_window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        page = self._state.value("main_window/page", "")
        keys = self.page_keys()
        self.sidebar.setCurrentRow(keys.index(page) if page in keys else 0)

    def save_state(self) -> None:
        self._state.setValue("main_window/geometry", self.saveGeometry())
        self._state.setValue("main_window/page", self.current_page_key())
        self._state.sync()

    def _on_bridge_notice_posted(self, level: str, text: str) -> None:
        prefix = {"warning": "⚠ ", "error": "✖ "}.get(level, "")
        self.statusBar().showMessage(prefix + text, 0 if level == "error" else 10_000)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        self.close_requested.emit()
        event.accept()
