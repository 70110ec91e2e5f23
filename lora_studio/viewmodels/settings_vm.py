"""View-model: the Settings page (theme, data locations); saves settings atomically off the GUI thread."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from lora_studio.core.config.settings import Settings, Theme, save_settings
from lora_studio.core.errors import LoraStudioError
from lora_studio.viewmodels.observable import Observable

log = logging.getLogger(__name__)


class SettingsViewModel(QObject):
    theme_changed = Signal(str)
    error_changed = Signal(str)
    saved = Signal()

    theme = Observable(Theme.SYSTEM.value)
    error = Observable("")

    def __init__(
        self,
        settings: Settings,
        config_dir: Path,
        paths: dict[str, str],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self._config_dir = config_dir
        self.paths = paths
        self.theme = settings.theme.value
        self._save_task: asyncio.Task[None] | None = None

    @property
    def settings(self) -> Settings:
        return self._settings

    def set_theme(self, value: str) -> None:
        try:
            theme = Theme(value)
        except ValueError:
            self.error = f"Unknown theme '{value}'. Choose system, light or dark."
            return
        self.error = ""
        self._settings.theme = theme
        self.theme = theme.value
        self._schedule_save()

    def _schedule_save(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # No loop (self-test, scripts): save synchronously; the file is tiny.
            self._save_now()
            return
        self._save_task = loop.create_task(self._run_save())

    async def _run_save(self) -> None:
        snapshot = self._settings.model_copy(deep=True)
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, save_settings, self._config_dir, snapshot)
        except LoraStudioError as exc:
            self.error = exc.user_message
            return
        self.saved.emit()

    def _save_now(self) -> None:
        try:
            save_settings(self._config_dir, self._settings)
        except LoraStudioError as exc:
            self.error = exc.user_message
            return
        self.saved.emit()
