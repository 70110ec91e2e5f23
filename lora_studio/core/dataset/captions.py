"""Core/dataset: captions on disk — the same-stem `.txt` beside each image (kohya layout).

Reading is tolerant: UTF-8 (with or without BOM) is expected; UTF-16 with a BOM is recognised;
anything else is decoded as Windows-1252, then Latin-1 (which never fails), and the encoding used is
reported so the doctor can offer to rewrite the file as UTF-8 (kohya opens captions as UTF-8 and
stops with a UnicodeDecodeError otherwise).

Writing is always UTF-8 without BOM and atomic (`atomic_io`), so a crash or a full disk leaves the
old caption or the new one, never half of one.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from lora_studio.core.atomic_io import atomic_write_text
from lora_studio.core.dataset.formats import CAPTION_EXTENSION
from lora_studio.core.errors import StorageError

UTF8 = "utf-8"


@dataclass(frozen=True, slots=True)
class CaptionText:
    """A caption as read from disk: its text and the encoding it was decoded with."""

    text: str
    encoding: str = UTF8

    @property
    def is_utf8(self) -> bool:
        return self.encoding in (UTF8, "utf-8-sig")

    @property
    def is_empty(self) -> bool:
        return not self.text.strip()


def caption_path_for(image_path: Path) -> Path:
    """`photo.jpg` → `photo.txt` (kohya: `splitext(image)[0] + caption_extension`)."""
    return Path(image_path).with_suffix(CAPTION_EXTENSION)


def decode_caption(data: bytes) -> CaptionText:
    """Decode caption bytes, falling back from UTF-8 as described in the module docstring."""
    if data.startswith(codecs.BOM_UTF8):
        return CaptionText(data[len(codecs.BOM_UTF8) :].decode(UTF8, errors="replace"), "utf-8-sig")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return CaptionText(data.decode("utf-16", errors="replace"), "utf-16")
    try:
        return CaptionText(data.decode(UTF8), UTF8)
    except UnicodeDecodeError:
        pass
    try:
        return CaptionText(data.decode("cp1252"), "cp1252")
    except UnicodeDecodeError:
        return CaptionText(data.decode("latin-1"), "latin-1")


def read_caption(path: Path) -> CaptionText | None:
    """Read a caption file; None when it does not exist. Raises StorageError when unreadable."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StorageError(
            f"Could not read the caption {Path(path).name}: {exc.strerror or exc}.",
            detail=str(exc),
        ) from exc
    return decode_caption(data)


def read_caption_for(image_path: Path) -> CaptionText | None:
    """The caption of an image, or None when it has none."""
    return read_caption(caption_path_for(image_path))


def write_caption(image_path: Path, text: str) -> Path:
    """Write the caption of `image_path` atomically as UTF-8; returns the caption's path."""
    target = caption_path_for(image_path)
    atomic_write_text(target, text)
    return target


def first_line(text: str) -> str:
    """The part kohya trains on: it reads only the first line of a caption file, stripped."""
    for line in text.splitlines():
        return line.strip()
    return ""
