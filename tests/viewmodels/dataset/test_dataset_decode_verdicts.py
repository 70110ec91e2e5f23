"""The Dataset page and the decode verdicts (`DATASET/.lorastudio/decode.json`): a picture an
earlier check found damaged is flagged alike by grid, doctor and statistics as soon as the open's
quick checks land — no thumbnail has to fail first; a thumbnail that fails is remembered there for
the wizard and the CLI; a failure that lands while the quick checks run keeps its badge."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from lora_studio.core.dataset import DoctorOptions, run_doctor
from lora_studio.core.dataset.decode_check import known_failures, verify_decodes
from lora_studio.viewmodels.dataset import core_adapter
from lora_studio.viewmodels.dataset import dataset_jobs as jobs
from lora_studio.viewmodels.dataset.dataset_vm import DatasetViewModel
from lora_studio.viewmodels.dataset.rows import Badge
from tests.dataset_fixtures import truncate_to_half, write_picture

_DECODE_KINDS = ("truncated", "damaged")


def _dataset(root: Path) -> tuple[Path, Path]:
    good = write_picture(root / "good.jpg", 1, (640, 480), caption="ohwx")
    cut = truncate_to_half(write_picture(root / "cut.jpg", 2, (640, 480), caption="ohwx"))
    return good.absolute(), cut.absolute()


def _without_thumbnails(vm: DatasetViewModel) -> None:
    """No thumbnail is ever made (no fill, and no view asks): only the verdicts can tell."""
    start = vm.loader.start
    vm.loader.start = lambda source, paths, fill=True: start(source, paths, fill=False)  # type: ignore[method-assign]


def _decode_kinds(vm: DatasetViewModel, path: Path) -> list[str]:
    return [f.kind for f in vm.doctor.findings if f.path == path and f.kind in _DECODE_KINDS]


def _open(qtbot: Any, vm: DatasetViewModel, root: Path) -> None:
    with qtbot.waitSignal(vm.opened, timeout=10_000):
        assert vm.open_folder(str(root))


def test_a_known_damaged_picture_is_flagged_when_the_quick_checks_land(
    qtbot, qloop, tmp_path, dataset_vm
) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "set"
    good, cut = _dataset(root)
    verify_decodes(root, [good, cut])  # the Train wizard's check wrote the verdicts
    vm = dataset_vm()
    _without_thumbnails(vm)
    _open(qtbot, vm, root)
    # At `opened` — the quick checks have landed, nothing has been decoded.
    assert Badge.UNREADABLE in vm.grid.row(cut).badges
    assert Badge.UNREADABLE not in vm.grid.row(good).badges
    said = [f for f in vm.doctor.findings if f.path == cut]
    assert _decode_kinds(vm, cut) == ["truncated"]
    assert any("cut.jpg is truncated" in f.message for f in said)
    # The same findings the CLI's `doctor --quick` gives.
    cli = run_doctor(root, DoctorOptions(check_pixels=False)).for_path(cut)
    assert said == cli
    vm.stats.compute_now()
    qtbot.waitUntil(lambda: not vm.stats.computing, timeout=5000)
    assert vm.stats.stats.count == 2 and vm.stats.stats.readable == 1
    assert vm.loader.fill_total == 0 and not vm.loader.failures  # no thumbnail told it
    # A rescan and a change of resolution keep saying so, once.
    with qtbot.waitSignal(vm.operation_finished, timeout=5000):
        assert vm.refresh()
    vm.set_resolution(768)
    qtbot.waitUntil(lambda: vm._recheck_task is not None and vm._recheck_task.done(), timeout=5000)
    assert Badge.UNREADABLE in vm.grid.row(cut).badges
    assert _decode_kinds(vm, cut) == ["truncated"]


def test_a_thumbnail_that_fails_is_remembered_for_the_next_open_wizard_and_cli(
    qtbot, qloop, tmp_path, dataset_vm
) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "set"
    good, cut = _dataset(root)
    assert known_failures(root, [good, cut]) == []
    vm = dataset_vm()
    failed: list[tuple[Path, str]] = []
    vm.loader.thumbnail_failed.connect(lambda path, message: failed.append((path, message)))
    with qtbot.waitSignal(vm.loader.fill_finished, timeout=10_000):
        _open(qtbot, vm, root)
    assert [path for path, _message in failed] == [cut]
    remembered = known_failures(root, [good, cut])
    assert [(f.path, f.kind, f.message) for f in remembered] == [(cut, "truncated", failed[0][1])]
    # The wizard's check decodes nothing again for it (the good one has its cached thumbnail).
    assert verify_decodes(root, [good, cut]).decoded == 0
    # The next open knows it without a thumbnail failing.
    other = dataset_vm()
    _without_thumbnails(other)
    _open(qtbot, other, root)
    assert Badge.UNREADABLE in other.grid.row(cut).badges
    assert _decode_kinds(other, cut) == ["truncated"]


def test_a_thumbnail_failure_that_lands_before_the_quick_checks_keeps_its_badge(
    qtbot, qloop, tmp_path, dataset_vm, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The quick checks replace every row: a badge and a finding a failed thumbnail gave while
    they ran must survive (here the verdict cannot be written, as on a read-only dataset)."""
    root = tmp_path / "set"
    _good, cut = _dataset(root)
    monkeypatch.setattr(core_adapter, "record_verdicts", lambda *_a, **_k: None, raising=False)
    failed = threading.Event()
    checks = jobs.recheck_in_order

    def after_the_failure(*args: Any) -> Any:
        assert failed.wait(10), "the thumbnail of cut.jpg never failed"
        return checks(*args)

    monkeypatch.setattr(jobs, "recheck_in_order", after_the_failure)
    vm = dataset_vm()
    vm.loader.thumbnail_failed.connect(lambda _path, _message: failed.set())
    _open(qtbot, vm, root)
    assert Badge.UNREADABLE in vm.grid.row(cut).badges
    assert _decode_kinds(vm, cut) == ["truncated"]
    vm.stats.compute_now()
    qtbot.waitUntil(lambda: not vm.stats.computing, timeout=5000)
    assert vm.stats.stats.readable == 1
