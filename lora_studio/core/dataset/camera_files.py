"""Core/dataset: write JPEGs laid out like a camera's or a phone's, with the embedded previews
`embedded_preview` reads: an EXIF thumbnail (IFD1, ~160×120) and an MPF large preview stored
after the photo (CIPA DC-007). Tests and benchmarks make their camera-style files with these;
nothing from outside the repository is needed.

The MPF layout follows what cameras write: SOI, APP1 Exif (with the thumbnail), APP2 "MPF"
(MP Index IFD: version, number of images, a 16-byte entry per image), the photo, then the preview
as a second complete JPEG. Pillow reads the result as an MPO with two frames, which checks the
offsets written here against an independent reader.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

from PIL import Image, ImageOps

from lora_studio.core.dataset.mpf_preview import (
    LARGE_THUMBNAIL_FULL_HD,
    LONG,
    MP_ENTRY,
    MPF_ID,
    NUMBER_OF_IMAGES,
    PRIMARY_IMAGE,
    REPRESENTATIVE,
    UNDEFINED,
)

EXIF_PREFIX = b"Exif\x00\x00"
JPEG_OFFSET, JPEG_LENGTH = 0x0201, 0x0202  # JPEGInterchangeFormat(Length) in IFD1
ORIENTATION = 0x0112


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
    ifd0 = struct.pack("<H", 1) + struct.pack("<HHIHH", ORIENTATION, 3, 1, orientation, 0)
    ifd1_at = ifd0_at + len(ifd0) + 4
    ifd1_size = 2 + 2 * 12 + 4
    data_at = ifd1_at + ifd1_size
    ifd1 = (
        struct.pack("<H", 2)
        + struct.pack("<HHII", JPEG_OFFSET, 4, 1, data_at)
        + struct.pack("<HHII", JPEG_LENGTH, 4, 1, len(data))
        + struct.pack("<I", 0)
    )
    tiff = b"II*\x00" + struct.pack("<I", ifd0_at) + ifd0 + struct.pack("<I", ifd1_at) + ifd1
    image.convert("RGB").save(path, "JPEG", quality=quality, exif=EXIF_PREFIX + tiff + data)
    return path


def with_camera_previews(
    image: Image.Image,
    path: Path,
    *,
    large_side: int = 1620,
    thumb_side: int = 160,
    orientation: int = 1,
    quality: int = 90,
    mp_type: int = LARGE_THUMBNAIL_FULL_HD,
    big_endian: bool = True,
    large: Image.Image | None = None,
    thumb: Image.Image | None = None,
) -> Path:
    """Save `image` as a camera would: EXIF Orientation and a `thumb_side` EXIF thumbnail
    (none when 0), then an MPF index and a `large_side` preview of type `mp_type` after the
    photo. `large`/`thumb` (tests) store other pictures as the previews. Returns `path`."""
    if thumb_side > 0:
        with_exif_thumbnail(
            image,
            path,
            thumb_side=thumb_side,
            orientation=orientation,
            quality=quality,
            preview=thumb,
        )
    else:
        exif = Image.Exif()
        exif[ORIENTATION] = orientation
        image.convert("RGB").save(path, "JPEG", quality=quality, exif=exif.tobytes())
    photo = Path(path).read_bytes()
    buffer = io.BytesIO()
    ImageOps.contain((large or image).convert("RGB"), (large_side, large_side)).save(
        buffer, "JPEG", quality=85
    )
    preview = buffer.getvalue()
    at = _end_of_app_segments(photo)
    order = ">" if big_endian else "<"
    # MP Index IFD: 3 entries (version, number of images, MP entry table), next IFD 0, then the
    # table of two 16-byte entries. Offsets count from the TIFF header after "MPF\0".
    table_at = 8 + 2 + 3 * 12 + 4
    ifd = struct.pack(order + "H", 3)
    ifd += struct.pack(order + "HHI4s", 0xB000, UNDEFINED, 4, b"0100")
    ifd += struct.pack(order + "HHII", NUMBER_OF_IMAGES, LONG, 1, 2)
    ifd += struct.pack(order + "HHII", MP_ENTRY, UNDEFINED, 32, table_at) + bytes(4)
    tiff_header = (b"MM\x00*" if big_endian else b"II*\x00") + struct.pack(order + "I", 8)
    segment_size = 4 + len(MPF_ID) + len(tiff_header) + len(ifd) + 32
    base = at + 4 + len(MPF_ID)
    photo_size = len(photo) + segment_size
    table = struct.pack(order + "IIIHH", REPRESENTATIVE | PRIMARY_IMAGE, photo_size, 0, 0, 0)
    table += struct.pack(order + "IIIHH", mp_type, len(preview), photo_size - base, 0, 0)
    segment = b"\xff\xe2" + struct.pack(">H", segment_size - 2) + MPF_ID + tiff_header + ifd
    Path(path).write_bytes(photo[:at] + segment + table + photo[at:] + preview)
    return path


def _end_of_app_segments(jpeg: bytes) -> int:
    """Offset just after the leading APPn segments (where cameras put the MPF segment)."""
    at = 2
    while jpeg[at] == 0xFF and 0xE0 <= jpeg[at + 1] <= 0xEF:
        at += 2 + struct.unpack_from(">H", jpeg, at + 2)[0]
    return at
