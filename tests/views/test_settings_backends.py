"""Settings page: ComfyUI server address (validated, saved) and a connection test that answers
in one sentence against a live fake server and a dead address."""

from __future__ import annotations

import json
from pathlib import Path

from lora_studio.app import check_backend
from lora_studio.core.config.settings import Settings
from lora_studio.viewmodels.settings_vm import SettingsViewModel
from lora_studio.views.pages.settings_page import SettingsPage
from tests.fakes.fake_comfyui import FakeComfyUI


def make_page(qtbot, tmp_path: Path) -> SettingsPage:  # type: ignore[no-untyped-def]
    vm = SettingsViewModel(Settings(), tmp_path, {}, check_backend=check_backend)
    page = SettingsPage(vm)
    qtbot.addWidget(page)
    return page


def test_url_is_validated_and_saved(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = make_page(qtbot, tmp_path)
    vm = page._vm
    page.comfyui_url_edit.setText("not a url")
    page.comfyui_url_edit.editingFinished.emit()
    assert "not a server address" in vm.error
    assert vm.comfyui_url == "http://127.0.0.1:8188"
    changed: list[bool] = []
    vm.backends_changed.connect(lambda: changed.append(True))
    page.comfyui_url_edit.setText("https://comfy.example.org/")
    page.comfyui_url_edit.editingFinished.emit()
    assert vm.error == "" and changed
    stored = json.loads((tmp_path / "settings.json").read_text())
    assert stored["comfyui_url"] == "https://comfy.example.org"


def test_connection_test_against_a_live_server(qtbot, qloop, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with FakeComfyUI(tmp_path / "srv") as fake:
        page = make_page(qtbot, tmp_path)
        vm = page._vm
        vm.set_comfyui_url(fake.url)
        with qtbot.waitSignal(vm.busy_changed, timeout=10_000, check_params_cb=lambda b: not b):
            page.test_button.click()
    assert vm.connection_status.startswith("✔")
    assert "training nodes" in vm.connection_status
    assert page.connection_label.text() == vm.connection_status


def test_connection_test_against_a_dead_server(qtbot, qloop, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = make_page(qtbot, tmp_path)
    vm = page._vm
    vm.set_comfyui_url("http://127.0.0.1:9")
    with qtbot.waitSignal(vm.busy_changed, timeout=20_000, check_params_cb=lambda b: not b):
        page.test_button.click()
    assert vm.connection_status.startswith("✖")
    assert "127.0.0.1:9" in vm.connection_status
