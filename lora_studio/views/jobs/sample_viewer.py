"""View: a job's samples one at a time, as large as the window allows — ←/→ the prompts, ↑/↓ the
checkpoints, Esc closes; the prompt can be copied and the file opened in the system viewer."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QUrl
from PySide6.QtGui import (
    QDesktopServices,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from lora_studio.viewmodels.sample_viewer_vm import SampleViewerViewModel
from lora_studio.views.icons import icon

KEYS_HINT = "← → prompts · ↑ ↓ checkpoints · Esc closes"
_MOVES = {
    Qt.Key.Key_Left: (0, -1),
    Qt.Key.Key_Right: (0, 1),
    Qt.Key.Key_Up: (-1, 0),
    Qt.Key.Key_Down: (1, 0),
}


class SampleViewer(QDialog):
    def __init__(self, view_model: SampleViewerViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = view_model
        view_model.setParent(self)  # it lives as long as this window
        self._pixmap = QPixmap()
        self.setWindowTitle("Sample")
        self.resize(900, 760)
        layout = QVBoxLayout(self)
        self.title_label = QLabel(self)
        font = self.title_label.font()
        font.setBold(True)
        self.title_label.setFont(font)
        layout.addWidget(self.title_label)
        self.prompt_label = QLabel(self)
        self.prompt_label.setWordWrap(True)
        self.prompt_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.prompt_label)
        self.image_label = QLabel(self)
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_label.setMinimumSize(QSize(200, 200))
        self.image_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.image_label.setWordWrap(True)
        layout.addWidget(self.image_label, 1)
        row = QHBoxLayout()
        self.position_label = QLabel(self)
        row.addWidget(self.position_label)
        hint = QLabel(KEYS_HINT, self)
        hint.setEnabled(False)  # drawn quieter: a reminder, not content
        row.addWidget(hint, 1, Qt.AlignmentFlag.AlignCenter)
        self.copy_button = QPushButton(icon("mdi6.content-copy"), "Copy prompt", self)
        self.copy_button.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(self._vm.prompt)
        )
        row.addWidget(self.copy_button)
        self.open_button = QPushButton(icon("mdi6.open-in-new"), "Open file", self)
        self.open_button.setToolTip("Open the image in the system's image viewer")
        self.open_button.clicked.connect(self._on_open_clicked)
        row.addWidget(self.open_button)
        layout.addLayout(row)
        # The arrows belong to the picture, not to whichever button has the focus.
        for button in (self.copy_button, self.open_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        view_model.title_changed.connect(self.title_label.setText)
        view_model.prompt_changed.connect(self.prompt_label.setText)
        view_model.position_changed.connect(self.position_label.setText)
        view_model.message_changed.connect(self._show_message)
        view_model.path_changed.connect(lambda path: self.open_button.setEnabled(bool(path)))
        view_model.image_loaded.connect(self._on_vm_image_loaded)
        self.title_label.setText(view_model.title)
        self.prompt_label.setText(view_model.prompt)
        self.position_label.setText(view_model.position)
        self.open_button.setEnabled(bool(view_model.path))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        move = _MOVES.get(Qt.Key(event.key()))
        if move is None:
            super().keyPressEvent(event)
            return
        self._vm.move(*move)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def done(self, result: int) -> None:
        self._vm.shutdown()
        super().done(result)

    def _on_open_clicked(self) -> None:
        if self._vm.path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(self._vm.path))

    def _show_message(self, text: str) -> None:
        if text:
            self._pixmap = QPixmap()
            self.image_label.setPixmap(QPixmap())
            self.image_label.setText(text)

    def _on_vm_image_loaded(self, image: QImage) -> None:
        self._pixmap = QPixmap.fromImage(image) if not image.isNull() else QPixmap()
        if not self._pixmap.isNull():
            self.image_label.setText("")
        self._fit()

    def _fit(self) -> None:
        """The picture as large as the room allows, never above its own size (no blur)."""
        if self._pixmap.isNull():
            return
        room = self.image_label.size()
        shown = self._pixmap
        if shown.width() > room.width() or shown.height() > room.height():
            shown = shown.scaled(
                room, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
        self.image_label.setPixmap(shown)
