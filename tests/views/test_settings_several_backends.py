"""Settings page: several configured backends of one kind — two ComfyUI servers, two kohya
installs — are added, chosen, edited one at a time, renamed and removed, and saved."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtWidgets import QApplication, QPushButton

from lora_studio.core.config.settings import Settings, load_settings
from lora_studio.viewmodels.settings_vm import SettingsViewModel
from lora_studio.views.pages.settings_page import SettingsPage
from lora_studio.views.theme import apply_theme
from tests.screenshots import shots_dir

SHOTS = shots_dir("seam-finish")


def make_page(qtbot, tmp_path: Path, answers: list[str | None]) -> SettingsPage:  # type: ignore[no-untyped-def]
    vm = SettingsViewModel(Settings(), tmp_path, {"Settings": str(tmp_path)})
    page = SettingsPage(vm)
    page.ask_name = lambda title, text="": answers.pop(0)  # type: ignore[method-assign]
    qtbot.addWidget(page)
    return page


def button(page: SettingsPage, name: str) -> QPushButton:
    found = page.findChild(QPushButton, name)
    assert found is not None, name
    return found


def stored(tmp_path: Path) -> list[dict]:  # type: ignore[type-arg]
    return json.loads((tmp_path / "settings.json").read_text())["backends"]


def test_two_comfyui_servers_added_chosen_renamed_removed(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    answers: list[str | None] = ["studio-gpu", "comfyui", "render-box", None]
    page = make_page(qtbot, tmp_path, answers)
    vm, combo = page._vm, page.choosers["comfyui"]
    assert [combo.itemText(i) for i in range(combo.count())] == ["comfyui"]

    page.comfyui_url_edit.setText("http://127.0.0.1:8288")
    page.comfyui_url_edit.editingFinished.emit()
    button(page, "comfyui_add").click()  # → "studio-gpu"
    assert [combo.itemText(i) for i in range(combo.count())] == ["comfyui", "studio-gpu"]
    assert combo.currentText() == "studio-gpu"
    assert page.comfyui_url_edit.text() == "http://127.0.0.1:8188"  # a new one: defaults
    page.comfyui_url_edit.setText("https://gpu.example.org")
    page.comfyui_url_edit.editingFinished.emit()
    page.insecure_check.setChecked(True)

    button(page, "comfyui_add").click()  # → "comfyui": taken, said, nothing added
    assert "already configured" in vm.error and combo.count() == 2

    combo.activated.emit(0)  # choose the first server again: its own address and choice
    assert page.comfyui_url_edit.text() == "http://127.0.0.1:8288"
    assert not page.insecure_check.isChecked()
    combo.setCurrentIndex(1)
    combo.activated.emit(1)
    assert page.comfyui_url_edit.text() == "https://gpu.example.org"
    assert page.insecure_check.isChecked()

    button(page, "comfyui_rename").click()  # → "render-box"
    assert combo.currentText() == "render-box" and vm.error == ""
    button(page, "comfyui_rename").click()  # cancelled: nothing changes
    assert combo.currentText() == "render-box"

    comfy = [
        (b.get("name") or "comfyui", b["url"]) for b in stored(tmp_path) if b["kind"] == "comfyui"
    ]
    assert comfy == [
        ("comfyui", "http://127.0.0.1:8288"),
        ("render-box", "https://gpu.example.org"),
    ]
    assert load_settings(tmp_path).backend_settings()[1]["allow_insecure_http"] is True

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.resize(760, 900)
    app = QApplication.instance()
    for theme in ("light", "dark"):
        apply_theme(app, theme)  # type: ignore[arg-type]
        page.show()
        qtbot.waitExposed(page)
        qtbot.wait(50)  # the palette change reaches the widgets through the event queue
        page.grab().save(str(SHOTS / f"settings-two-servers-{theme}.png"))
    apply_theme(app, "light")  # type: ignore[arg-type]

    button(page, "comfyui_remove").click()
    assert [combo.itemText(i) for i in range(combo.count())] == ["comfyui"]
    assert page.comfyui_url_edit.text() == "http://127.0.0.1:8288"
    assert [b.get("name") or "comfyui" for b in stored(tmp_path) if b["kind"] == "comfyui"] == [
        "comfyui"
    ]


def test_two_kohya_installs_each_keep_their_own_fields(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = make_page(qtbot, tmp_path, ["cpu-box"])
    combo = page.choosers["kohya"]
    page.kohya_folder_edit.setText("/opt/sd-scripts")
    page.kohya_folder_edit.editingFinished.emit()
    button(page, "kohya_add").click()
    assert page.kohya_folder_edit.text() == ""
    page.kohya_folder_edit.setText("/srv/sd-scripts")
    page.kohya_args_edit.setText("--lowram")
    page.kohya_folder_edit.editingFinished.emit()
    combo.activated.emit(0)
    assert page.kohya_folder_edit.text() == "/opt/sd-scripts" and page.kohya_args_edit.text() == ""
    kohya = [
        (b.get("name") or "kohya", b["sd_scripts"], b["trainer_args"])
        for b in stored(tmp_path)
        if b["kind"] == "kohya"
    ]
    assert kohya == [("kohya", "/opt/sd-scripts", []), ("cpu-box", "/srv/sd-scripts", ["--lowram"])]


def test_two_replicate_accounts_each_keep_their_destination(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = make_page(qtbot, tmp_path, ["studio"])
    box, combo = page.replicate_box, page.choosers["replicate"]
    box.destination_edit.setText("alice/hero-lora")
    box.destination_edit.editingFinished.emit()
    button(page, "replicate_add").click()
    assert combo.currentText() == "studio" and box.destination_edit.text() == ""
    box.destination_edit.setText("studio/flux-lora")
    box.destination_edit.editingFinished.emit()
    box.create_check.setChecked(True)
    combo.activated.emit(0)
    assert box.destination_edit.text() == "alice/hero-lora" and not box.create_check.isChecked()
    replicate = [
        (b.get("name") or "replicate", b["destination"], b["create_destination"])
        for b in stored(tmp_path)
        if b["kind"] == "replicate"
    ]
    assert replicate == [
        ("replicate", "alice/hero-lora", False),
        ("studio", "studio/flux-lora", True),
    ]
