"""View: a page that says what will live there until its feature lands."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class PlaceholderPage(QWidget):
    def __init__(self, title: str, description: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 28, 32, 28)
        heading = QLabel(title, self)
        font = heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        heading.setFont(font)
        layout.addWidget(heading)
        body = QLabel(description, self)
        body.setWordWrap(True)
        body.setTextFormat(Qt.TextFormat.PlainText)
        body.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(body)
        layout.addStretch(1)


PLACEHOLDER_TEXT = {
    "dataset": (
        "Dataset",
        "Drag images, folders or zip archives here to build your training set. You will see a "
        "thumbnail grid with badges for missing captions, small or unreadable images and "
        "near-duplicates, a detail pane with the crop the trainer will make, statistics, and the "
        "dataset doctor that finds and fixes problems before you train.",
    ),
    "captions": (
        "Captions",
        "Edit each image's caption beside a large preview, as free text or tag chips, with autosave "
        "and undo that survives a restart. Batch tools add a trigger word, find and replace, rename "
        "tags everywhere, and auto-caption with a template, Ollama, or an OpenAI-compatible server.",
    ),
    "presets": (
        "Presets",
        "Pick a starting point — SDXL, SD 1.5, Fast, High quality or Flux dev — and adjust rank, "
        "learning rate, epochs, resolution and more, each with a one-line explanation. Save your own "
        "presets and see the number of steps, the VRAM needed and the time it will take.",
    ),
    "train": (
        "Train",
        "A wizard that walks from the dataset through a captions check, the preset and a backend "
        "(ComfyUI, Replicate or kohya sd-scripts) to a review of steps, VRAM, time and cost before "
        "the training starts.",
    ),
    "jobs": (
        "Jobs",
        "Every training of every backend in one list: live progress, ETA, a loss chart, searchable "
        "logs, cancel, intermediate checkpoints, and the finished .safetensors file with its "
        "metadata, ready to open or train again with tweaks.",
    ),
}
