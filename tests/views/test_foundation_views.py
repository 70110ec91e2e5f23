"""Foundation widgets and view-models: error banner, settings page, main window, crash dialog."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QLabel

from lora_studio.core.config.settings import Settings
from lora_studio.viewmodels.message_bridge import MessageBridge
from lora_studio.viewmodels.settings_vm import SettingsViewModel
from lora_studio.views.crash_dialog import CrashDialog, crash_report
from lora_studio.views.main_window import MainWindow, PageSpec
from lora_studio.views.pages.settings_page import SettingsPage
from lora_studio.views.widgets.error_banner import ErrorBanner


def test_error_banner_follows_view_model(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vm = SettingsViewModel(Settings(), tmp_path, {})
    banner = ErrorBanner()
    qtbot.addWidget(banner)
    banner.bind(vm)
    assert banner.isHidden()
    vm.set_theme("purple")
    assert not banner.isHidden() and "purple" in banner.text()
    banner.dismissed.emit()
    assert vm.error == "" and banner.isHidden()


def test_settings_page_changes_theme_and_saves(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vm = SettingsViewModel(Settings(), tmp_path, {"Logs": "/x"})
    page = SettingsPage(vm)
    qtbot.addWidget(page)
    with qtbot.waitSignal(vm.saved, timeout=2000):
        page.theme_combo.setCurrentIndex(page.theme_combo.findData("dark"))
    assert vm.theme == "dark"
    assert json.loads((tmp_path / "settings.json").read_text())["theme"] == "dark"


def test_settings_save_runs_off_the_gui_thread_with_a_loop(qtbot, qloop, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vm = SettingsViewModel(Settings(), tmp_path, {})
    with qtbot.waitSignal(vm.saved, timeout=3000):
        vm.set_theme("light")
    assert json.loads((tmp_path / "settings.json").read_text())["theme"] == "light"


def test_main_window_pages_shortcuts_and_notices(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bridge = MessageBridge()
    state = QSettings(str(tmp_path / "state.ini"), QSettings.Format.IniFormat)
    pages = [PageSpec("a", "Alpha", QLabel("a")), PageSpec("b", "Beta", QLabel("b"))]
    window = MainWindow(pages, bridge, state)
    qtbot.addWidget(window)
    assert window.current_page_key() == "a"
    window.show_page("b")
    assert window.stack.currentIndex() == 1
    bridge.error("ComfyUI at 127.0.0.1:8188 is not answering")
    assert "not answering" in window.statusBar().currentMessage()
    window.save_state()
    reopened = MainWindow(
        [PageSpec("a", "Alpha", QLabel("a")), PageSpec("b", "Beta", QLabel("b"))],
        bridge,
        QSettings(str(tmp_path / "state.ini"), QSettings.Format.IniFormat),
    )
    qtbot.addWidget(reopened)
    assert reopened.current_page_key() == "b"


def test_crash_dialog_shows_redacted_report_and_copies(qtbot) -> None:  # type: ignore[no-untyped-def]
    try:
        raise RuntimeError("request failed with Bearer r8_supersecrettoken123")
    except RuntimeError as exc:
        report = crash_report(type(exc), exc, exc.__traceback__)
    assert "r8_supersecrettoken123" not in report
    assert "RuntimeError" in report and "PySide6" in report
    dialog = CrashDialog(report, "/tmp/log.txt")
    qtbot.addWidget(dialog)
    dialog.copy_button.click()
    assert QApplication.clipboard().text() == report
