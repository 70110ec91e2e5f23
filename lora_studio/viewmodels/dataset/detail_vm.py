"""View-model: the detail pane — a large preview of the current image, its file facts, and the
bucket and crop the trainer will use.

Facts and the bucket come from the scanned header (instant). The preview is decoded off the GUI
thread into a detached QImage; when the artist arrows through the grid faster than previews
decode, only the latest selection is loaded (older requests are skipped, never queued up).
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Executor
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRectF, Signal
from PySide6.QtGui import QImage

from lora_studio.viewmodels.dataset import core_adapter as core
from lora_studio.viewmodels.dataset.rows import BADGE_LABELS, Badge, GridRow
from lora_studio.viewmodels.observable import Observable

if TYPE_CHECKING:
    from lora_studio.viewmodels.captions.editor_vm import CaptionEditorViewModel

_ORIENTATION_TEXT = {
    1: "Upright",
    2: "Mirrored",
    3: "Upside down",
    4: "Mirrored upside down",
    5: "Mirrored, turned",
    6: "Turned 90° clockwise",
    7: "Mirrored, turned",
    8: "Turned 90° counter-clockwise",
}


def decode_preview(path: Path) -> tuple[QImage | None, str | None]:
    """Worker thread: the preview as a detached QImage, or a sentence naming the file."""
    try:
        preview = core.load_preview(path)
    except core.LoraStudioError as exc:
        return None, exc.user_message
    image = QImage.fromData(preview.data)
    if image.isNull():
        return None, f"The preview of {path.name} could not be decoded."
    return image, None


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


def facts_for(row: GridRow) -> list[tuple[str, str]]:
    """(label, value) lines for the facts table."""
    entry = row.entry
    facts = [("File", entry.rel_path)]
    if entry.concept:
        facts.append(("Concept", f"{entry.concept} (× {entry.repeats} repeats)"))
    if entry.ok:
        facts.append(("Size", f"{entry.width} × {entry.height} px"))
        colour = entry.mode or "?"
        if entry.high_bit_depth:
            colour += ", 16-bit"
        if entry.has_transparency:
            colour += ", transparent"
        facts.append(("Format", f"{entry.format or '?'} · {colour}"))
        orientation = _ORIENTATION_TEXT.get(entry.orientation, str(entry.orientation))
        if entry.orientation != 1:
            orientation += " (EXIF tag; shown upright)"
        facts.append(("EXIF orientation", orientation))
    else:
        facts.append(("Problem", entry.error or "Unreadable"))
    facts.append(("File size", human_size(entry.file_size)))
    facts.append(("Modified", time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.mtime))))
    caption = "none" if entry.caption is None else f"{len(row.tags)} tags"
    facts.append(("Caption", caption))
    if row.badges:
        facts.append(("Badges", ", ".join(BADGE_LABELS[b] for b in Badge if b in row.badges)))
    return facts


class DetailViewModel(QObject):
    """State of the detail pane for one image (or none)."""

    path_changed = Signal(str)
    title_changed = Signal(str)
    facts_changed = Signal(list)
    bucket_text_changed = Signal(str)
    crop_changed = Signal(QRectF)  # the kept part, as fractions of the picture (0…1)
    loading_changed = Signal(bool)
    error_changed = Signal(str)
    preview_changed = Signal(QImage)

    path = Observable("")
    title = Observable("")
    facts = Observable([])
    bucket_text = Observable("")
    loading = Observable(False)
    error = Observable("")

    def __init__(self, executor: Executor | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._executor = executor
        self._row: GridRow | None = None
        self._resolution = 1024
        self._crop = QRectF()
        # Not an Observable: comparing two QImages compares every pixel.
        self._preview = QImage()
        self._task: asyncio.Task[None] | None = None
        # The caption editor of the current picture (the Captions page's, shared); app.py sets it.
        self.caption_editor: CaptionEditorViewModel | None = None

    @property
    def preview(self) -> QImage:
        return self._preview

    @property
    def crop(self) -> QRectF:
        return QRectF(self._crop)

    @property
    def row(self) -> GridRow | None:
        return self._row

    @property
    def task(self) -> asyncio.Task[None] | None:
        return self._task

    def show(self, row: GridRow | None, resolution: int) -> None:
        """Show `row` (None clears the pane); loads its preview in the background."""
        same_file = (
            row is not None
            and self._row is not None
            and row.path == self._row.path
            and row.entry.mtime_ns == self._row.entry.mtime_ns
        )
        self._row, self._resolution = row, resolution
        self.error = ""
        if row is None:
            self.path, self.title, self.facts, self.bucket_text = "", "", [], ""
            self._set_crop(QRectF())
            self._set_preview(QImage())
            return
        self.path = str(row.path)
        self.title = row.name
        self.facts = facts_for(row)
        self._show_bucket(row, resolution)
        if not same_file:
            self._set_preview(QImage())
            self._schedule_preview()

    def set_resolution(self, resolution: int) -> None:
        if self._row is not None:
            self._resolution = resolution
            self._show_bucket(self._row, resolution)

    def _show_bucket(self, row: GridRow, resolution: int) -> None:
        assignment = core.bucket_for(row.entry, resolution)
        if assignment is None:
            self.bucket_text = "No bucket: the picture cannot be read."
            self._set_crop(QRectF())
            return
        width, height = assignment.bucket
        parts = [f"{width} × {height} bucket at {resolution}"]
        if assignment.scale > 1.0:
            parts.append(f"enlarged {assignment.scale:.2f}×")
        else:
            parts.append(f"scaled to {assignment.scale:.0%}")
        parts.append(f"crops {assignment.cropped_fraction:.0%}")
        self.bucket_text = ", ".join(parts)
        left, top, right, bottom = assignment.crop
        w, h = row.entry.width, row.entry.height
        self._set_crop(QRectF(left / w, top / h, (right - left) / w, (bottom - top) / h))

    def _set_crop(self, crop: QRectF) -> None:
        if crop != self._crop:
            self._crop = QRectF(crop)
            self.crop_changed.emit(QRectF(crop))

    def _set_preview(self, image: QImage) -> None:
        self._preview = image
        self.preview_changed.emit(image)

    def _schedule_preview(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no event loop (a synchronous test): facts only
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run_preview())

    async def _run_preview(self) -> None:
        loop = asyncio.get_running_loop()
        loaded: tuple[Path, int] | None = None
        self.loading = True
        try:
            # Loop until the preview matches the current row: selections made while decoding
            # replace the target instead of queueing one decode per keypress.
            while self._row is not None and _key(self._row) != loaded:
                target = _key(self._row)
                image, message = await loop.run_in_executor(
                    self._executor, decode_preview, target[0]
                )
                loaded = target
                if self._row is None or _key(self._row) != target:
                    continue
                if image is not None:
                    self._set_preview(image)
                else:
                    self.error = message or ""
        finally:
            self.loading = False


def _key(row: GridRow) -> tuple[Path, int]:
    return row.path, row.entry.mtime_ns
