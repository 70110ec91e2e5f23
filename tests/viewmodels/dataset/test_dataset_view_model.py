"""DatasetViewModel end to end on generated pictures: open, thumbnails, badges, delete/undo, import,
cancel, resolution — driven by a running qasync loop (`qloop`) and `qtbot.waitSignal`."""

from __future__ import annotations

import zipfile
from pathlib import Path

from PySide6.QtCore import Qt

from lora_studio.viewmodels.dataset.dataset_vm import DatasetViewModel
from lora_studio.viewmodels.dataset.rows import Badge
from lora_studio.viewmodels.message_bridge import MessageBridge
from lora_studio.viewmodels.models.thumbnail_grid_model import GridRole, ThumbnailStatus


def _open(qtbot, vm: DatasetViewModel, root: Path) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(vm.opened, timeout=10_000):
        assert vm.open_folder(str(root))
    assert not vm.busy


def _badges(vm: DatasetViewModel) -> dict[str, set[Badge]]:
    return {row.name: set(row.badges) for row in vm.grid_model.rows()}


def test_open_shows_rows_with_badges_then_fills_thumbnails(
    qtbot, qloop, tmp_path, dataset_vm, draw
) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "set"
    draw(root / "good.jpg", 1, (1024, 1024), caption="ohwx, red")
    draw(root / "nocap.jpg", 2, (1024, 1024))
    draw(root / "tiny.jpg", 3, (200, 200), caption="ohwx")
    draw(root / "wide.jpg", 4, (3000, 600), caption="ohwx")
    (root / "broken.png").write_text("not a picture")
    vm = dataset_vm()
    with qtbot.waitSignal(vm.loader.fill_finished, timeout=10_000):
        _open(qtbot, vm, root)
    assert vm.folder == str(root.absolute()) and vm.image_count == 5 == vm.grid.visible_count
    badges = _badges(vm)
    assert badges["good.jpg"] == set()
    assert Badge.NO_CAPTION in badges["nocap.jpg"]
    assert Badge.TOO_SMALL in badges["tiny.jpg"]
    assert Badge.EXTREME_ASPECT in badges["wide.jpg"]
    assert Badge.UNREADABLE in badges["broken.png"]
    assert vm.thumbnails_done == vm.thumbnails_total == 5 and not vm.thumbnails_filling
    # The doctor already shows the quick findings.
    assert "broken.png" in " ".join(f.message for f in vm.doctor.findings)

    # A painted placeholder asks for its thumbnail; it arrives as a one-row change.
    row = vm.grid_model.row_for_path(root.absolute() / "good.jpg")
    assert row is not None
    index = vm.grid_model.index(row, 0)
    with qtbot.waitSignal(vm.grid_model.dataChanged, timeout=5000) as blocker:
        index.data(Qt.ItemDataRole.DecorationRole)
    assert blocker.args[0].row() == blocker.args[1].row() == row
    assert index.data(GridRole.STATUS) == ThumbnailStatus.READY
    assert index.data(Qt.ItemDataRole.DecorationRole).width() <= 160

    vm.stats.compute_now()
    qtbot.waitUntil(lambda: not vm.stats.computing, timeout=5000)
    stats = vm.stats.stats
    assert stats.count == 5 and stats.captioned == 3 and stats.readable == 4
    assert dict(stats.top_tags)["ohwx"] == 3
    assert sum(n for _, n in stats.aspect_buckets) == 4


def test_delete_moves_to_trash_and_undo_restores(qtbot, qloop, make_dataset, dataset_vm) -> None:  # type: ignore[no-untyped-def]
    root = make_dataset(4)
    vm = dataset_vm()
    _open(qtbot, vm, root)
    victims = [str(root.absolute() / "img_001.jpg"), str(root.absolute() / "img_002.jpg")]
    vm.set_current(victims[0])
    with qtbot.waitSignal(vm.operation_finished, timeout=5000):
        assert vm.delete_paths(victims)
    assert vm.image_count == 2 and vm.undo_stack.can_undo and "2 pictures" in vm.undo_stack.text
    assert not (root / "img_001.jpg").exists() and not (root / "img_001.txt").exists()
    assert vm.detail.path == ""  # the deleted picture left the detail pane
    with qtbot.waitSignal(vm.operation_finished, timeout=5000):
        assert vm.undo()
    qtbot.waitUntil(lambda: not vm.busy, timeout=5000)
    assert vm.image_count == 4 and not vm.undo_stack.can_undo
    assert (root / "img_001.jpg").exists() and (root / "img_001.txt").read_text().startswith("ohwx")
    assert [r.name for r in vm.grid_model.rows()] == [f"img_{i:03d}.jpg" for i in range(4)]


