"""View: tag chips — a wrapping row of rounded tags, each with a remove button, and a field to add
a tag with autocomplete from the dataset's own tags.

The chips are rebuilt from the editor view-model's `tags`; clicking × or pressing Enter in the
field forwards the intent (`remove_tag`, `add_tag`) — the view-model changes the caption.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, QRect, QSize, QStringListModel, Qt, Signal
from PySide6.QtWidgets import (
    QCompleter,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QLineEdit,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from lora_studio.views.icons import set_themed_style

CHIP_STYLE = (
    "#TagChip { background: palette(alternate-base); border: 1px solid palette(mid);"
    " border-radius: 11px; }"
    "#TagChip[first='true'] { border: 1px solid palette(highlight); }"
    "#TagChip QToolButton { border: none; padding: 0px; }"
)


class FlowLayout(QLayout):
    """Lays items left to right and wraps them to the next line (Qt's flow layout example)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 4) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # type: ignore[override]
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # type: ignore[override]
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    def _arrange(self, rect: QRect, *, move: bool) -> int:
        x, y, line_height = rect.x(), rect.y(), 0
        for item in self._items:
            hint = item.sizeHint()
            next_x = x + hint.width() + self._spacing
            if next_x - self._spacing > rect.right() and line_height > 0:
                x, y = rect.x(), y + line_height + self._spacing
                next_x = x + hint.width() + self._spacing
                line_height = 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x = next_x
            line_height = max(line_height, hint.height())
        return y + line_height - rect.y()


class TagChip(QFrame):
    """One tag: its text and a × that removes it."""

    remove_clicked = Signal()

    def __init__(self, text: str, first: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TagChip")
        self.setProperty("first", "true" if first else "false")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 1, 2, 1)
        layout.setSpacing(2)
        self.label = QLabel(text, self)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.label)
        self.remove_button = QToolButton(self)
        self.remove_button.setText("×")
        self.remove_button.setToolTip(f"Remove “{text}” from this caption")
        self.remove_button.setAutoRaise(True)
        self.remove_button.clicked.connect(self.remove_clicked)
        layout.addWidget(self.remove_button)
        if first:
            self.setToolTip("The first tag: usually the trigger word")

    def text(self) -> str:
        return self.label.text()


class TagChipsWidget(QWidget):
    """The chips of one caption plus an "add a tag" field with autocomplete."""

    def __init__(
        self,
        remove_tag: Callable[[int], None],
        add_tag: Callable[[str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._remove_tag = remove_tag
        self._add_tag = add_tag
        # Themed: Qt resolves palette(...) once, so the chips are restyled on a theme switch.
        set_themed_style(self, CHIP_STYLE)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.flow = FlowLayout(self)
        self.chips: list[TagChip] = []
        self.add_field = QLineEdit(self)
        self.add_field.setPlaceholderText("Add a tag…")
        self.add_field.setToolTip("Type a tag and press Enter; suggestions come from this dataset")
        self.add_field.setMinimumWidth(140)
        self.add_field.setMaximumWidth(220)
        self.completion_model = QStringListModel(self)
        self.completer = QCompleter(self.completion_model, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.add_field.setCompleter(self.completer)
        self.add_field.returnPressed.connect(self._on_add_field_return_pressed)
        self.flow.addWidget(self.add_field)

    def set_tags(self, tags: list[str]) -> None:
        for chip in self.chips:
            self.flow.removeWidget(chip)
            chip.deleteLater()
        self.flow.removeWidget(self.add_field)
        self.chips = []
        for index, tag in enumerate(tags):
            chip = TagChip(tag, first=index == 0, parent=self)
            chip.remove_clicked.connect(lambda i=index: self._remove_tag(i))
            self.flow.addWidget(chip)
            self.chips.append(chip)
        self.flow.addWidget(self.add_field)
        self.updateGeometry()

    def set_completions(self, tags: list[str]) -> None:
        self.completion_model.setStringList(tags)

    def _on_add_field_return_pressed(self) -> None:
        text = self.add_field.text().strip()
        if text:
            self._add_tag(text)
        self.add_field.clear()
