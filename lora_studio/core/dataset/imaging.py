"""Core/dataset: pixel conversions shared by thumbnails, fixes and preprocessing (Pillow only).

The point of these helpers is to do what a trainer's naive `image.convert("RGB")` gets wrong:
- 16-bit greyscale (`I;16`) is scaled to 8 bits instead of clipped to white;
- transparency is flattened on a chosen background instead of revealing whatever colour hides
  under transparent pixels (often black);
- CMYK goes through its embedded ICC profile when there is one (naive conversion shifts colours).
"""

from __future__ import annotations

import io
from typing import Literal

import numpy as np
from PIL import Image

Rgb = tuple[int, int, int]
WHITE: Rgb = (255, 255, 255)
OutputFormat = Literal["jpg", "png", "webp"]
OUTPUT_FORMATS: tuple[OutputFormat, ...] = ("jpg", "png", "webp")

_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})


def has_alpha(image: Image.Image) -> bool:
    return image.mode in _ALPHA_MODES or "transparency" in image.info


ORIENTATION_TAG = 0x0112
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def exif_orientation(image: Image.Image) -> int:
    """The EXIF orientation tag (1–8); 1 when absent or damaged. Header only, no decoding."""
    if image.format in ("JPEG", "PNG") and "exif" not in image.info:
        # JPEG: skip building an Exif object for the common case (most of a scan's cost).
        # PNG: Pillow's getexif() decodes the whole picture looking for an eXIf chunk after the
        # pixels (the spec puts it before them, where `info` already has it). That made every
        # scan decode each PNG, and a damaged one raised here, was swallowed, and left Pillow
        # believing the picture loaded: grid, doctor and training all took it for a good one.
        return 1
    try:
        value = image.getexif().get(ORIENTATION_TAG, 1)
    except Exception:  # a damaged EXIF block must not make the picture unreadable
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def apply_orientation(image: Image.Image, orientation: int) -> Image.Image:
    """Rotate/flip pixels as EXIF `orientation` says (same result as ImageOps.exif_transpose).

    Taking the tag as an argument lets callers read it from the file once and apply it after
    conversions that drop `info` (e.g. the 16-bit path through numpy)."""
    method = _TRANSPOSE.get(orientation)
    return image.transpose(method) if method is not None else image


def exif_without_orientation(image: Image.Image) -> bytes | None:
    """The picture's EXIF block with the orientation tag removed (after rotating the pixels)."""
    try:
        exif = image.getexif()
        if not exif:
            return None
        exif.pop(ORIENTATION_TAG, None)
        return exif.tobytes()
    except Exception:  # damaged EXIF: better to drop it than to keep a wrong orientation
        return None


def to_8bit(image: Image.Image) -> Image.Image:
    """High-bit-depth greyscale (I;16*, I, F) → L, scaled rather than clipped."""
    if image.mode not in ("I", "F") and not image.mode.startswith("I;16"):
        return image
    array = np.asarray(image).astype(np.float64)
    if image.mode == "F":
        peak = 1.0 if float(array.max(initial=0.0)) <= 1.0 else 255.0
    else:
        peak = 255.0 if float(array.max(initial=0.0)) <= 255 else 65535.0
    scaled = np.clip(array * (255.0 / peak), 0, 255).round().astype(np.uint8)
    return Image.fromarray(scaled)


def to_rgb(image: Image.Image, background: Rgb = WHITE) -> Image.Image:
    """Any mode → RGB, flattening transparency onto `background`."""
    image = to_8bit(image)
    if image.mode == "CMYK":
        return _cmyk_to_rgb(image)
    if has_alpha(image):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, background)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image if image.mode == "RGB" else image.convert("RGB")


def to_display(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the picture has transparency (for thumbnails that show it)."""
    image = to_8bit(image)
    if image.mode == "CMYK":
        return _cmyk_to_rgb(image)
    if has_alpha(image):
        return image if image.mode == "RGBA" else image.convert("RGBA")
    return image if image.mode == "RGB" else image.convert("RGB")


def _cmyk_to_rgb(image: Image.Image) -> Image.Image:
    profile = image.info.get("icc_profile")
    if profile:
        try:
            from PIL import ImageCms

            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            converted = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
            if converted is not None:
                return converted
        except Exception:  # a broken or unsupported profile: fall back to the plain formula
            pass
    return image.convert("RGB")


def encode(
    image: Image.Image, fmt: OutputFormat, *, exif: bytes | None = None, icc: bytes | None = None
) -> bytes:
    """Encode for a dataset: JPEG q95, PNG compress_level=1, WebP q95 (timings: docs/architecture.md §4)."""
    buffer = io.BytesIO()
    extra: dict[str, object] = {}
    if exif:
        extra["exif"] = exif
    if icc:
        extra["icc_profile"] = icc
    if fmt == "jpg":
        image.save(buffer, "JPEG", quality=95, **extra)
    elif fmt == "png":
        # Level 1 is ~6× faster than the default and only ~10% bigger.
        image.save(buffer, "PNG", compress_level=1, **extra)
    elif fmt == "webp":
        # Explicit method 4 (Pillow's default): method 6 is several times slower for ~3% size.
        image.save(buffer, "WEBP", quality=95, method=4, **extra)
    else:
        raise ValueError(f"unknown output format {fmt!r}")
    return buffer.getvalue()


_SUFFIX_FORMATS: dict[str, OutputFormat] = {
    ".jpg": "jpg",
    ".jpeg": "jpg",
    ".png": "png",
    ".webp": "webp",
}


def format_for_suffix(suffix: str) -> OutputFormat | None:
    """The output format that keeps a file's extension, or None if we cannot write it."""
    return _SUFFIX_FORMATS.get(suffix.lower())
