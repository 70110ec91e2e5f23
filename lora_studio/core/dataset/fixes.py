"""Core/dataset: applying the doctor's fixes.

Every write is atomic (`atomic_io`), and every fix that replaces or removes something keeps the
original in one trash batch per `apply_fixes` call, so "undo" is `Trash.restore(batch,
overwrite=True)`. Adding a trigger word or creating a missing caption only adds text and needs no
copy.

Rewriting a picture re-encodes it (JPEG q95, PNG level 1, WebP q95) in its own format; formats we
do not write (GIF, TIFF, BMP, HEIC, AVIF) become a PNG of the same stem — the caption still
matches — and the original moves to the trash. EXIF is kept (minus the orientation tag after a
rotation); a CMYK ICC profile is dropped with the CMYK data it described.

Fixes run one after another on the calling thread: they are triggered on a selection, and a
sequential run leaves a clear record if the disk fills up halfway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from lora_studio.core.atomic_io import atomic_write_bytes, atomic_write_text
from lora_studio.core.dataset.captions import caption_path_for, decode_caption, read_caption
from lora_studio.core.dataset.checks import contains_word
from lora_studio.core.dataset.concurrency import CancelToken, ProgressCallback, is_cancelled, report
from lora_studio.core.dataset.findings import Finding, Fix
from lora_studio.core.dataset.formats import describe_image_error, is_caption_name, open_image
from lora_studio.core.dataset.imaging import (
    WHITE,
    Rgb,
    apply_orientation,
    encode,
    exif_orientation,
    exif_without_orientation,
    format_for_suffix,
    to_rgb,
)
from lora_studio.core.dataset.trash import Trash, TrashBatch
from lora_studio.core.errors import LoraStudioError

_IMAGE_FIXES = {Fix.ROTATE_EXIF, Fix.CONVERT_RGB, Fix.FLATTEN_ALPHA}


@dataclass(frozen=True)
class FixOptions:
    background: Rgb = WHITE  # colour under transparent areas
    trigger: str | None = None  # for ADD_TRIGGER / CREATE_CAPTION


@dataclass(frozen=True)
class FixResult:
    path: Path  # the file as it is after the fix (a GIF converted to PNG has a new path)
    fix: Fix
    ok: bool
    message: str


@dataclass(frozen=True)
class FixReport:
    results: tuple[FixResult, ...]
    trash_batch: str | None  # id of the batch holding the originals, for undo
    cancelled: bool = False


class _Batch:
    """One trash batch, created on first use."""

    def __init__(self, trash: Trash) -> None:
        self.trash = trash
        self.batch: TrashBatch | None = None

    def get(self) -> TrashBatch:
        if self.batch is None:
            self.batch = self.trash.new_batch("doctor fixes")
        return self.batch


def apply_fixes(
    root: Path,
    findings: Sequence[Finding],
    options: FixOptions | None = None,
    *,
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
) -> FixReport:
    """Apply each finding's fix once per (path, fix); a file moved to the trash gets no other."""
    options = options or FixOptions()
    trash = Trash(root)
    batch = _Batch(trash)
    trashed = {f.path for f in findings if f.fix == Fix.MOVE_TO_TRASH}
    todo: list[tuple[Path, Fix]] = []
    for finding in findings:
        if finding.fix is None or (finding.path in trashed and finding.fix != Fix.MOVE_TO_TRASH):
            continue
        if (finding.path, finding.fix) not in todo:
            todo.append((finding.path, finding.fix))
    results: list[FixResult] = []
    for done, (path, fix) in enumerate(todo, start=1):
        if is_cancelled(cancel):
            break
        try:
            results.append(_apply(path, fix, options, batch))
        except LoraStudioError as exc:
            results.append(FixResult(path, fix, False, exc.user_message))
        report(progress, done, len(todo))
    batch_id = batch.batch.id if batch.batch is not None else None
    return FixReport(tuple(results), batch_id, len(results) < len(todo))


