"""Settings page: ComfyUI server address (validated, saved) and a connection test that answers
in one sentence against a live fake server and a dead address."""

from __future__ import annotations

import json
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends.fail import Keyring as FailKeyring

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
    assert stored["backends"][0]["url"] == "https://comfy.example.org"


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


class MemoryKeyring(KeyringBackend):
    """A keychain that lives in this test only (never the developer's real one)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture
def use_keyring():  # type: ignore[no-untyped-def]
    previous = keyring.get_keyring()

    def install(backend: KeyringBackend) -> KeyringBackend:
        keyring.set_keyring(backend)
        return backend

    yield install
    keyring.set_keyring(previous)


def test_token_without_a_keychain_says_what_to_do(qtbot, tmp_path: Path, use_keyring) -> None:  # type: ignore[no-untyped-def]
    use_keyring(FailKeyring())
    page = make_page(qtbot, tmp_path)
    page.token_edit.setText("s3cret-token")
    page.token_edit.editingFinished.emit()
    assert "environment variable" in page._vm.error
    assert page.token_edit.text() == ""  # the widget does not keep the secret


def test_token_goes_to_the_keychain_and_reaches_the_proxy(
    qtbot,
    qloop,
    tmp_path: Path,
    use_keyring,  # type: ignore[no-untyped-def]
) -> None:
    memory = use_keyring(MemoryKeyring())
    with FakeComfyUI(tmp_path / "srv") as fake:
        fake.faults.require_token = "k3y-from-keychain"
        page = make_page(qtbot, tmp_path)
        vm = page._vm
        vm.set_comfyui_url(fake.url)
        with qtbot.waitSignal(vm.connection_status_changed, timeout=5000):
            page.token_edit.setText("k3y-from-keychain")
            page.token_edit.editingFinished.emit()
        assert memory.store[("lora-studio", "comfyui_proxy_token")] == "k3y-from-keychain"
        with qtbot.waitSignal(vm.busy_changed, timeout=10_000, check_params_cb=lambda b: not b):
            page.test_button.click()
        assert vm.connection_status.startswith("✔"), vm.connection_status
    assert "k3y-from-keychain" not in (tmp_path / "settings.json").read_text()


def test_proxy_token_from_the_environment_reaches_the_server(
    qtbot,
    qloop,
    tmp_path: Path,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    with FakeComfyUI(tmp_path / "srv") as fake:
        fake.faults.require_token = "s3cret-token"
        page = make_page(qtbot, tmp_path)
        vm = page._vm
        vm.set_comfyui_url(fake.url)
        with qtbot.waitSignal(vm.busy_changed, timeout=10_000, check_params_cb=lambda b: not b):
            page.test_button.click()
        assert vm.connection_status.startswith("✖")  # no token yet: the proxy refuses
        assert "s3cret-token" not in vm.connection_status
        monkeypatch.setenv("LORA_STUDIO_COMFYUI_TOKEN", "s3cret-token")
        with qtbot.waitSignal(vm.busy_changed, timeout=10_000, check_params_cb=lambda b: not b):
            page.test_button.click()
        assert vm.connection_status.startswith("✔"), vm.connection_status
