"""Core/dataset: the large preview a camera stores after the photo in the same JPEG file, as
described by its MPF segment (CIPA DC-007 Multi-Picture Format, an APP2 segment starting "MPF").

Canon, Nikon, Sony, Fujifilm and many phones write the photo, then a second complete JPEG of
640×480 up to 1920×1080 ("Large Thumbnail"), and index both in the MP Index IFD: per image its
type, byte size and offset (relative to the MPF segment's TIFF header). Reading that preview costs
a few hundred kilobytes and a scaled-down decode, where the photo itself is megabytes.

`large_previews` walks the file's header segments itself (no Pillow, no pixel decoded) and returns
the bytes of every entry typed as a large thumbnail that lies inside the file and starts like a
JPEG. Everything else — other MP types (stereo views, panoramas, HDR gain maps), offsets outside
the file, truncated tables, absurd sizes — gives no preview, never an exception to the caller.

`camera_files.with_camera_previews` writes such files (tests and benchmarks).
"""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import BinaryIO

LARGE_THUMBNAIL_VGA = 0x010001  # MP type "Large Thumbnail (VGA equivalent)", class 1
LARGE_THUMBNAIL_FULL_HD = 0x010002  # "Large Thumbnail (full HD equivalent)", class 2
PRIMARY_IMAGE = 0x030000  # "Baseline MP Primary Image"
DISPARITY = 0x020002  # a stereo camera's second view: a photo, not a preview
PREVIEW_TYPES = frozenset({LARGE_THUMBNAIL_VGA, LARGE_THUMBNAIL_FULL_HD})
REPRESENTATIVE = 1 << 29
MPF_ID = b"MPF\x00"
NUMBER_OF_IMAGES, MP_ENTRY = 0xB001, 0xB002
LONG, UNDEFINED = 4, 7
_MAX_SEGMENTS = 64  # APPn segments before the photo's data; real files have fewer than 20
_MAX_PREVIEW_BYTES = 16 * 2**20  # a full-HD preview is well under 1 MB


def large_previews(path: Path) -> list[bytes]:
    """JPEG bytes of the file's MPF large-thumbnail previews (usually one); [] when there is none
    or the MPF data is damaged. Reads the header segments and the previews' bytes only."""
    try:
        with open(path, "rb") as fp:
            found = _mpf_segment(fp)
            if found is None:
                return []
            mp, base = found
            size = fp.seek(0, io.SEEK_END)
            previews = []
            for attribute, length, offset in _mp_entries(mp)[1:]:  # [0] is the photo itself
                data_format, mp_type = (attribute >> 24) & 7, attribute & 0xFFFFFF
                start = base + offset
                if data_format != 0 or mp_type not in PREVIEW_TYPES:
                    continue
                if not 0 < length <= _MAX_PREVIEW_BYTES or offset <= 0 or start + length > size:
                    continue
                fp.seek(start)
                data = fp.read(length)
                if len(data) == length and data.startswith(b"\xff\xd8\xff"):
                    previews.append(data)
            return previews
    except (OSError, ValueError, struct.error):  # unreadable file or damaged tables: no preview
        return []


def _mpf_segment(fp: BinaryIO) -> tuple[bytes, int] | None:
    """(MP data after "MPF\\0", its absolute offset in the file) from the header, or None."""
    if fp.read(2) != b"\xff\xd8":
        return None
    for _ in range(_MAX_SEGMENTS):
        head = fp.read(4)
        if len(head) < 4 or head[0] != 0xFF:
            return None
        marker, length = head[1], struct.unpack(">H", head[2:])[0]
        if marker in (0xDA, 0xD9) or length < 2:  # start of scan / end: the header is over
            return None
        if marker == 0xE2:
            content = fp.read(length - 2)
            if content.startswith(MPF_ID):
                return content[len(MPF_ID) :], fp.tell() - len(content) + len(MPF_ID)
        else:
            fp.seek(length - 2, io.SEEK_CUR)
    return None


def _mp_entries(mp: bytes) -> list[tuple[int, int, int]]:
    """(attribute, size, offset) per image from the MP Index IFD; [] when it is malformed."""
    order = {b"II*\x00": "<", b"MM\x00*": ">"}.get(mp[:4])
    if order is None:
        return []
    (ifd,) = struct.unpack_from(order + "I", mp, 4)
    (count,) = struct.unpack_from(order + "H", mp, ifd)
    images, table = 0, b""
    for index in range(min(count, 32)):
        tag, kind, number, value = struct.unpack_from(order + "HHI4s", mp, ifd + 2 + 12 * index)
        if tag == NUMBER_OF_IMAGES and kind == LONG and number == 1:
            (images,) = struct.unpack(order + "I", value)
        elif tag == MP_ENTRY and kind == UNDEFINED and number % 16 == 0 and number > 4:
            (at,) = struct.unpack(order + "I", value)
            table = mp[at : at + number]
            if len(table) != number:
                return []  # the table runs past the segment
    if images < 1 or len(table) < 16 * images:
        return []
    return [
        struct.unpack_from(order + "III", table, 16 * index)  # then two dependent-image numbers
        for index in range(images)
    ]
