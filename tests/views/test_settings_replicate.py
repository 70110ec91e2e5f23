"""The Settings page's Replicate box: the token goes to the keychain and never into the settings
file, destination and consent are saved and reach the training service, Check asks the (fake)
Replicate API and answers in sentences."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from lora_studio.core.backends.registry import build_backend
from lora_studio.core.config.settings import Settings, load_settings
from lora_studio.viewmodels import replicate_settings_vm
from lora_studio.viewmodels.settings_vm import SettingsViewModel
from lora_studio.views.pages.settings_page import SettingsPage
from tests.fakes.fake_replicate import FakeReplicate
from tests.screenshots import shots_dir

SHOTS = shots_dir("replicate")


@pytest.fixture
def replicate() -> Iterator[FakeReplicate]:
    with FakeReplicate() as server:
        yield server


async def check_backend(settings):  # type: ignore[no-untyped-def]
    backend = build_backend(settings)
    try:
        return await backend.check()
    finally:
        await backend.aclose()


def test_replicate_settings_box(
    replicate: FakeReplicate,
    qloop: asyncio.AbstractEventLoop,
    qtbot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # type: ignore[no-untyped-def]
    stored: dict[str, str] = {}
    monkeypatch.setattr(replicate_settings_vm, "set_secret", stored.__setitem__)
    settings = Settings()
    settings.put_backend({"kind": "replicate", "url": replicate.url})
    vm = SettingsViewModel(settings, tmp_path, {"Data": str(tmp_path)}, check_backend)
    changes: list[int] = []
    vm.backends_changed.connect(lambda: changes.append(1))
    page = SettingsPage(vm)
    qtbot.addWidget(page)
    page.resize(900, 1100)
    page.show()
    box = page.replicate_box

    qtbot.keyClicks(box.token_edit, replicate.token)
    qtbot.keyClick(box.token_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: stored.get("replicate_api_token") == replicate.token, timeout=5000)
    assert box.token_edit.text() == ""  # the widget does not keep it
    qtbot.waitUntil(lambda: "keychain" in box.status_label.text(), timeout=5000)

    qtbot.keyClicks(box.destination_edit, "not a model")
    qtbot.keyClick(box.destination_edit, Qt.Key.Key_Return)
    assert box.error_label.isVisible() and "OWNER/NAME" in box.error_label.text()
    box.destination_edit.clear()
    qtbot.keyClicks(box.destination_edit, "alice/brand-new")
    qtbot.keyClick(box.destination_edit, Qt.Key.Key_Return)
    assert not box.error_label.isVisible()

    monkeypatch.setenv("REPLICATE_API_TOKEN", replicate.token)  # what the keychain would give
    qtbot.mouseClick(box.check_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: box.status_label.text().startswith("✖"), timeout=10_000)
    assert "alice/brand-new does not exist" in box.status_label.text()
    box.create_check.setChecked(True)
    qtbot.mouseClick(box.check_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: box.status_label.text().startswith("✔"), timeout=10_000)
    assert "will be created" in box.status_label.text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert page.grab().save(str(SHOTS / "settings-replicate.png"))

    qtbot.waitUntil(lambda: (tmp_path / "settings.json").is_file(), timeout=5000)
    qtbot.wait(200)
    saved = load_settings(tmp_path).backend_of_kind("replicate")
    assert saved["destination"] == "alice/brand-new" and saved["create_destination"] is True
    assert replicate.token not in (tmp_path / "settings.json").read_text()
    assert changes
