"""Presets page: the form edits the config through the same rules as `--set`, live estimate and
checks, save/delete/import/export of user presets, and a screenshot."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit

from lora_studio.viewmodels.presets_vm import PresetsViewModel, field_specs
from lora_studio.views.pages.presets_page import PresetsPage


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=1)
    yield pool
    pool.shutdown(wait=True)


@pytest.fixture
def page(qtbot, tmp_path: Path, executor) -> PresetsPage:  # type: ignore[no-untyped-def]
    vm = PresetsViewModel(tmp_path, executor)
    vm.load()  # no running loop: synchronous
    widget = PresetsPage(vm)
    qtbot.addWidget(widget)
    return widget


def test_every_settable_field_has_an_editor_with_a_tooltip(page: PresetsPage) -> None:
    from lora_studio.core.config.training_config import settable_fields

    names = [spec.name for _, specs in field_specs() for spec in specs]
    assert sorted(names) == sorted(settable_fields())
    for name in names:
        assert page.editor(name).toolTip(), name


def test_builtin_presets_listed_and_selected(page: PresetsPage) -> None:
    titles = [page.preset_list.item(i).text() for i in range(page.preset_list.count())]
    assert len(titles) == 5
    assert page._vm.selected_preset == "sdxl"
    assert not page.delete_button.isEnabled()  # built-ins are read-only
    page.preset_list.setCurrentRow(1)
    assert page._vm.selected_preset == "sd15"
    rank = page.editor("rank")
    assert isinstance(rank, QLineEdit) and rank.text() == "16"


def test_bad_value_is_marked_and_explained(page: PresetsPage) -> None:
    rank = page.editor("rank")
    assert isinstance(rank, QLineEdit)
    rank.setText("256")
    rank.editingFinished.emit()
    assert "between 4 and 128" in page._vm.field_errors["rank"]
    assert "e53935" in rank.styleSheet() and "between 4 and 128" in rank.toolTip()
    rank.setText("64")
    rank.editingFinished.emit()
    assert page._vm.field_errors == {} and page._vm.config.rank == 64
    assert rank.styleSheet() == ""


def test_a_refused_value_is_listed_in_checks_and_fields_explain_themselves(
    page: PresetsPage,
) -> None:
    rate = page.editor("learning_rate")
    assert isinstance(rate, QLineEdit)
    rate.setText("abc")
    rate.editingFinished.emit()
    assert "learning_rate" in page._vm.field_errors
    text = page.issues_label.text()
    assert text != "No problems found." and "Learning rate" in text and text.startswith("✖")
    rate.setText("1e-4")
    rate.editingFinished.emit()
    assert "Learning rate" not in page.issues_label.text()
    # Every field shows its one-line explanation under it (not only in a tooltip).
    assert page.help_labels["rank"].text() and page.help_labels["learning_rate"].text()


def test_live_estimate_and_cross_field_warning(page: PresetsPage) -> None:
    assert "2,000 steps" in page.estimate_label.text()
    page.image_count_spin.setValue(80)
    assert "4,000 steps" in page.estimate_label.text()
    optimizer = page.editor("optimizer")
    assert isinstance(optimizer, QComboBox)
    optimizer.setCurrentText("Prodigy")
    assert "Prodigy" in page.issues_label.text() or "learning_rate" in page.issues_label.text()
    check = page.editor("gradient_checkpointing")
    assert isinstance(check, QCheckBox)
    before = page.estimate_label.text()
    check.setChecked(not check.isChecked())
    assert page.estimate_label.text() != before  # VRAM changed


def test_save_as_user_preset_then_delete(qtbot, qloop, page: PresetsPage, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vm = page._vm
    qtbot.waitUntil(lambda: len(vm.preset_names) == 5, timeout=3000)
    vm.set_field("rank", "48")
    with qtbot.waitSignal(vm.saved, timeout=3000):
        vm.save_as("My ink")
    qtbot.waitUntil(lambda: "my_ink" in [name for name, _ in vm.preset_names], timeout=3000)
    stored = json.loads((tmp_path / "presets" / "my_ink.json").read_text())
    assert stored["config"]["rank"] == 48 and stored["title"] == "My ink"
    assert vm.selected_preset == "my_ink" and page.delete_button.isEnabled()
    with qtbot.waitSignal(vm.presets_loaded, timeout=3000):
        vm.delete_selected()
    assert not (tmp_path / "presets" / "my_ink.json").exists()
    assert "my_ink" not in [name for name, _ in vm.preset_names]


def test_export_and_import_round_trip(qtbot, qloop, page: PresetsPage, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vm = page._vm
    qtbot.waitUntil(lambda: len(vm.preset_names) == 5, timeout=3000)
    vm.select("fast")
    target = tmp_path / "shared" / "fast-copy.json"
    target.parent.mkdir()
    with qtbot.waitSignal(vm.saved, timeout=3000):
        vm.export_selected(str(target))
    data = json.loads(target.read_text())
    data["name"] = "fast_copy"
    target.write_text(json.dumps(data))
    with qtbot.waitSignal(vm.presets_loaded, timeout=3000):
        vm.import_file(str(target))
    assert "fast_copy" in [name for name, _ in vm.preset_names]


def test_invalid_preset_name_is_explained(page: PresetsPage) -> None:
    page._vm.save_as("../escape")
    assert "cannot be a preset name" in page._vm.error


def test_importing_a_broken_file_explains(qtbot, qloop, page: PresetsPage, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    vm = page._vm
    with qtbot.waitSignal(vm.error_changed, timeout=3000, check_params_cb=bool):
        vm.import_file(str(broken))
    assert str(broken) in vm.error
    assert not page.error_banner.isHidden()


def test_presets_page_screenshot(page: PresetsPage, tmp_path: Path) -> None:
    page.resize(1100, 760)
    page.show()
    target = tmp_path / "presets.png"
    assert page.grab().save(str(target))
    from PIL import Image

    with Image.open(target) as image:
        assert len(image.getcolors(maxcolors=100_000) or []) > 20
