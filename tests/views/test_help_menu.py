"""The Help menu opens the shipped artist's guide; a failure tells the artist where the file is."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow

from lora_studio import paths
from lora_studio.viewmodels.help_vm import HelpViewModel
from lora_studio.viewmodels.message_bridge import MessageBridge
from lora_studio.views.help_menu import install_help_menu


class Opener:
    def __init__(self, result: bool = True) -> None:
        self.result = result
        self.urls: list[QUrl] = []

    def __call__(self, url: QUrl) -> bool:
        self.urls.append(url)
        return self.result


def action(window: QMainWindow, name: str) -> QAction:
    found = window.findChild(QAction, name)
    assert found is not None, name
    return found


def test_f1_opens_the_guide_that_ships_with_the_app(qtbot) -> None:  # type: ignore[no-untyped-def]
    window = QMainWindow()
    qtbot.addWidget(window)
    opener = Opener()
    vm = HelpViewModel(MessageBridge(), open_url=opener)
    menu = install_help_menu(window, vm)
    assert menu.title() == "&Help"
    guide = action(window, "OpenGuideAction")
    assert not guide.shortcut().isEmpty()
    guide.trigger()
    action(window, "OpenDocsFolderAction").trigger()
    opened = [Path(url.toLocalFile()) for url in opener.urls]
    assert opened == [paths.guide_file(), paths.guide_file().parent]
    assert opened[0].read_text(encoding="utf-8").startswith("# LoRA Studio — the artist's guide")


def test_a_missing_guide_is_reported_with_its_path(tmp_path: Path) -> None:
    bridge = MessageBridge()
    opener = Opener()
    vm = HelpViewModel(bridge, open_url=opener, guide_file=lambda: tmp_path / "artists-guide.md")
    assert vm.open_guide() is False
    assert opener.urls == []
    notice = bridge.history[-1]
    assert notice.level == "error" and str(tmp_path / "artists-guide.md") in notice.text
    assert "Reinstall" in notice.text


def test_no_viewer_on_the_desktop_says_where_the_guide_is() -> None:
    bridge = MessageBridge()
    vm = HelpViewModel(bridge, open_url=Opener(result=False))
    assert vm.open_guide() is False
    assert bridge.history[-1].level == "warning"
    assert str(paths.guide_file()) in bridge.history[-1].text


def test_a_broken_install_without_docs_is_reported(tmp_path: Path) -> None:
    def missing() -> Path:
        raise FileNotFoundError("LoRA Studio's documentation folder is missing; reinstall")

    bridge = MessageBridge()
    assert HelpViewModel(bridge, open_url=Opener(), guide_file=missing).open_docs_folder() is False
    assert "documentation folder is missing" in bridge.history[-1].text
