"""Camera-style JPEGs carry a small EXIF preview: it is found, turned upright, and refused when it
does not match the photo; files without one give None, never an error."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from lora_studio.core.dataset.camera_files import with_exif_thumbnail
from lora_studio.core.dataset.embedded_preview import embedded_preview


def test_preview_is_read_without_decoding_the_photo_and_turned_upright(tmp_path: Path) -> None:
    photo = Image.new("RGB", (1200, 900), (20, 40, 200))
    plain = with_exif_thumbnail(photo, tmp_path / "plain.jpg")
    found = embedded_preview(plain)
    assert found is not None
    data, width, height = found
    assert (width, height) == (160, 120) and data.startswith(b"\xff\xd8")
    # Stored sideways (orientation 6): the preview comes back upright like the photo's display.
    turned = with_exif_thumbnail(photo, tmp_path / "turned.jpg", orientation=6)
    found = embedded_preview(turned)
    assert found is not None and (found[1], found[2]) == (120, 160)
    with Image.open(io.BytesIO(found[0])) as image:
        assert image.size == (120, 160)


def test_no_preview_or_a_mismatched_one_gives_none(tmp_path: Path) -> None:
    photo = Image.new("RGB", (1200, 900), (200, 40, 20))
    photo.save(tmp_path / "bare.jpg")
    photo.save(tmp_path / "bare.png")
    assert embedded_preview(tmp_path / "bare.jpg") is None
    assert embedded_preview(tmp_path / "bare.png") is None
    square = Image.new("RGB", (300, 300), (0, 0, 0))
    other = with_exif_thumbnail(photo, tmp_path / "other.jpg", preview=square)
    assert embedded_preview(other) is None  # a square preview of a 4:3 photo is not shown
    (tmp_path / "junk.jpg").write_bytes(b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00garbage")
    assert embedded_preview(tmp_path / "junk.jpg") is None
