"""View-model: the Help menu — opens the artist's guide and the documentation folder.

The guide ships with the app (`docs/` in a source tree, `resources/docs/` in a wheel or bundle;
`paths.guide_file()` knows where). It is opened with the desktop's own viewer for Markdown/text
files through QDesktopServices; when that fails, or the file is missing from a broken install,
the artist is told where the file is instead of nothing happening.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QDesktopServices

from lora_studio import __version__, paths
from lora_studio.viewmodels.message_bridge import MessageBridge

log = logging.getLogger(__name__)

OpenUrl = Callable[[QUrl], bool]


class HelpViewModel(QObject):
    def __init__(
        self,
        bridge: MessageBridge,
        open_url: OpenUrl = QDesktopServices.openUrl,
        guide_file: Callable[[], Path] = paths.guide_file,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._open_url = open_url
        self._guide_file = guide_file

    @property
    def about_text(self) -> str:
        return (
            f"LoRA Studio {__version__}\n\n"
            "Turns a folder of your pictures into a trained LoRA for Stable Diffusion 1.5, SDXL or "
            "Flux, trained on ComfyUI, Replicate or kohya sd-scripts."
        )

    def open_guide(self) -> bool:
        """Open the artist's guide; False (with a notice saying where it is) if that failed."""
        return self._open(lambda: self._guide_file(), "the artist's guide")

    def open_docs_folder(self) -> bool:
        """Open the folder with the guide, the architecture notes and the protocol notes."""
        return self._open(lambda: self._guide_file().parent, "the documentation folder")

    def _open(self, locate: Callable[[], Path], what: str) -> bool:
        try:
            target = locate()
        except FileNotFoundError as exc:
            self._bridge.error(f"Cannot open {what}: {exc}")
            return False
        if not target.exists():
            self._bridge.error(
                f"Cannot open {what}: {target} is missing. Reinstall LoRA Studio to restore it."
            )
            return False
        if not self._open_url(QUrl.fromLocalFile(str(target))):
            log.warning("the desktop could not open %s", target)
            self._bridge.warning(
                f"No program on this computer opened {what}. It is at {target} — open it with a "
                "text editor or a web browser."
            )
            return False
        return True
