"""An intact camera JPEG whose MP index (APP2 "MPF") claims more images than it lists: Pillow
10.x — our lowest supported version, tested in CI — calls the whole file unidentified, newer
versions read it as a plain JPEG. `open_image` reads it as the plain JPEG it is on every version,
so the scan, the thumbnail, the decode check and the embedded preview all see an intact photo."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from PIL import Image, UnidentifiedImageError

from lora_studio.core.dataset import formats
from lora_studio.core.dataset.camera_files import with_camera_previews
from lora_studio.core.dataset.decode_check import decode_failure
from lora_studio.core.dataset.embedded_preview import embedded_preview
from lora_studio.core.dataset.formats import open_image
from lora_studio.core.dataset.scan import scan_dataset
from lora_studio.core.dataset.thumbnails import make_thumbnail

BLUE, RED = (20, 40, 200), (230, 20, 20)
pytestmark = [
    pytest.mark.filterwarnings("ignore:Image appears to be a malformed MPO file:UserWarning"),
]


def _claims_nine_images(path: Path) -> Path:
    """A camera file (EXIF thumbnail, MPF index, photo, preview) whose index says 9 images but
    lists 2 — as a damaged or sloppy writer leaves it; every byte of the photo is intact."""
    with_camera_previews(
        Image.new("RGB", (1200, 800), BLUE), path, thumb=Image.new("RGB", (30, 20), RED)
    )
    data = bytearray(path.read_bytes())
    at = data.index(b"MPF\x00") + 4 + 30  # NumberOfImages' value in the big-endian MP index
    assert struct.unpack_from(">I", data, at)[0] == 2
    data[at : at + 4] = struct.pack(">I", 9)
    path.write_bytes(bytes(data))
    return path


def _pillow_10(real_open):  # type: ignore[no-untyped-def]
    """Image.open as Pillow 10.3 behaves on such a file (its MPO reader fails inside the JPEG
    opener, and the file is called unidentified)."""

    def opened(fp, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(fp, (str, Path)) and Path(fp).name == "camera.jpg":
            raise UnidentifiedImageError(f"cannot identify image file {str(fp)!r}")
        return real_open(fp, *args, **kwargs)

    return opened


@pytest.mark.parametrize("pillow", ["installed", "10.x"])
def test_an_intact_photo_with_a_damaged_mp_index_is_read_as_a_plain_jpeg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pillow: str
) -> None:
    camera = _claims_nine_images(tmp_path / "camera.jpg")
    if pillow == "10.x":
        monkeypatch.setattr(Image, "open", _pillow_10(Image.open))
        with pytest.raises(UnidentifiedImageError):
            Image.open(camera)
    with open_image(camera) as image:
        assert image.format == "JPEG" and image.size == (1200, 800)
        image.load()
        assert image.getpixel((600, 400)) == pytest.approx(BLUE, abs=3)
    entry = scan_dataset(tmp_path).entries[0]
    assert entry.ok and (entry.width, entry.height) == (1200, 800)
    assert decode_failure(camera) is None  # the training's decode check
    thumbnail = make_thumbnail(camera)  # the grid's "Cannot show" before
    with Image.open(io.BytesIO(thumbnail.data)) as small:
        assert small.size == (256, 171)
    preview = embedded_preview(camera, 160)  # the EXIF thumbnail still paints first
    assert preview is not None and preview[1:] == (160, 107)


def test_other_unidentified_files_still_say_so(tmp_path: Path) -> None:
    """Only a file that really is a JPEG is retried: the original error stands for the rest."""
    (tmp_path / "text.jpg").write_text("not a picture")
    (tmp_path / "soi_only.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(20))
    for name in ("text.jpg", "soi_only.jpg"):
        with pytest.raises(UnidentifiedImageError):
            open_image(tmp_path / name)
    assert formats.error_kind(UnidentifiedImageError("x")) == "not_an_image"
