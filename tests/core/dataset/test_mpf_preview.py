"""The MPF large preview cameras store after the photo: found through the MP Index offsets without
decoding the photo, turned upright, preferred to a too-small EXIF thumbnail, and refused — never an
error — when the MPF data is damaged, points outside the file, is not a preview or has the wrong
shape. Files are written at test time by `camera_files` and cross-checked with Pillow's MPO reader."""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFile

from lora_studio.core.dataset.camera_files import with_camera_previews
from lora_studio.core.dataset.embedded_preview import embedded_preview
from lora_studio.core.dataset.mpf_preview import (
    DISPARITY,
    LARGE_THUMBNAIL_VGA,
    large_previews,
)
from lora_studio.core.dataset.thumbnails import make_thumbnail

RED, GREEN, BLUE = (230, 20, 20), (20, 200, 40), (20, 40, 220)


def _photo(size: tuple[int, int] = (1800, 1200)) -> Image.Image:
    """An asymmetric picture (coloured quadrants, a bar at the top) so a wrong turn shows."""
    width, height = size
    image = Image.new("RGB", size, (240, 240, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width // 2, height // 2), fill=(200, 30, 30))
    draw.rectangle((width // 2, height // 2, width, height), fill=(30, 30, 200))
    draw.rectangle((0, 0, width, height // 10), fill=(20, 20, 20))
    return image


def _colour(data: bytes) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").getpixel((image.width // 2, image.height // 2))  # type: ignore[return-value]


def _near(colour: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) < 30 for a, b in zip(colour, expected, strict=True))


def test_pillow_reads_our_files_as_a_cameras_mpo(tmp_path: Path) -> None:
    for big_endian in (True, False):
        path = with_camera_previews(_photo(), tmp_path / f"{big_endian}.jpg", big_endian=big_endian)
        with Image.open(path) as image:
            assert image.format == "MPO" and getattr(image, "n_frames", 1) == 2
            entry = image.mpinfo[0xB002][1]  # type: ignore[attr-defined]
            assert entry["Attribute"]["MPType"] == "Large Thumbnail (Full HD Equivalent)"
            image.seek(1)
            assert image.size == (1620, 1080)
        assert len(large_previews(path)) == 1


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_the_preview_is_upright_and_looks_like_the_real_thumbnail(
    tmp_path: Path, orientation: int
) -> None:
    path = with_camera_previews(_photo(), tmp_path / "p.jpg", orientation=orientation)
    found = embedded_preview(path)
    real = make_thumbnail(path)  # the full decode that replaces it later
    assert found is not None
    data, width, height = found
    assert (width, height) == (real.width, real.height)
    assert max(width, height) == 256  # drawn from the large preview, not the 160 px thumbnail
    with Image.open(io.BytesIO(data)) as first, Image.open(io.BytesIO(real.data)) as final:
        assert first.size == (width, height)
        difference = np.abs(
            np.asarray(first.convert("RGB"), dtype=np.int16)
            - np.asarray(final.convert("RGB"), dtype=np.int16)
        )
    assert difference.mean() < 6  # same picture, same way up (a wrong turn differs by ~100)


def test_the_photo_itself_is_never_decoded(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = with_camera_previews(_photo((2400, 1600)), tmp_path / "p.jpg", orientation=6)
    decoded: list[tuple[int, int]] = []
    original = ImageFile.ImageFile.load

    def spy(self):  # type: ignore[no-untyped-def]
        decoded.append(self.size)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    assert embedded_preview(path) is not None
    assert decoded and (2400, 1600) not in decoded and max(max(s) for s in decoded) <= 1620 // 4


def test_the_best_preview_is_chosen(tmp_path: Path) -> None:
    photo, red, green = _photo(), Image.new("RGB", (30, 20), RED), Image.new("RGB", (30, 20), GREEN)
    both = with_camera_previews(photo, tmp_path / "both.jpg", thumb=red, large=green)
    found = embedded_preview(both)
    assert found is not None and _near(_colour(found[0]), GREEN) and found[1:] == (256, 171)
    # A grid that wants 160 px is served by the EXIF thumbnail alone (no preview decoded).
    found = embedded_preview(both, side=160)
    assert found is not None and _near(_colour(found[0]), RED) and found[1:] == (160, 107)
    # A camera whose EXIF thumbnail is already large enough.
    big_thumb = with_camera_previews(
        photo, tmp_path / "big.jpg", thumb_side=320, thumb=red, large=green
    )
    found = embedded_preview(big_thumb)
    assert found is not None and _near(_colour(found[0]), RED)
    # MPF only (no EXIF thumbnail), with the VGA-class type and little-endian tables.
    mpf_only = with_camera_previews(
        photo,
        tmp_path / "mpf.jpg",
        thumb_side=0,
        large_side=640,
        mp_type=LARGE_THUMBNAIL_VGA,
        big_endian=False,
        large=green,
    )
    found = embedded_preview(mpf_only)
    assert found is not None and _near(_colour(found[0]), GREEN) and found[1:] == (256, 171)


def test_a_file_written_by_pillows_own_mpo_writer(tmp_path: Path) -> None:
    """Pillow types an appended frame "Undefined": not a preview. Typed as a large thumbnail,
    the offsets Pillow computed lead to it — an independent check of the offset arithmetic."""
    path = tmp_path / "pillow.jpg"
    green = Image.new("RGB", (600, 400), GREEN)
    _photo().save(path, "MPO", save_all=True, append_images=[green])
    assert large_previews(path) == [] and embedded_preview(path) is None
    with Image.open(path) as image:
        entry = image.mpinfo[0xB002][1]  # type: ignore[attr-defined]
    data = path.read_bytes()
    packed = struct.pack("<III", 0, entry["Size"], entry["DataOffset"])  # type 0: Undefined
    assert data.count(packed) == 1
    typed = struct.pack("<III", LARGE_THUMBNAIL_VGA, entry["Size"], entry["DataOffset"])
    path.write_bytes(data.replace(packed, typed))
    found = embedded_preview(path)
    assert found is not None and _near(_colour(found[0]), GREEN)


# -- damaged or foreign MPF data ----------------------------------------------------------------
# Offsets inside the MPF segment written by `with_camera_previews` (big-endian): the TIFF header
# starts after "MPF\0"; the number of images is at +30, the table's offset at +42, the table at +50
# (16 bytes per image: attribute, size, offset, two dependent-image numbers).
def _patch(data: bytearray, at: int, value: int) -> None:
    base = data.index(b"MPF\x00") + 4
    data[base + at : base + at + 4] = struct.pack(">I", value)


def _overwrite(data: bytearray, at: int, value: bytes) -> None:
    base = data.index(b"MPF\x00") + 4
    data[base + at : base + at + len(value)] = value


def _second(field: int) -> int:
    return 50 + 16 + 4 * field  # 0 attribute, 1 size, 2 offset of the preview's entry


def _read(data: bytearray, at: int) -> int:
    base = data.index(b"MPF\x00") + 4
    return int(struct.unpack_from(">I", data, base + at)[0])


DAMAGES: dict[str, Callable[[bytearray], None]] = {
    "offset past the end": lambda d: _patch(d, _second(2), len(d) + 10),
    "offset near 4 GB": lambda d: _patch(d, _second(2), 0xFFFFFFF0),
    "offset into the photo": lambda d: _patch(d, _second(2), 100),
    "offset zero": lambda d: _patch(d, _second(2), 0),
    "length past the end": lambda d: _patch(d, _second(1), _read(d, _second(1)) + 5000),
    "length zero": lambda d: _patch(d, _second(1), 0),
    "length near 4 GB": lambda d: _patch(d, _second(1), 0xFFFFFFF0),
    "more images than entries": lambda d: _patch(d, 30, 9),
    "no images": lambda d: _patch(d, 30, 0),
    "table outside the segment": lambda d: _patch(d, 42, 60_000),
    "broken TIFF header": lambda d: _overwrite(d, 0, b"XX"),
    "IFD offset outside": lambda d: _patch(d, 4, 0x7FFFFFFF),
    "second image is a stereo view": lambda d: _patch(d, _second(0), DISPARITY),
    "second image is undefined (a gain map)": lambda d: _patch(d, _second(0), 0),
    "second image is not a JPEG": lambda d: _patch(d, _second(0), (3 << 24) | 0x010002),
    # Found in the file, refused when decoding:
    "length cut short": lambda d: _patch(d, _second(1), _read(d, _second(1)) // 2),
    "preview's header is garbage": lambda d: _overwrite(d, _read(d, _second(2)) + 3, bytes(40)),
    "file cut inside the preview": lambda d: d.__delitem__(slice(len(d) - 3000, None)),
}


DECODE_DAMAGES = ("length cut short", "preview's header is garbage")


# Pillow warns about the damaged MP indexes and EXIF blocks these tests write on purpose.
@pytest.mark.filterwarnings("ignore:Image appears to be a malformed MPO file:UserWarning")
@pytest.mark.filterwarnings("ignore:(Truncated File Read|Corrupt EXIF data):UserWarning")
@pytest.mark.parametrize("damage", list(DAMAGES))
def test_damaged_mpf_data_falls_back_to_the_exif_thumbnail(tmp_path: Path, damage: str) -> None:
    red = Image.new("RGB", (30, 20), RED)
    green = Image.new("RGB", (30, 20), GREEN)
    path = with_camera_previews(_photo(), tmp_path / "p.jpg", thumb=red, large=green)
    data = bytearray(path.read_bytes())
    DAMAGES[damage](data)
    path.write_bytes(bytes(data))
    found = embedded_preview(path)
    # Pillow 10.x calls a file whose index claims more images than it lists unidentified;
    # open_image reads it as the plain JPEG it is, so every damage still shows the thumbnail.
    assert found is not None and _near(_colour(found[0]), RED) and found[1:] == (160, 107)
    if damage not in DECODE_DAMAGES:
        assert large_previews(path) == []
    # Without an EXIF thumbnail there is no preview at all, still no error.
    bare = with_camera_previews(_photo(), tmp_path / "bare.jpg", thumb_side=0, large=green)
    data = bytearray(bare.read_bytes())
    DAMAGES[damage](data)
    bare.write_bytes(bytes(data))
    assert embedded_preview(bare) is None


def test_a_preview_of_another_shape_or_as_large_as_the_photo_is_refused(tmp_path: Path) -> None:
    red = Image.new("RGB", (30, 20), RED)
    square = Image.new("RGB", (500, 500), GREEN)
    path = with_camera_previews(_photo(), tmp_path / "square.jpg", thumb=red, large=square)
    found = embedded_preview(path)
    assert found is not None and _near(_colour(found[0]), RED)
    full = with_camera_previews(
        _photo((1200, 800)), tmp_path / "full.jpg", thumb_side=0, large_side=1200
    )
    assert len(large_previews(full)) == 1 and embedded_preview(full) is None


def test_plain_and_foreign_files_have_no_large_preview(tmp_path: Path) -> None:
    _photo().save(tmp_path / "plain.jpg")
    _photo().save(tmp_path / "plain.png")
    (tmp_path / "junk.jpg").write_bytes(b"\xff\xd8\xff\xe2\x00\x08MPF\x00XXXX")
    (tmp_path / "empty.jpg").write_bytes(b"")
    for name in ("plain.jpg", "plain.png", "junk.jpg", "empty.jpg", "missing.jpg"):
        assert large_previews(tmp_path / name) == []
        assert embedded_preview(tmp_path / name) is None