def _apply(path: Path, fix: Fix, options: FixOptions, batch: _Batch) -> FixResult:
    if fix in _IMAGE_FIXES:
        return _rewrite_image(path, fix, options, batch)
    if fix == Fix.MOVE_TO_TRASH:
        if not path.exists() and not path.is_symlink():
            return FixResult(path, fix, False, f"{path.name} is no longer there.")
        targets = [path]
        caption = caption_path_for(path)
        if not is_caption_name(path.name) and caption.exists():
            targets.append(caption)
        for target in targets:
            batch.batch = batch.trash.move_into(batch.get(), target)
        return FixResult(
            path, fix, True, f"Moved {' and '.join(t.name for t in targets)} to the trash."
        )
    if fix == Fix.REENCODE_CAPTION:
        data = path.read_bytes()
        decoded = decode_caption(data)
        if decoded.is_utf8 and not data.startswith(b"\xef\xbb\xbf"):
            return FixResult(path, fix, True, f"{path.name} is already UTF-8.")
        batch.batch = batch.trash.keep_copy(batch.get(), path)
        atomic_write_text(path, decoded.text)
        return FixResult(path, fix, True, f"Rewrote {path.name} as UTF-8 (was {decoded.encoding}).")
    return _caption_fix(path, fix, options)


def _caption_fix(image: Path, fix: Fix, options: FixOptions) -> FixResult:
    caption_path = caption_path_for(image)
    current = read_caption(caption_path)
    trigger = (options.trigger or "").strip()
    if fix == Fix.CREATE_CAPTION:
        if current is not None:
            return FixResult(image, fix, True, f"{caption_path.name} already exists; left as is.")
        atomic_write_text(caption_path, trigger)
        what = f'with the trigger word "{trigger}"' if trigger else "(empty, to be written)"
        return FixResult(image, fix, True, f"Created {caption_path.name} {what}.")
    if not trigger:
        return FixResult(image, fix, False, "Give a trigger word to add it to captions.")
    text = current.text if current is not None else ""
    if contains_word(text.splitlines()[0] if text.strip() else "", trigger):
        return FixResult(image, fix, True, f'{caption_path.name} already has "{trigger}".')
    lines = text.splitlines() or [""]
    lines[0] = f"{trigger}, {lines[0].strip()}" if lines[0].strip() else trigger
    atomic_write_text(caption_path, "\n".join(lines) + ("\n" if text.endswith("\n") else ""))
    return FixResult(image, fix, True, f'Added "{trigger}" to {caption_path.name}.')


def _rewrite_image(path: Path, fix: Fix, options: FixOptions, batch: _Batch) -> FixResult:
    try:
        with open_image(path) as image:
            image.load()
            exif_bytes = image.info.get("exif")
            icc = image.info.get("icc_profile")
            if fix == Fix.ROTATE_EXIF:
                orientation = exif_orientation(image)
                result: Image.Image = apply_orientation(image, orientation)
                exif_bytes = exif_without_orientation(image)
                done = "Rotated"
            else:
                if image.mode == "CMYK":
                    icc = None  # described the CMYK data, wrong for RGB
                result = to_rgb(image, options.background)
                done = "Converted" if fix == Fix.CONVERT_RGB else "Flattened"
    except LoraStudioError:
        raise
    except Exception as exc:  # the picture itself is unreadable: report, don't crash
        return FixResult(path, fix, False, describe_image_error(exc, path))
    fmt = format_for_suffix(path.suffix)
    target = path if fmt is not None else _free_png_path(path)
    data = encode(
        result,
        fmt or "png",
        exif=exif_bytes if isinstance(exif_bytes, bytes) else None,
        icc=icc if isinstance(icc, bytes) else None,
    )
    if target == path:
        batch.batch = batch.trash.keep_copy(batch.get(), path)
        atomic_write_bytes(path, data)
    else:
        atomic_write_bytes(target, data)
        caption = read_caption(caption_path_for(path))
        if caption is not None and target.stem != path.stem:
            atomic_write_text(caption_path_for(target), caption.text)  # keep the pair together
        batch.batch = batch.trash.move_into(batch.get(), path)
    note = "" if target == path else f" as {target.name} (original in the trash)"
    return FixResult(target, fix, True, f"{done} {path.name}{note}.")


def _free_png_path(path: Path) -> Path:
    candidate = path.with_suffix(".png")
    number = 2
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}_{number}.png")
        number += 1
    return candidate
