"""Doctor, detail and stats view-models: full check with near-duplicates, confirmed fixes with undo,
cancel, the detail pane's preview/bucket/crop, and the stats figures."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from lora_studio.viewmodels.dataset.core_adapter import Fix, Kind
from lora_studio.viewmodels.dataset.dataset_vm import DatasetViewModel
from lora_studio.viewmodels.dataset.doctor_vm import summarize
from lora_studio.viewmodels.dataset.rows import Badge
from lora_studio.viewmodels.dataset.stats_vm import compute_stats
from lora_studio.viewmodels.models.findings_model import FindingColumn, FindingRole


def _open(qtbot, vm: DatasetViewModel, root: Path) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(vm.opened, timeout=10_000):
        assert vm.open_folder(str(root))


def _rotated_jpeg(path: Path, draw) -> Path:  # type: ignore[no-untyped-def]
    draw(path, 7, (400, 200), caption="ohwx")
    with Image.open(path) as image:
        exif = image.getexif()
        exif[0x0112] = 6  # stored sideways, displayed turned 90° clockwise
        image.save(path, exif=exif.tobytes(), quality=90)
    return path


def test_full_check_badges_near_duplicates_and_fix_moves_to_trash_with_undo(
    qtbot, qloop, make_dataset, dataset_vm, qtmodeltester
) -> None:  # type: ignore[no-untyped-def]
    root = make_dataset(4)
    with Image.open(root / "img_001.jpg") as image:
        image.resize((300, 225)).save(root / "img_001_copy.jpg", quality=70)
    vm = dataset_vm()
    _open(qtbot, vm, root)
    doctor = vm.doctor
    qtmodeltester.check(doctor.findings_model)
    with qtbot.waitSignal(doctor.operation_finished, timeout=10_000) as blocker:
        assert doctor.run()
    assert blocker.args == ["Checking every picture", True] and doctor.full_check_done
    qtmodeltester.check(doctor.findings_model)
    copy = (root / "img_001_copy.jpg").absolute()
    # Badges follow in the background (rows are rebuilt off the GUI thread).
    qtbot.waitUntil(lambda: Badge.NEAR_DUPLICATE in vm.grid.row(copy).badges, timeout=5000)
    rows = [
        r
        for r in range(doctor.findings_model.rowCount())
        if doctor.findings_model.index(r, 0).data(FindingRole.PATH) == str(copy)
        and doctor.findings_model.index(r, 0).data(FindingRole.KIND) == Kind.NEAR_DUPLICATE
    ]
    assert len(rows) == 1
    index = doctor.findings_model.index(rows[0], FindingColumn.FIX)
    assert index.data() == "Move to trash"

    # Removing a file is confirmed first; the view answers.
    with qtbot.waitSignal(doctor.fix_confirmation_requested) as asked:
        assert doctor.fix_rows(rows)
    assert "Move to trash: 1 file." in asked.args[0]
    assert "stays: img_001.jpg" in asked.args[0]  # the one kept is named
    with qtbot.waitSignal(vm.operation_finished, timeout=10_000):  # the dataset refreshes
        doctor.confirm_fixes()
    assert not copy.exists() and vm.image_count == 4
    assert all(Badge.NEAR_DUPLICATE not in row.badges for row in vm.grid_model.rows())
    assert vm.undo_stack.can_undo and "fixes" in vm.undo_stack.text
    with qtbot.waitSignal(vm.operation_finished, timeout=10_000):
        vm.undo()
    qtbot.waitUntil(lambda: vm.image_count == 5, timeout=5000)
    assert copy.exists()
    # The full check's findings come back with the files: no need to check again after Undo.
    qtbot.waitUntil(lambda: Badge.NEAR_DUPLICATE in vm.grid.row(copy).badges, timeout=5000)
    kinds = {(f.path.name, f.kind) for f in doctor.findings}
    assert ("img_001_copy.jpg", Kind.NEAR_DUPLICATE) in kinds
    assert ("img_001.jpg", Kind.NEAR_DUPLICATE) in kinds


def test_rotate_fix_rewrites_and_undo_puts_the_original_back(
    qtbot, qloop, tmp_path, dataset_vm, draw
) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "set"
    photo = _rotated_jpeg(root / "turned.jpg", draw).absolute()
    original = photo.read_bytes()
    vm = dataset_vm()
    _open(qtbot, vm, root)
    kinds = [f.kind for f in vm.doctor.findings]
    assert Kind.EXIF_ROTATION in kinds
    row = kinds.index(Kind.EXIF_ROTATION)
    with qtbot.waitSignal(vm.doctor.fix_confirmation_requested):
        vm.doctor.fix_similar(row)
    with qtbot.waitSignal(vm.doctor.fixes_applied, timeout=10_000):
        vm.doctor.confirm_fixes()
    qtbot.waitUntil(lambda: not vm.busy and not vm.doctor.busy, timeout=5000)
    with Image.open(photo) as image:
        assert image.size == (200, 400) and image.getexif().get(0x0112, 1) == 1
    assert Kind.EXIF_ROTATION not in [f.kind for f in vm.doctor.findings]
    with qtbot.waitSignal(vm.operation_finished, timeout=10_000):
        vm.undo()
    qtbot.waitUntil(lambda: not vm.busy, timeout=5000)
    assert photo.read_bytes() == original


def test_additive_fix_needs_no_confirmation_and_discard_applies_nothing(
    qtbot, qloop, make_dataset, dataset_vm
) -> None:  # type: ignore[no-untyped-def]
    root = make_dataset(2, captions=False)
    vm = dataset_vm()
    _open(qtbot, vm, root)
    missing = [r for r, f in enumerate(vm.doctor.findings) if f.fix == Fix.CREATE_CAPTION]
    assert len(missing) == 2
    with qtbot.waitSignal(vm.doctor.fixes_applied, timeout=10_000):
        assert vm.doctor.fix_rows(missing)
    assert (root / "img_000.txt").exists() and (root / "img_001.txt").exists()
    qtbot.waitUntil(lambda: not vm.busy, timeout=5000)
    # A destructive request the artist declines changes nothing.
    vm.doctor.request_fixes([f for f in vm.doctor.findings if f.fix] or [])
    vm.doctor.discard_fixes()
    assert vm.doctor.pending_fixes == []
    assert not vm.doctor.fix_rows([]) and "Select a problem" in vm.doctor.error


def test_cancelling_the_full_check_keeps_quick_findings(
    qtbot, qloop, make_dataset, dataset_vm
) -> None:  # type: ignore[no-untyped-def]
    root = make_dataset(40)
    vm = dataset_vm()
    _open(qtbot, vm, root)
    before = len(vm.doctor.findings)
    with qtbot.waitSignal(vm.doctor.operation_finished, timeout=10_000) as blocker:
        vm.doctor.run()
        assert vm.doctor.busy and vm.doctor.cancellable
        vm.doctor.cancel()
        assert vm.doctor.progress_text.startswith("Cancelling")
    assert blocker.args == ["Checking every picture", False]
    assert not vm.doctor.full_check_done and not vm.doctor.busy
    assert len(vm.doctor.findings) >= before and vm.doctor.summary.startswith("Check cancelled")


def test_detail_pane_facts_preview_bucket_and_crop(
    qtbot, qloop, tmp_path, dataset_vm, draw
) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "set"
    draw(root / "wide.jpg", 3, (2048, 1024), caption="ohwx")
    photo = _rotated_jpeg(root / "turned.jpg", draw)
    vm = dataset_vm()
    _open(qtbot, vm, root)
    with qtbot.waitSignal(
        vm.detail.preview_changed, timeout=5000, check_params_cb=lambda i: not i.isNull()
    ):
        vm.set_current(str(photo.absolute()))
    assert vm.detail.preview.width() == 200 and vm.detail.preview.height() == 400  # shown upright
    facts = dict(vm.detail.facts)
    assert facts["Size"] == "200 × 400 px" and "clockwise" in facts["EXIF orientation"]

    with qtbot.waitSignal(
        vm.detail.preview_changed, timeout=5000, check_params_cb=lambda i: not i.isNull()
    ):
        vm.set_current(str((root / "wide.jpg").absolute()))
    assert vm.detail.bucket_text == "1408 × 704 bucket at 1024, scaled to 69%, crops 0%"
    crop = vm.detail.crop
    assert crop.left() >= 0.0 and crop.right() <= 1.0001 and crop.height() > 0.99
    vm.set_resolution(512)
    assert "at 512" in vm.detail.bucket_text
    vm.set_current("")
    assert vm.detail.title == "" and vm.detail.preview.isNull()


def test_stats_and_summary_figures(make_entry) -> None:  # type: ignore[no-untyped-def]
    from lora_studio.viewmodels.dataset.rows import make_row

    rows = [
        make_row(make_entry("a.jpg", width=400, height=400, caption="ohwx, red")),
        make_row(make_entry("b.jpg", width=1024, height=1536, caption="ohwx, blue")),
        make_row(make_entry("c.jpg", width=2048, height=2048, caption=None)),
        make_row(make_entry("d.jpg", error="d.jpg is damaged.")),
    ]
    stats = compute_stats(rows, 1024)
    assert stats.count == 4 and stats.readable == 3 and stats.captioned == 3
    assert stats.coverage == 0.75
    assert dict(stats.resolution_histogram) == {
        "< 512": 1,
        "512–767": 0,
        "768–1023": 0,
        "1024–1535": 1,
        "1536–2047": 0,
        "≥ 2048": 1,
    }
    assert stats.top_tags[0] == ("ohwx", 3) and stats.distinct_tags == 3
    assert sum(n for _, n in stats.aspect_buckets) == 3
    assert summarize([]) == "No problems found."


def test_a_picture_that_does_not_decode_is_in_no_chart(make_entry) -> None:  # type: ignore[no-untyped-def]
    """Its header reads (sizes known) but a thumbnail or full check found its pixels damaged
    (the Unreadable badge): training leaves it out, so the size and shape charts do too."""
    from lora_studio.viewmodels.dataset.rows import make_row

    good = make_row(make_entry("a.jpg", width=1024, height=1024, caption="ohwx"))
    cut = make_row(make_entry("cut.jpg", width=3000, height=1000, caption="ohwx"))
    cut = cut.with_badges(cut.badges | {Badge.UNREADABLE})
    stats = compute_stats([good, cut], 1024)
    assert stats.count == 2 and stats.readable == 1
    assert sum(n for _, n in stats.resolution_histogram) == 1
    assert stats.aspect_buckets == [("1024×1024", 1)]
