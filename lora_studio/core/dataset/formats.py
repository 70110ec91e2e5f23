"""Core/dataset: which files are images, optional format plugins, and safe opening.

- Formats: JPEG, PNG, WebP, BMP, TIFF, GIF (first frame) always; AVIF when Pillow was built with it;
  HEIC/HEIF when the optional `pillow-heif` package is installed (`lora-studio[heif]`).
- `TRAINER_EXTENSIONS` is what kohya sd-scripts globs for (`IMAGE_EXTENSIONS` in its train_util):
  other formats are silently skipped by it, so the doctor says so and `prepare` converts them.
- Decompression bombs: an image whose header declares more than `MAX_PIXELS` is never decoded.
  Pillow itself refuses above the same figure in `Image.open`; we turn both into one sentence.
- `describe_image_error` turns any exception from opening/decoding into a sentence naming the file.
"""

from __future__ import annotations

import errno
import os
import threading
import warnings
from pathlib import Path

from PIL import Image, JpegImagePlugin, UnidentifiedImageError, features

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".heic", ".heif", ".avif"}
)
TRAINER_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp"})
CAPTION_EXTENSION = ".txt"
VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi"})
ARCHIVE_EXTENSIONS = frozenset({".zip"})
HEIF_EXTENSIONS = frozenset({".heic", ".heif"})

# Pillow's own hard limit in Image.open (2 × its default MAX_IMAGE_PIXELS ≈ 179 MP). Decoding an
# image that large needs > 500 MB per worker; no LoRA trains at anything near that size.
MAX_PIXELS = 178_956_970

# We enforce MAX_PIXELS ourselves and report it as a finding, so Pillow's warning for images
# between 89 and 179 MP is noise (and would be printed once per process into the artist's console).
warnings.simplefilter("ignore", Image.DecompressionBombWarning)

_heif_state: bool | None = None
_heif_lock = threading.Lock()


def heif_available() -> bool:
    """Register the pillow-heif opener once; True when HEIC/HEIF files can be read."""
    global _heif_state
    with _heif_lock:  # scan/thumbnail workers may get here at the same time
        if _heif_state is None:
            try:
                import pillow_heif

                pillow_heif.register_heif_opener()
                _heif_state = True
            except Exception:  # ImportError or a broken native library: no HEIF, that's all
                _heif_state = False
        return _heif_state


def avif_available() -> bool:
    return bool(features.check("avif"))


def is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def is_caption_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() == CAPTION_EXTENSION


def is_video_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in VIDEO_EXTENSIONS


def is_archive_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in ARCHIVE_EXTENSIONS


def open_image(path: Path) -> Image.Image:
    """`Image.open` (header only) plus our pixel limit. Callers use it as a context manager."""
    if Path(path).suffix.lower() in HEIF_EXTENSIONS:
        heif_available()
    image: Image.Image | None
    try:
        image = Image.open(path)
    except UnidentifiedImageError:
        image = _as_plain_jpeg(Path(path))
        if image is None:
            raise
    try:
        check_pixel_limit(image, Path(path))
    except Exception:
        image.close()
        raise
    return image


def _as_plain_jpeg(path: Path) -> Image.Image | None:
    """A camera JPEG whose MP index (the APP2 "MPF" segment) is damaged, opened as the plain JPEG
    it also is; None when it is not one. Pillow 10.x — our lowest supported version — reads such a
    file as an MPO, fails on an index that claims more images than it lists, and then calls the
    whole file unidentified, so an intact photo showed as "Cannot show"; newer versions read it
    as a plain JPEG. `JpegImageFile` is what Pillow's JPEG opener builds before it tries the MPO
    reading, so this only adds back what that step threw away. Only runs after a failed open."""
    try:
        with open(path, "rb") as handle:
            if handle.read(3) != b"\xff\xd8\xff":
                return None
        return JpegImagePlugin.JpegImageFile(path)
    except Exception:  # not a JPEG after all, or unreadable: the original error stands
        return None


class TooManyPixelsError(Exception):
    """The header declares more pixels than we are willing to decode."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__(f"{width}×{height} exceeds {MAX_PIXELS} pixels")
        self.width = width
        self.height = height


def check_pixel_limit(image: Image.Image, path: Path) -> None:
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise TooManyPixelsError(width, height)


def error_kind(exc: BaseException) -> str:
    """Classify an exception from opening or decoding an image (a doctor finding kind)."""
    if isinstance(exc, (TooManyPixelsError, Image.DecompressionBombError)):
        return "decompression_bomb"
    if isinstance(exc, UnidentifiedImageError):
        return "not_an_image"
    if isinstance(exc, OSError) and "truncated" in str(exc):
        return "truncated"
    if isinstance(exc, OSError) and exc.errno is not None:
        return "unreadable"  # permissions, symlink loop, I/O error: the bytes never arrived
    return "damaged"  # Pillow's decoders raise SyntaxError/ValueError/OSError on corrupt data


def describe_image_error(exc: BaseException, path: Path) -> str:
    """A sentence for the artist: what is wrong with `path` and what to do."""
    name = Path(path).name
    suffix = Path(path).suffix.lower()
    if isinstance(exc, TooManyPixelsError):
        return (
            f"{name} declares {exc.width}×{exc.height} pixels, more than LoRA Studio will decode "
            f"({MAX_PIXELS // 1_000_000} MP); it may be a decompression bomb. Resize it elsewhere "
            "or remove it."
        )
    if isinstance(exc, Image.DecompressionBombError):
        return (
            f"{name} declares more than {MAX_PIXELS // 1_000_000} MP; it may be a decompression "
            "bomb and was not opened. Resize it elsewhere or remove it."
        )
    if isinstance(exc, PermissionError):
        return f"No permission to read {name}. Check the file's permissions."
    if isinstance(exc, FileNotFoundError):
        return f"{name} disappeared while it was being read."
    if isinstance(exc, OSError) and exc.errno == errno.ELOOP:
        return f"{name} is a symbolic link that points to itself (a symlink loop)."
    if isinstance(exc, UnidentifiedImageError):
        if suffix in HEIF_EXTENSIONS and not heif_available():
            return (
                f"{name} is a HEIC/HEIF picture; reading it needs the optional pillow-heif "
                "package (pip install 'lora-studio[heif]')."
            )
        if suffix == ".avif" and not avif_available():
            return f"{name} is an AVIF picture, which this Pillow build cannot read."
        return (
            f"{name} is not a picture LoRA Studio can read (a different file type with an "
            "image extension, or damaged). Remove it or replace it."
        )
    if isinstance(exc, OSError) and "truncated" in str(exc):
        return (
            f"{name} is truncated: the file ends before the picture does (an interrupted copy "
            "or download). Copy it again from the original or remove it."
        )
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"{name} could not be read: {exc.strerror or exc}."
    return f"{name} is damaged and cannot be decoded ({exc}). Replace it or remove it."
