"""The Dataset page with a truncated JPEG and a PNG with a damaged IDAT: the grid marks both
Unreadable, and the Statistics tab leaves them out of "Readable" and of both charts (training
leaves them out too). Screenshot under LORA_STUDIO_TEST_SHOTS/dataset-undecodable/."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication

from lora_studio.viewmodels.dataset.rows import Badge
from tests.dataset_fixtures import damage_png_idat, truncate_to_half, write_picture
from tests.screenshots import shots_dir

SHOTS = shots_dir("dataset-undecodable")


def test_statistics_leave_out_pictures_that_do_not_decode(
    qtbot, qloop, page_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "set"
    for i in range(4):
        write_picture(root / f"img_{i}.jpg", i, (1024, 1024), caption="ohwx, portrait")
    # Odd shapes, so a wrong count would show as buckets of their own.
    truncate_to_half(write_picture(root / "cut.jpg", 8, (1500, 500), caption="ohwx"))
    damage_png_idat(write_picture(root / "bad.png", 9, (500, 1500), caption="ohwx"))
    page, vm = page_factory()
    with (
        qtbot.waitSignal(vm.loader.fill_finished, timeout=15_000),
        qtbot.waitSignal(vm.opened, timeout=10_000),
    ):
        vm.open_folder(str(root))
    for name in ("cut.jpg", "bad.png"):
        path = root.absolute() / name
        qtbot.waitUntil(lambda p=path: Badge.UNREADABLE in vm.grid.row(p).badges, timeout=5000)
    vm.stats.compute_now()
    qtbot.waitUntil(lambda: not vm.stats.computing, timeout=5000)
    stats = vm.stats.stats
    assert stats.count == 6 and stats.readable == 4 and stats.total_repeats == 4
    assert sum(n for _, n in stats.resolution_histogram) == 4
    assert stats.aspect_buckets == [("1024×1024", 4)]
    page.side.setCurrentWidget(page.stats)
    QApplication.processEvents()
    assert page.stats.readable.text() == "4" and page.stats.repeats.text() == "4"
    assert page.grab().save(str(SHOTS / "statistics.png"))
