"""Core/dataset: the previews cameras and phones store inside a JPEG, for the grid's first paint —
read in one to a few milliseconds, where a full decode of a 12 MP photo takes tens. The grid
paints it first and replaces it with the real thumbnail when that is made.

Two kinds, the best one wins:
- the EXIF thumbnail (IFD1 of the APP1 segment, usually 160×120): nearly free, but upscaled to a
  256 px thumbnail it looks blurry;
- the MPF large preview (`mpf_preview`, 640×480 to 1920×1080, stored after the photo): its bytes
  only are read and decoded at 1/2–1/8 scale (JPEG draft mode) straight to the thumbnail size.
The EXIF thumbnail is used when it is at least `side` pixels wide or tall, or when the file has
no usable MPF preview; otherwise the MPF preview.

No pixel of the photo is decoded. A preview is turned upright with the photo's EXIF orientation
(it is stored the way the sensor saw it) and is only used when it has the photo's shape, so a
preview of another crop never shows. Damaged data of either kind gives no preview, never an error.
Camera-style test files are written by `camera_files`.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from lora_studio.core.dataset.camera_files import EXIF_PREFIX, JPEG_LENGTH, JPEG_OFFSET
from lora_studio.core.dataset.formats import open_image
from lora_studio.core.dataset.imaging import apply_orientation, exif_orientation, to_display
from lora_studio.core.dataset.mpf_preview import large_previews
from lora_studio.core.dataset.thumbnails import THUMBNAIL_SIZE

Preview = tuple[bytes, int, int]  # JPEG bytes, width, height (upright)
_ASPECT_TOLERANCE = 0.05


def embedded_preview(path: Path, side: int = THUMBNAIL_SIZE) -> Preview | None:
    """(JPEG bytes, width, height) of the best embedded preview for a `side`-pixel thumbnail,
    turned upright; None when the file has none that matches the photo. Never raises."""
    try:
        with open_image(Path(path)) as image:
            if image.format not in ("JPEG", "MPO"):
                return None
            raw = image.info.get("exif")
            has_mpf = "mp" in image.info  # Pillow keeps the APP2 "MPF" segment's data here
            orientation = exif_orientation(image)
            size = image.size
    except Exception:  # untrusted bytes: no preview, the full decode still runs
        return None
    thumbnail = _exif_thumbnail(raw, size, orientation) if raw else None
    if thumbnail is not None and max(thumbnail[1], thumbnail[2]) >= side:
        return thumbnail
    large = _mpf_preview(Path(path), size, orientation, side) if has_mpf else None
    return large if large is not None else thumbnail


def _exif_thumbnail(raw: bytes, size: tuple[int, int], orientation: int) -> Preview | None:
    try:
        exif = Image.Exif()
        exif.load(raw)
        ifd1 = exif.get_ifd(-1)  # ExifTags.IFD.IFD1
        offset, length = ifd1.get(JPEG_OFFSET), ifd1.get(JPEG_LENGTH)
        if not isinstance(offset, int) or not isinstance(length, int) or length <= 0:
            return None
        tiff = raw[len(EXIF_PREFIX) :] if raw.startswith(EXIF_PREFIX) else raw
        data = tiff[offset : offset + length]
        if len(data) != length or not data.startswith(b"\xff\xd8"):
            return None
        with Image.open(io.BytesIO(data)) as preview:
            if not _same_shape(preview.size, size):
                return None  # letterboxed or cropped differently from the photo
            if orientation == 1:
                return data, preview.width, preview.height
            upright = apply_orientation(preview.convert("RGB"), orientation)
        return _encoded(upright)
    except Exception:  # a damaged EXIF block: no preview
        return None


def _mpf_preview(path: Path, size: tuple[int, int], orientation: int, side: int) -> Preview | None:
    """The first MPF large preview that decodes and has the photo's shape, at `side` pixels."""
    for data in large_previews(path):
        try:
            with Image.open(io.BytesIO(data), formats=["JPEG"]) as preview:
                if preview.width * preview.height >= size[0] * size[1]:
                    continue  # not a preview: as costly to decode as the photo itself
                if not _same_shape(preview.size, size):
                    continue
                preview.draft("RGB", (side, side))  # decode at 1/2, 1/4 or 1/8 scale
                frame: Image.Image = preview
                if frame.mode not in ("RGB", "L"):
                    frame = to_display(frame)
                frame.thumbnail((side, side), Image.Resampling.BICUBIC)
                frame = apply_orientation(to_display(frame), orientation)
                return _encoded(frame)
        except Exception:  # truncated or corrupt preview: try the next, then none
            continue
    return None


def _same_shape(preview: tuple[int, int], photo: tuple[int, int]) -> bool:
    if min(preview) <= 0 or min(photo) <= 0:
        return False
    aspect = photo[0] / photo[1]
    return abs(preview[0] / preview[1] - aspect) <= _ASPECT_TOLERANCE * aspect


def _encoded(image: Image.Image) -> Preview:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=85)  # as the real thumbnails are stored
    return buffer.getvalue(), image.width, image.height
