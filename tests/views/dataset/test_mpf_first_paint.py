"""Camera photos on the Dataset page: while no full decode has finished, the grid already shows
every picture upright from the MPF previews stored in the files (sharp enough for a HiDPI grid,
where the 160 px EXIF thumbnail is not); the real thumbnails replace them afterwards."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image, ImageDraw
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap

from lora_studio.core.dataset.camera_files import with_camera_previews
from lora_studio.viewmodels.dataset.core_adapter import ThumbnailSource
from lora_studio.viewmodels.models.thumbnail_grid_model import GridRole, ThumbnailStatus
from tests.screenshots import shots_dir

# Stored the way the sensor saw it: EXIF orientation → how the upright picture is turned on disk.
STORED = {
    1: None,
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,
    8: Image.Transpose.ROTATE_270,
}


def _scene(size: tuple[int, int], seed: int) -> Image.Image:
    """Sky above, meadow below, a sun and a striped fence: upside down or blurry shows at once."""
    width, height = size
    image = Image.new("RGB", size, (90, 150, 230))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height * 3 // 5, width, height), fill=(60, 160, 70))
    sun = width // 8
    x = width // 6 + seed * width // 12
    draw.ellipse((x, height // 8, x + sun, height // 8 + sun), fill=(250, 220, 60))
    for left in range(0, width, width // 30):  # fence posts about 3 px apart in the grid
        draw.rectangle(
            (left, height // 2, left + width // 60, height * 7 // 10), fill=(120, 80, 40)
        )
    return image


@pytest.fixture
def wide_executor() -> Iterator[ThreadPoolExecutor]:
    # The background fill keeps 4 jobs in flight (blocked below); previews need threads too.
    pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="test-mpf")
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


def test_the_grid_paints_upright_mpf_previews_before_any_full_decode(
    qtbot, qloop, tmp_path, wide_executor, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from lora_studio.viewmodels.dataset.dataset_vm import DatasetViewModel
    from lora_studio.views.pages.dataset_page import DatasetPage

    root = tmp_path / "holiday"
    root.mkdir()
    orientations = [1, 6, 1, 8, 3, 1, 6, 1]
    for index, orientation in enumerate(orientations):
        portrait = orientation in (6, 8)
        upright = _scene((1200, 1800) if portrait else (1800, 1200), index)
        turn = STORED[orientation]
        stored = upright.transpose(turn) if turn is not None else upright
        with_camera_previews(stored, root / f"IMG_{index:04d}.JPG", orientation=orientation)

    release = threading.Event()
    real_bytes = ThumbnailSource.thumbnail_bytes

    def slow_decode(self, path):  # type: ignore[no-untyped-def]
        release.wait(30)  # the full decodes finish only when the test says so
        return real_bytes(self, path)

    monkeypatch.setattr(ThumbnailSource, "thumbnail_bytes", slow_decode)
    # A 2× screen's thumbnail side: the EXIF thumbnails (160 px) would be upscaled there.
    vm = DatasetViewModel(
        wide_executor,
        thumbnail_side=320,
        datasets_dir=tmp_path / "datasets",
        thumbnail_cache_dir=tmp_path / "cache",
    )
    page = DatasetPage(vm)
    qtbot.addWidget(page)
    page.resize(1280, 800)
    page.show()
    model = page.grid.model()
    try:
        with qtbot.waitSignal(vm.opened, timeout=10_000):
            vm.open_folder(str(root))
        qtbot.waitUntil(
            lambda: (
                model.rowCount() == len(orientations)
                and all(
                    model.index(r, 0).data(GridRole.STATUS) == ThumbnailStatus.READY
                    for r in range(model.rowCount())
                )
            ),
            timeout=10_000,
        )
        assert not release.is_set() and vm.loader.fill_done == 0  # no full decode delivered
        for row in range(model.rowCount()):
            _assert_upright(model.index(row, 0).data(Qt.ItemDataRole.DecorationRole), 256)
        shot = shots_dir("mpf") / "grid-mpf-first-paint.png"
        assert page.grab().save(str(shot))
    finally:
        release.set()
    qtbot.waitUntil(lambda: vm.loader.fill_done == len(orientations), timeout=20_000)
    qtbot.wait(200)  # the last replacements reach the model
    for row in range(model.rowCount()):
        _assert_upright(model.index(row, 0).data(Qt.ItemDataRole.DecorationRole), 256)
    assert page.grab().save(str(shots_dir("mpf") / "grid-after-full-decode.png"))
    vm.shutdown()


def _assert_upright(pixmap: QPixmap, side: int) -> None:
    assert isinstance(pixmap, QPixmap) and max(pixmap.width(), pixmap.height()) == side
    image: QImage = pixmap.toImage()
    top = image.pixelColor(image.width() // 2, 2)
    bottom = image.pixelColor(image.width() // 2, image.height() - 3)
    assert top.blue() > 180 and top.green() < 190  # sky
    assert bottom.green() > 130 and bottom.blue() < 110  # meadow
