"""Settings page: the kohya sd-scripts install — folder, Python and extra trainer arguments are
saved with the settings (typed, in `backends`), and Check probes that Python in one sentence."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from lora_studio.app import check_backend
from lora_studio.core.config.settings import Settings
from lora_studio.viewmodels.settings_vm import SettingsViewModel
from lora_studio.views.pages.settings_page import SettingsPage
from tests.screenshots import shots_dir

FAKE = Path(__file__).resolve().parents[1] / "fakes" / "fake_kohya"
SHOTS = shots_dir("seam-kohya")


def test_kohya_settings_are_saved_and_checked(
    qtbot, qloop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PYTHONPATH", str(FAKE / "site"))
    vm = SettingsViewModel(Settings(), tmp_path, {}, check_backend=check_backend)
    page = SettingsPage(vm)
    qtbot.addWidget(page)
    page.resize(900, 820)
    page.show()
    page.kohya_folder_edit.setText(str(tmp_path / "nowhere"))
    page.kohya_folder_edit.editingFinished.emit()
    page.kohya_check_button.click()
    qtbot.waitUntil(lambda: not vm.busy and vm.kohya_status.startswith("✖"), timeout=10_000)
    assert "does not exist" in page.kohya_status_label.text()

    page.kohya_folder_edit.setText(str(FAKE))
    page.kohya_python_edit.setText(sys.executable)
    page.kohya_args_edit.setText('--tokenizer_cache_dir="/models/my tokenizers" --xformers')
    with qtbot.waitSignal(vm.saved, timeout=5_000):
        page.kohya_args_edit.editingFinished.emit()
    page.kohya_check_button.click()
    qtbot.waitUntil(lambda: not vm.busy and vm.kohya_status.startswith("✔"), timeout=30_000)
    assert "ready on the CPU" in page.kohya_status_label.text()
    assert "No CUDA GPU" in page.kohya_status_label.text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert page.grab().save(str(SHOTS / "settings-kohya.png"))
    qtbot.waitUntil(lambda: vm._save_lock is not None and not vm._save_lock.locked(), timeout=5_000)
    stored = json.loads((tmp_path / "settings.json").read_text())
    [kohya] = [b for b in stored["backends"] if b["kind"] == "kohya"]
    assert kohya["sd_scripts"] == str(FAKE) and kohya["python"] == sys.executable
    assert kohya["trainer_args"] == ["--tokenizer_cache_dir=/models/my tokenizers", "--xformers"]
    # Shown quoted, so editing the line again keeps the argument with a space whole.
    assert page.kohya_args_edit.text() == "'--tokenizer_cache_dir=/models/my tokenizers' --xformers"
