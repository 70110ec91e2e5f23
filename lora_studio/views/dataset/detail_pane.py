"""View: the detail pane — a large preview with the trainer's crop drawn over it, the bucket, and
the file facts, bound to a DetailViewModel.

The crop arrives as fractions of the picture, so the overlay is exact at any preview size: the
part the trainer throws away is dimmed and the kept box is outlined.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from lora_studio.viewmodels.dataset.detail_vm import DetailViewModel
from lora_studio.views.captions.caption_editor import CaptionEditorWidget


class PreviewWidget(QWidget):
    """Paints a picture scaled to fit, with a crop overlay."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap = QPixmap()
        self._crop = QRectF()
        self._message = "Select a picture to see it here."
        self.setMinimumSize(220, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(360, 320)

    def set_image(self, image: QImage) -> None:
        self._pixmap = QPixmap.fromImage(image) if not image.isNull() else QPixmap()
        self.update()

    def set_crop(self, crop: QRectF) -> None:
        self._crop = QRectF(crop)
        self.update()

    def set_message(self, text: str) -> None:
        self._message = text
        self.update()

    def has_image(self) -> bool:
        return not self._pixmap.isNull()

    def image_rect(self) -> QRectF:
        """Where the picture is drawn (letterboxed in the widget)."""
        if self._pixmap.isNull():
            return QRectF()
        size = self._pixmap.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        rect = QRectF(0, 0, size.width(), size.height())
        rect.moveCenter(QRectF(self.rect()).center())
        return rect

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self._pixmap.isNull():
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._message
            )
            return
        target = self.image_rect()
        painter.drawPixmap(target, self._pixmap, QRectF(self._pixmap.rect()))
        if self._crop.isValid() and not self._crop.isEmpty():
            kept = QRectF(
                target.left() + self._crop.left() * target.width(),
                target.top() + self._crop.top() * target.height(),
                self._crop.width() * target.width(),
                self._crop.height() * target.height(),
            )
            dim = QColor(0, 0, 0, 120)
            # Dim the four bands outside the kept box.
            painter.fillRect(
                QRectF(target.left(), target.top(), target.width(), kept.top() - target.top()), dim
            )
            painter.fillRect(
                QRectF(
                    target.left(), kept.bottom(), target.width(), target.bottom() - kept.bottom()
                ),
                dim,
            )
            painter.fillRect(
                QRectF(target.left(), kept.top(), kept.left() - target.left(), kept.height()), dim
            )
            painter.fillRect(
                QRectF(kept.right(), kept.top(), target.right() - kept.right(), kept.height()), dim
            )
            painter.setPen(QPen(QColor("#ffd54f"), 2, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(kept.adjusted(1, 1, -1, -1))
        painter.end()


class DetailPane(QWidget):
    """Preview, bucket line and facts of the current picture."""

    def __init__(self, view_model: DetailViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = view_model
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        self.title = QLabel(self)
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.title)
        self.preview = PreviewWidget(self)
        layout.addWidget(self.preview, 1)
        self.bucket = QLabel(self)
        self.bucket.setWordWrap(True)
        self.bucket.setToolTip(
            "The aspect-ratio bucket this picture trains in; the dashed box is the part the "
            "trainer keeps after scaling, the dimmed part is cropped away."
        )
        layout.addWidget(self.bucket)
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.error.hide()
        layout.addWidget(self.error)
        # The caption of this picture, edited with the Captions page's own editor view-model.
        self.caption: CaptionEditorWidget | None = None
        if view_model.caption_editor is not None:
            self.caption = CaptionEditorWidget(view_model.caption_editor, compact=True, parent=self)
            layout.addWidget(self.caption)
        frame = QFrame(self)
        frame.setFrameShape(QFrame.Shape.NoFrame)
        self.facts = QFormLayout(frame)
        self.facts.setContentsMargins(0, 4, 0, 0)
        self.facts.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        layout.addWidget(frame)
        self._bind()

    def _bind(self) -> None:
        vm = self._vm
        vm.title_changed.connect(self.title.setText)
        vm.preview_changed.connect(self.preview.set_image)
        vm.crop_changed.connect(self.preview.set_crop)
        vm.bucket_text_changed.connect(self.bucket.setText)
        vm.facts_changed.connect(self._show_facts)
        vm.loading_changed.connect(self._on_vm_loading_changed)
        vm.error_changed.connect(self._on_vm_error_changed)
        self.title.setText(vm.title)
        self.preview.set_image(vm.preview)
        self.preview.set_crop(vm.crop)
        self.bucket.setText(vm.bucket_text)
        self._show_facts(vm.facts)

    def _show_facts(self, facts: list[tuple[str, str]]) -> None:
        while self.facts.rowCount():
            self.facts.removeRow(0)
        for label, value in facts:
            text = QLabel(value)
            text.setWordWrap(True)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.facts.addRow(f"{label}:", text)

    def _on_vm_loading_changed(self, loading: bool) -> None:
        if loading and not self.preview.has_image():
            self.preview.set_message("Loading preview…")

    def _on_vm_error_changed(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))
