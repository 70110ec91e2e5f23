"""ThumbnailLoader with a scriptable thumbnail source: newest requests first, background fill with
progress, failures reported by name, stale results of a previous folder dropped."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QColor, QImage

from lora_studio.viewmodels.dataset.pixmap_cache import PixmapCache
from lora_studio.viewmodels.dataset.thumbnail_loader import ThumbnailLoader


def _png(side: int = 300) -> bytes:
    image = QImage(side, side // 2, QImage.Format.Format_RGB32)
    image.fill(QColor("orange"))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


class FakeThumbnailSource:
    """Returns one PNG for every path except those named 'bad'; records the call order."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._lock = threading.Lock()
        self._data = _png()

    def thumbnail_bytes(self, path: Path) -> tuple[bytes | None, str | None]:
        with self._lock:
            self.calls.append(path.name)
        if "bad" in path.name:
            return None, f"{path.name} is damaged and cannot be decoded."
        return self._data, None


def test_requests_are_served_newest_first_and_scaled(qtbot, qloop, executor) -> None:  # type: ignore[no-untyped-def]
    source = FakeThumbnailSource()
    loader = ThumbnailLoader(executor, side=100, workers=1)
    delivered: list[tuple[str, int]] = []
    loader.thumbnail_ready.connect(lambda path, image: delivered.append((path.name, image.width())))
    loader.start(source, [], fill=False)  # type: ignore[arg-type]
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        loader.request(Path(name))
    qtbot.waitUntil(lambda: len(delivered) == 3, timeout=5000)
    assert source.calls == ["c.jpg", "b.jpg", "a.jpg"]  # what was scrolled to last is on screen
    assert all(width == 100 for _, width in delivered)  # scaled in the worker to the cell size
    loader.shutdown()


def test_background_fill_reports_progress_failures_and_finishes(qtbot, qloop, executor) -> None:  # type: ignore[no-untyped-def]
    source = FakeThumbnailSource()
    loader = ThumbnailLoader(executor)
    failed: list[str] = []
    loader.thumbnail_failed.connect(lambda path, message: failed.append(message))
    paths = [Path(f"img_{i}.jpg") for i in range(40)] + [Path("bad.jpg")]
    with qtbot.waitSignal(loader.fill_finished, timeout=5000):
        loader.start(source, paths)  # type: ignore[arg-type]
    assert loader.fill_done == loader.fill_total == 41 and not loader.filling
    assert sorted(source.calls) == sorted(p.name for p in paths)  # each picture once
    assert failed == ["bad.jpg is damaged and cannot be decoded."]
    loader.shutdown()


def test_a_new_folder_drops_the_old_queue(qtbot, qloop, executor) -> None:  # type: ignore[no-untyped-def]
    old, new = FakeThumbnailSource(), FakeThumbnailSource()
    loader = ThumbnailLoader(executor)
    delivered: list[str] = []
    loader.thumbnail_ready.connect(lambda path, _image: delivered.append(path.name))
    loader.start(old, [Path(f"old_{i}.jpg") for i in range(200)])  # type: ignore[arg-type]
    loader.request(Path("old_0.jpg"))
    with qtbot.waitSignal(loader.fill_finished, timeout=5000):
        loader.start(new, [Path("new.jpg")])  # type: ignore[arg-type]
        loader.request(Path("new.jpg"))
    qtbot.waitUntil(lambda: "new.jpg" in delivered, timeout=5000)
    assert len(old.calls) < 200  # the old fill stopped within a batch or two
    loader.stop_fill()
    loader.shutdown()


def test_pixmap_cache_evicts_least_recently_used(qapp) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QPixmap

    cache = PixmapCache(budget_bytes=3 * 10 * 10 * 4)
    for key in "abc":
        pixmap = QPixmap(10, 10)
        assert cache.put(key, pixmap) == []
    assert cache.get("a") is not None  # a is now the most recent
    assert cache.put("d", QPixmap(10, 10)) == ["b"]
    assert "b" not in cache and len(cache) == 3 and cache.used_bytes == 1200
    big = QPixmap(40, 40)
    assert sorted(cache.put("big", big)) == ["a", "c", "d"]  # the newest always stays
    assert cache.get("big") is not None