def test_import_files_folders_and_zips_reports_problems(
    qtbot, qloop, tmp_path, make_dataset, dataset_vm, draw
) -> None:  # type: ignore[no-untyped-def]
    root = make_dataset(2)
    source = tmp_path / "incoming"
    loose = draw(source / "loose photo.jpg", 10, caption="a caption that comes along")
    draw(source / "folder" / "inner.png", 11)
    (source / "fake.png").write_text("I am text")
    archive = source / "pack.zip"
    draw(tmp_path / "zipped.jpg", 12)
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(tmp_path / "zipped.jpg", "sub/zipped.jpg")
    bridge = MessageBridge()
    vm = dataset_vm(bridge)
    _open(qtbot, vm, root)
    with qtbot.waitSignal(vm.imported, timeout=10_000) as blocker:
        assert vm.import_sources(
            [str(loose), str(source / "folder"), str(archive), str(source / "fake.png")]
        )
    qtbot.waitUntil(lambda: not vm.busy, timeout=5000)
    assert blocker.args == [3]
    names = {row.name for row in vm.grid_model.rows()}
    assert {"loose photo.jpg", "inner.png", "zipped.jpg"} <= names and vm.image_count == 5
    assert "fake.png" in vm.error
    assert (root / "loose photo.txt").read_text() == "a caption that comes along"
    assert loose.exists()  # originals are never moved
    assert any("Imported 3 pictures" in notice.text for notice in bridge.history)


def test_a_folder_dropped_on_an_empty_page_is_copied_into_a_new_dataset_by_choice(
    qtbot, qloop, tmp_path, make_dataset, dataset_vm
) -> None:  # type: ignore[no-untyped-def]
    """The view is asked; "Copy into a new dataset" leaves the original untouched and says
    which folder is open; "Work on this folder" opens the original and says so."""
    root = make_dataset(3)
    (root / "10_ohwx").mkdir()
    (root / "img_000.jpg").rename(root / "10_ohwx" / "img_000.jpg")
    before = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    vm = dataset_vm()
    with qtbot.waitSignal(vm.drop_choice_requested) as asked:
        assert vm.import_sources([str(root)])
    assert asked.args == [str(root)] and vm.folder == ""
    with qtbot.waitSignal(vm.opened, timeout=10_000):
        assert vm.answer_drop(copy=True)
    copy = tmp_path / "datasets" / root.name
    assert Path(vm.folder) == copy.absolute() and vm.image_count == 3
    assert (copy / "10_ohwx" / "img_000.jpg").exists()  # the kohya layout is kept
    assert "originals stay" in vm.folder_note
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*")) == before  # untouched

    other = dataset_vm()
    with qtbot.waitSignal(other.drop_choice_requested):
        other.import_sources([str(root)])
    with qtbot.waitSignal(other.opened, timeout=10_000):
        assert other.answer_drop(copy=False)
    assert Path(other.folder) == root.absolute() and "this folder itself" in other.folder_note
    assert not other.import_sources([])
    assert "Nothing to import" in other.error


def test_new_dataset_is_a_named_folder_that_then_asks_for_pictures(
    qtbot, qloop, tmp_path, draw, dataset_vm
) -> None:  # type: ignore[no-untyped-def]
    vm = dataset_vm()
    with qtbot.waitSignal(vm.new_dataset_requested) as asked:
        vm.request_import()  # Import with nothing open starts a new dataset
    assert asked.args == [str(tmp_path / "datasets")]
    assert not vm.create_dataset("  ") and "Give the new dataset a name" in vm.error
    assert not vm.create_dataset("a/b") and "cannot be a folder name" in vm.error
    with qtbot.waitSignal(vm.import_files_requested, timeout=10_000) as chooser:
        assert vm.create_dataset("  Anna   portraits ")
    folder = tmp_path / "datasets" / "Anna portraits"
    assert folder.is_dir() and chooser.args == [str(folder.absolute())]
    assert Path(vm.folder) == folder.absolute() and vm.image_count == 0
    qtbot.waitUntil(lambda: not vm.busy)
    with qtbot.waitSignal(vm.operation_finished, timeout=5000):
        vm.create_dataset("Anna portraits")  # checked on disk, in the background
    assert "already exists" in vm.error

    # Pictures dropped before any dataset was open go into the new one.
    fresh = dataset_vm(datasets_dir=tmp_path / "more")
    pictures = [draw(tmp_path / "loose" / f"p{i}.jpg", i) for i in range(2)]
    with qtbot.waitSignal(fresh.new_dataset_requested):
        assert fresh.import_sources([str(p) for p in pictures])
    with qtbot.waitSignal(fresh.imported, timeout=10_000):
        assert fresh.create_dataset("loose ones")
    qtbot.waitUntil(lambda: fresh.image_count == 2, timeout=5000)
    assert all(p.exists() for p in pictures)


