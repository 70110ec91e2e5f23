"""Core/dataset: the small preview cameras and phones store inside a JPEG (the EXIF thumbnail in
IFD1, usually 160×120) — read in about a millisecond, where a full decode of a 12 MP photo takes
tens. The grid paints it first and replaces it with the real thumbnail when that is made.

Only the file's header and its APP1 segment are read; no pixel of the photo is decoded. The
preview is turned upright with the photo's EXIF orientation (it is stored the way the sensor saw
it) and is only used when it has the photo's shape, so a preview of another crop never shows.

`with_exif_thumbnail` writes such a JPEG (tests and benchmarks make camera-style files with it).
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

from PIL import Image, ImageOps

from lora_studio.core.dataset.formats import open_image
from lora_studio.core.dataset.imaging import apply_orientation, exif_orientation

_EXIF_PREFIX = b"Exif\x00\x00"
_JPEG_OFFSET, _JPEG_LENGTH = 0x0201, 0x0202  # JPEGInterchangeFormat(Length) in IFD1
_ASPECT_TOLERANCE = 0.05


def embedded_preview(path: Path) -> tuple[bytes, int, int] | None:
    """(JPEG bytes, width, height) of the embedded preview turned upright, or None when the file
    has none (or one that does not match the photo). Never raises: a damaged block is None."""
    try:
        with open_image(Path(path)) as image:
            if image.format not in ("JPEG", "MPO"):
                return None
            raw = image.info.get("exif")
            orientation = exif_orientation(image)
            width, height = image.size
        if not raw:
            return None
        exif = Image.Exif()
        exif.load(raw)
        ifd1 = exif.get_ifd(-1)  # ExifTags.IFD.IFD1
        offset, length = ifd1.get(_JPEG_OFFSET), ifd1.get(_JPEG_LENGTH)
        if not isinstance(offset, int) or not isinstance(length, int) or length <= 0:
            return None
        tiff = raw[len(_EXIF_PREFIX) :] if raw.startswith(_EXIF_PREFIX) else raw
        data = tiff[offset : offset + length]
        if len(data) != length or not data.startswith(b"\xff\xd8"):
            return None
        with Image.open(io.BytesIO(data)) as preview:
            if abs(preview.width / preview.height - width / height) > _ASPECT_TOLERANCE * (
                width / height
            ):
                return None  # letterboxed or cropped differently from the photo
            if orientation == 1:
                return data, preview.width, preview.height
            upright = apply_orientation(preview.convert("RGB"), orientation)
        buffer = io.BytesIO()
        upright.save(buffer, "JPEG", quality=85)
        return buffer.getvalue(), upright.width, upright.height
    except Exception:  # untrusted bytes: no preview, the full decode still runs
        return None


def with_exif_thumbnail(
    image: Image.Image,
    path: Path,
    *,
    thumb_side: int = 160,
    orientation: int = 1,
    quality: int = 90,
    preview: Image.Image | None = None,
) -> Path:
    """Save `image` as a JPEG carrying an EXIF thumbnail (IFD1) like a camera's, plus an
    Orientation tag; returns `path`. `preview` (tests) stores another picture as the thumbnail."""
    source = preview if preview is not None else image
    thumb = ImageOps.contain(source.convert("RGB"), (thumb_side, thumb_side))
    jpeg = io.BytesIO()
    thumb.save(jpeg, "JPEG", quality=80)
    data = jpeg.getvalue()
    # Little-endian TIFF: header, IFD0 (Orientation), IFD1 (offset and length of the JPEG).
    ifd0_at = 8
    ifd0 = struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0)
    ifd1_at = ifd0_at + len(ifd0) + 4
    ifd1_size = 2 + 2 * 12 + 4
    data_at = ifd1_at + ifd1_size
    ifd1 = (
        struct.pack("<H", 2)
        + struct.pack("<HHII", _JPEG_OFFSET, 4, 1, data_at)
        + struct.pack("<HHII", _JPEG_LENGTH, 4, 1, len(data))
        + struct.pack("<I", 0)
    )
    tiff = b"II*\x00" + struct.pack("<I", ifd0_at) + ifd0 + struct.pack("<I", ifd1_at) + ifd1
    image.convert("RGB").save(path, "JPEG", quality=quality, exif=_EXIF_PREFIX + tiff + data)
    return path