def test_a_cameras_embedded_preview_is_painted_first_then_replaced(
    qtbot, qloop, executor, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """Real camera-style JPEGs through the real source: the grid gets the EXIF preview (red here)
    at once, then the real thumbnail (blue) replaces it; a plain JPEG only gets the real one."""
    from PIL import Image

    from lora_studio.core.dataset.camera_files import with_exif_thumbnail
    from lora_studio.viewmodels.dataset.core_adapter import ThumbnailSource

    photo = Image.new("RGB", (1600, 1200), (20, 40, 220))
    red = Image.new("RGB", (1600, 1200), (230, 20, 20))
    camera = with_exif_thumbnail(photo, tmp_path / "camera.jpg", preview=red)
    photo.save(tmp_path / "plain.jpg")
    loader = ThumbnailLoader(executor, side=160, workers=1)
    delivered: list[tuple[str, bool]] = []

    def ready(path: Path, image: QImage) -> None:
        colour = image.pixelColor(image.width() // 2, image.height() // 2)
        delivered.append((path.name, colour.red() > colour.blue()))

    loader.thumbnail_ready.connect(ready)
    loader.start(ThumbnailSource(tmp_path, tmp_path / "user-cache"), [], fill=False)
    loader.request(camera)
    loader.request(tmp_path / "plain.jpg")
    qtbot.waitUntil(lambda: len(delivered) == 3, timeout=10_000)
    camera_frames = [red_first for name, red_first in delivered if name == "camera.jpg"]
    assert camera_frames == [True, False]  # the preview first, then the real picture
    assert [red for name, red in delivered if name == "plain.jpg"] == [False]
    # Once the real thumbnail is cached, a later request gets no preview (the cache is as quick).
    delivered.clear()
    loader.start(ThumbnailSource(tmp_path, tmp_path / "user-cache"), [], fill=False)
    loader.request(camera)
    qtbot.waitUntil(lambda: len(delivered) == 1, timeout=10_000)
    qtbot.wait(100)
    assert delivered == [("camera.jpg", False)]
    loader.shutdown()


def test_the_embedded_preview_is_chosen_for_the_cells_device_pixels(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A 1× screen's 160 px cell is served by the EXIF thumbnail (red, 160×120); a 2× screen's
    320 px cell by the MPF large preview (green), which the EXIF thumbnail would leave blurry —
    at the disk cache's 256 px, the size of the real thumbnail that replaces it."""
    from PIL import Image

    from lora_studio.core.dataset.camera_files import with_camera_previews
    from lora_studio.viewmodels.dataset.core_adapter import ThumbnailSource
    from lora_studio.viewmodels.dataset.thumbnail_loader import device_side, produce_previews

    photo = Image.new("RGB", (2400, 1800), (20, 40, 220))
    camera = with_camera_previews(
        photo,
        tmp_path / "camera.jpg",
        large=Image.new("RGB", (2400, 1800), (20, 200, 40)),
        thumb=Image.new("RGB", (2400, 1800), (230, 20, 20)),
    )
    source = ThumbnailSource(tmp_path, tmp_path / "user-cache")
    seen = {}
    for ratio in (1.0, 2.0):
        side = device_side(160, ratio)
        (result,), _seconds = produce_previews(source, [camera], side)
        assert result.image is not None and result.error is None
        colour = result.image.pixelColor(result.image.width() // 2, result.image.height() // 2)
        seen[ratio] = (result.image.width(), result.image.height(), colour.name())
    width, height, colour = seen[1.0]
    assert (width, height) == (160, 120) and QColor(colour).red() > 200  # the EXIF thumbnail
    width, height, colour = seen[2.0]
    assert (width, height) == (256, 192) and QColor(colour).green() > 150  # the MPF preview