def test_cancelled_open_changes_nothing(qtbot, qloop, make_dataset, dataset_vm) -> None:  # type: ignore[no-untyped-def]
    root = make_dataset(3)
    vm = dataset_vm()
    with qtbot.waitSignal(vm.operation_finished, timeout=5000) as blocker:
        assert vm.open_folder(str(root))
        vm.cancel()
    assert blocker.args == ["Opening the dataset", False]
    assert vm.image_count == 0 and vm.folder == "" and vm.error == "" and not vm.busy


def test_errors_go_to_the_error_property(qtbot, qloop, tmp_path, dataset_vm) -> None:  # type: ignore[no-untyped-def]
    vm = dataset_vm()
    with qtbot.waitSignal(vm.operation_finished, timeout=5000):
        vm.open_folder(str(tmp_path / "missing"))
    assert "does not exist" in vm.error
    assert not vm.open_folder("  ") and "Choose a folder" in vm.error
    with qtbot.waitSignal(vm.new_dataset_requested):
        vm.request_import()  # nothing open: a new dataset is made first


def test_resolution_and_filters(qtbot, qloop, tmp_path, dataset_vm, draw) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "set"
    draw(root / "a.jpg", 1, (700, 700), caption="ohwx, red")
    draw(root / "b.jpg", 2, (1100, 1100), caption="blue")
    vm = dataset_vm()
    _open(qtbot, vm, root)
    assert Badge.TOO_SMALL in _badges(vm)["a.jpg"]  # enlarged 1.46× at 1024
    with qtbot.waitSignal(vm.grid_model.dataChanged, timeout=5000):
        vm.set_resolution(512)
    assert _badges(vm)["a.jpg"] == set()
    vm.set_resolution(333)
    assert "resolution" in vm.error
    vm.grid.set_tag_filter("ohwx")
    assert vm.grid.visible_count == 1 and vm.grid.tag_filter == "ohwx"
    vm.reveal(str(root.absolute() / "b.jpg"))  # hidden by the filter: filters are cleared
    assert vm.grid.visible_count == 2 and vm.grid.tag_filter == "" and vm.detail.title == "b.jpg"
    vm.grid.sort_by("size", descending=True)
    assert vm.proxy.index(0, 0).data(GridRole.NAME) == "b.jpg"


def test_resolution_and_trigger_are_remembered_per_dataset(
    qtbot, qloop, make_dataset, dataset_vm
) -> None:  # type: ignore[no-untyped-def]
    root = make_dataset(2)
    vm = dataset_vm()
    _open(qtbot, vm, root)
    vm.set_resolution(768)
    vm.set_trigger_word(" sks ")
    qtbot.waitUntil(lambda: vm._save_task is not None and vm._save_task.done(), timeout=5000)
    other = dataset_vm()
    _open(qtbot, other, root)
    assert other.resolution == 768 and other.trigger_word == "sks"
    # The doctor checks captions for the trigger word ("ohwx, …" captions lack "sks").
    missing = [f for f in other.doctor.findings if f.kind == "missing_trigger"]
    assert len(missing) == 2


def test_a_truncated_picture_is_flagged_alike_by_grid_doctor_and_stats(
    qtbot, qloop, tmp_path, dataset_vm, draw
) -> None:  # type: ignore[no-untyped-def]
    """Its header reads (so the scan calls it fine) but its pixels do not: once the thumbnail
    fails, the grid badge, the doctor's list and the "Readable" figure all agree."""
    root = tmp_path / "set"
    draw(root / "good.jpg", 1, (640, 480), caption="ohwx")
    draw(root / "cut.jpg", 2, (640, 480), caption="ohwx")
    data = (root / "cut.jpg").read_bytes()
    (root / "cut.jpg").write_bytes(data[: len(data) // 2])
    vm = dataset_vm()
    with qtbot.waitSignal(vm.loader.fill_finished, timeout=10_000):
        _open(qtbot, vm, root)
    cut = root.absolute() / "cut.jpg"
    qtbot.waitUntil(lambda: Badge.UNREADABLE in vm.grid.row(cut).badges, timeout=5000)
    doctor_says = [f for f in vm.doctor.findings if f.path == cut and f.kind == "truncated"]
    assert len(doctor_says) == 1 and "cut.jpg" in doctor_says[0].message
    vm.stats.compute_now()
    qtbot.waitUntil(lambda: not vm.stats.computing, timeout=5000)
    assert vm.stats.stats.count == 2 and vm.stats.stats.readable == 1
    # A later rescan (after an import, a fix…) keeps saying so.
    with qtbot.waitSignal(vm.operation_finished, timeout=5000):
        assert vm.refresh()
    assert Badge.UNREADABLE in vm.grid.row(cut).badges
    assert any(f.path == cut for f in vm.doctor.findings)
