"""View: the main window's Help menu — the artist's guide (F1), the documentation folder, About.

Only forwards clicks to the HelpViewModel; the About box is a plain window-modal message opened
from a menu action (never from inside a coroutine).
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox

from lora_studio.viewmodels.help_vm import HelpViewModel


def install_help_menu(window: QMainWindow, vm: HelpViewModel) -> QMenu:
    menu = window.menuBar().addMenu("&Help")
    menu.setObjectName("HelpMenu")
    guide = QAction("Artist's &guide", window)
    guide.setObjectName("OpenGuideAction")
    guide.setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))
    if guide.shortcut().isEmpty():  # some platforms define no standard help key
        guide.setShortcut(QKeySequence("F1"))
    guide.setStatusTip("Pictures, captions, settings per model, troubleshooting, performance")
    guide.triggered.connect(vm.open_guide)
    menu.addAction(guide)
    folder = QAction("&Documentation folder", window)
    folder.setObjectName("OpenDocsFolderAction")
    folder.setStatusTip("The guide, the architecture notes and the protocol notes")
    folder.triggered.connect(vm.open_docs_folder)
    menu.addAction(folder)
    menu.addSeparator()
    about = QAction("&About LoRA Studio", window)
    about.setObjectName("AboutAction")
    about.triggered.connect(lambda: QMessageBox.about(window, "About LoRA Studio", vm.about_text))
    menu.addAction(about)
    return menu
