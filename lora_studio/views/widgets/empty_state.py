"""View: an empty state — a large icon, a title, one line, and the next action as buttons (the
first one highlighted), so an empty page always offers a way forward (docs/architecture.md §6.3).

While something runs that the buttons would collide with (an import, the doctor's fixes…), the
page calls `set_actions_enabled(False, reason)`: the buttons are disabled and the reason is shown
under them, until it finishes or is cancelled."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from lora_studio.views.icons import icon, set_icon
from lora_studio.views.style import make_primary


class EmptyState(QWidget):
    """Title, text and buttons; `set_content` swaps them (an empty dataset vs. none open)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("EmptyState")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 24, 24, 24)
        layout.setSpacing(8)
        self.picture = QLabel(self)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel(self)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.title.setFont(font)
        self.text = QLabel(self)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setWordWrap(True)
        self._buttons_row = QHBoxLayout()
        self._buttons_row.setSpacing(8)
        self.buttons: list[QPushButton] = []
        self._icon_name = ""
        self._enabled = True
        self._reason = ""
        self.note = QLabel(self)
        self.note.setObjectName("EmptyStateNote")
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setWordWrap(True)
        self.note.setEnabled(False)  # muted: it explains the disabled buttons
        self.note.hide()
        layout.addWidget(self.picture)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        layout.addSpacing(4)
        layout.addLayout(self._buttons_row)
        layout.addWidget(self.note)

    def set_content(
        self,
        icon_name: str,
        title: str,
        text: str,
        actions: list[tuple[str, str, Callable[[], object]]],
    ) -> None:
        """`actions`: (label, icon name, slot); the first is the primary action."""
        self._icon_name = icon_name
        self.refresh_icons()
        self.title.setText(title)
        self.text.setText(text)
        for button in self.buttons:
            button.deleteLater()
        self.buttons = []
        while self._buttons_row.count():
            self._buttons_row.takeAt(0)
        self._buttons_row.addStretch(1)
        for number, (label, icon_name_, slot) in enumerate(actions):
            button = QPushButton(label, self)
            set_icon(button, icon_name_, primary=number == 0)  # recoloured with the theme
            if number == 0:
                make_primary(button)
                button.setDefault(True)
            button.clicked.connect(slot)
            self._buttons_row.addWidget(button)
            self.buttons.append(button)
        self._buttons_row.addStretch(1)
        self._apply_enabled()
        self.adjustSize()

    def refresh_icons(self) -> None:
        """Draw the picture again in the palette's colours (called on a theme switch)."""
        if self._icon_name:
            self.picture.setPixmap(icon(self._icon_name).pixmap(QSize(48, 48)))

    def set_actions_enabled(self, enabled: bool, reason: str = "") -> None:
        """Enable the buttons, or disable them and say why (`reason`, one sentence)."""
        self._enabled, self._reason = enabled, reason
        self._apply_enabled()
        self.adjustSize()

    def _apply_enabled(self) -> None:
        for button in self.buttons:
            button.setEnabled(self._enabled)
            button.setToolTip("" if self._enabled else self._reason)
        self.note.setText("" if self._enabled else self._reason)
        self.note.setVisible(not self._enabled and bool(self._reason))
