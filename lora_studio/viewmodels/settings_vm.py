"""View-model: the Settings page (theme, the ComfyUI server with a connection test, the kohya
sd-scripts install with a check, data locations); saves settings atomically off the GUI thread.

Several backends of one kind can be configured (two ComfyUI servers, two kohya installs): each
kind has a *current* one, chosen by its name, that the page's fields edit; `add_backend`,
`rename_backend` and `remove_backend` manage the list (names are unique among configured
backends, as `core.backends.registry` requires)."""

from __future__ import annotations

import asyncio
import logging
import shlex
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from PySide6.QtCore import QObject, Signal

from lora_studio.core.backends.base import BackendCheck
from lora_studio.core.backends.comfyui.entry import TOKEN_SECRET as COMFYUI_TOKEN_SECRET
from lora_studio.core.config.settings import Settings, Theme, save_settings
from lora_studio.core.errors import LoraStudioError
from lora_studio.core.secrets import set_secret
from lora_studio.viewmodels.observable import Observable

log = logging.getLogger(__name__)


CheckBackend = Callable[[dict[str, object]], Awaitable[BackendCheck]]


class SettingsViewModel(QObject):
    theme_changed = Signal(str)
    error_changed = Signal(str)
    comfyui_url_changed = Signal(str)
    allow_insecure_http_changed = Signal(bool)
    connection_status_changed = Signal(str)
    kohya_sd_scripts_changed = Signal(str)
    kohya_python_changed = Signal(str)
    kohya_trainer_args_changed = Signal(str)
    kohya_status_changed = Signal(str)
    busy_changed = Signal(bool)
    backends_changed = Signal()
    saved = Signal()

    theme = Observable(Theme.SYSTEM.value)
    error = Observable("")
    comfyui_url = Observable("")
    allow_insecure_http = Observable(False)
    connection_status = Observable("")
    busy = Observable(False)
    kohya_sd_scripts = Observable("")
    kohya_python = Observable("")
    kohya_trainer_args = Observable("")
    kohya_status = Observable("")

    def __init__(
        self,
        settings: Settings,
        config_dir: Path,
        paths: dict[str, str],
        check_backend: CheckBackend | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self._config_dir = config_dir
        self._check_backend = check_backend
        self.paths = paths
        self.theme = settings.theme.value
        # kind → display name of the configured backend the page edits (first one by default)
        self._current: dict[str, str] = {}
        for kind in ("comfyui", "kohya", "replicate"):
            names = self.backend_names(kind)
            self._current[kind] = names[0] if names else kind
            self._load_fields(kind)
        self._save_task: asyncio.Task[None] | None = None
        self._save_lock: asyncio.Lock | None = None
        self._check_task: asyncio.Task[None] | None = None

    @property
    def settings(self) -> Settings:
        return self._settings

    def remember_dataset(self, folder: str) -> None:
        """The Dataset page opened `folder`: reopen it at the next start, keep it in the recent
        list (newest first, ten at most)."""
        if not folder:
            return
        recent = [folder, *(f for f in self._settings.recent_datasets if f != folder)][:10]
        if folder == self._settings.last_dataset_dir and recent == self._settings.recent_datasets:
            return
        self._settings.last_dataset_dir = folder
        self._settings.recent_datasets = recent
        self._schedule_save()

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

    def set_comfyui_url(self, text: str) -> None:
        url = text.strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.error = (
                f"'{text}' is not a server address. Use the form http://127.0.0.1:8188 "
                "(or https://… for a server on another machine)."
            )
            return
        self.error = ""
        self._update_backend("comfyui", url=url)
        self.comfyui_url = url
        self.connection_status = ""
        self.backends_changed.emit()
        self._schedule_save()

    def set_allow_insecure_http(self, allowed: bool) -> None:
        self._update_backend("comfyui", allow_insecure_http=allowed)
        self.allow_insecure_http = allowed
        self.backends_changed.emit()
        self._schedule_save()

    def _update_backend(self, kind: str, **values: object) -> None:
        """Change fields of the current backend of `kind` (added when none is configured)."""
        index = self._index_of(kind, self.current_name(kind))
        if index is None:
            self._settings.put_backend({**self._settings.backend_of_kind(kind), **values})
            return
        items = list(self._settings.backends)
        items[index] = {**items[index], **values}
        self._settings.backends = items

    # -- several backends of one kind ----------------------------------------------------------

    def backend_names(self, kind: str) -> list[str]:
        """The configured backends of `kind` by name (an unnamed one is called by its kind)."""
        return [
            str(item.get("name") or kind)
            for item in self._settings.backends
            if item.get("kind") == kind
        ]

    def current_name(self, kind: str) -> str:
        return self._current.get(kind, kind)

    def current_backend(self, kind: str) -> dict[str, object]:
        """The settings of the backend of `kind` the page edits (that kind's defaults if none)."""
        index = self._index_of(kind, self.current_name(kind))
        if index is None:
            return dict(self._settings.backend_of_kind(kind))
        return dict(self._settings.backends[index])

    def _index_of(self, kind: str, name: str) -> int | None:
        for index, item in enumerate(self._settings.backends):
            if item.get("kind") == kind and str(item.get("name") or kind) == name:
                return index
        return None

    def _load_fields(self, kind: str) -> None:
        entry = self.current_backend(kind)
        if kind == "comfyui":
            self.comfyui_url = str(entry.get("url") or "")
            self.allow_insecure_http = bool(entry.get("allow_insecure_http"))
            self.connection_status = ""
        elif kind == "kohya":
            self.kohya_sd_scripts = str(entry.get("sd_scripts") or "")
            self.kohya_python = str(entry.get("python") or "")
            args = entry.get("trainer_args")
            self.kohya_trainer_args = (
                shlex.join(str(a) for a in args or []) if isinstance(args, list) else ""
            )
            self.kohya_status = ""

    def select_backend(self, kind: str, name: str) -> None:
        """Edit the configured backend of `kind` called `name`."""
        if self._index_of(kind, name) is None or name == self.current_name(kind):
            return
        self._current[kind] = name
        self._load_fields(kind)
        self.backends_changed.emit()

    def _name_problem(self, name: str) -> str:
        if not name:
            return "Give the backend a name, e.g. “studio-gpu”."
        taken = {str(item.get("name") or item.get("kind")) for item in self._settings.backends}
        if name in taken:
            return f"A backend called “{name}” is already configured; choose another name."
        return ""

    def add_backend(self, kind: str, name: str) -> bool:
        """Configure another backend of `kind` (that kind's defaults) and edit it."""
        name = name.strip()
        problem = self._name_problem(name)
        if problem:
            self.error = problem
            return False
        self.error = ""
        from lora_studio.core.backends.registry import get_kind

        entry = get_kind(kind).default_settings().model_dump(mode="json")
        self._settings.backends = [*self._settings.backends, {**entry, "name": name}]
        self._current[kind] = name
        self._load_fields(kind)
        self.backends_changed.emit()
        self._schedule_save()
        return True

    def rename_backend(self, kind: str, old: str, new: str) -> bool:
        new = new.strip()
        index = self._index_of(kind, old)
        if index is None or new == old:
            return False
        problem = self._name_problem(new)
        if problem:
            self.error = problem
            return False
        self.error = ""
        items = list(self._settings.backends)
        items[index] = {**items[index], "name": new}
        self._settings.backends = items
        if self.current_name(kind) == old:
            self._current[kind] = new
        self.backends_changed.emit()
        self._schedule_save()
        return True

    def remove_backend(self, kind: str, name: str) -> None:
        """Forget the configured backend `name` (jobs already started keep their record)."""
        index = self._index_of(kind, name)
        if index is None:
            return
        items = list(self._settings.backends)
        del items[index]
        self._settings.backends = items
        names = self.backend_names(kind)
        self._current[kind] = names[0] if names else kind
        self._load_fields(kind)
        self.error = ""
        self.backends_changed.emit()
        self._schedule_save()

    def set_kohya(self, sd_scripts: str, python: str, trainer_args: str) -> None:
        """Where sd-scripts lives, which Python runs it, and raw extra trainer arguments."""
        try:
            args = shlex.split(trainer_args)
        except ValueError as exc:
            self.error = f"The extra trainer arguments cannot be read ({exc}); check the quotes."
            return
        self.error = ""
        self._update_backend(
            "kohya", sd_scripts=sd_scripts.strip(), python=python.strip(), trainer_args=args
        )
        self.kohya_sd_scripts, self.kohya_python = sd_scripts.strip(), python.strip()
        self.kohya_trainer_args = shlex.join(args)  # quoted as typed, so a re-edit keeps it
        self.kohya_status = ""
        self.backends_changed.emit()
        self._schedule_save()

    def test_kohya(self) -> None:
        """Ask the kohya install whether it can train (probes its Python); one sentence."""
        if self._check_backend is None:
            self.kohya_status = "Checks are not available here."
            return
        self.busy = True
        self.kohya_status = "Checking sd-scripts and its Python…"
        self._check_task = asyncio.get_running_loop().create_task(self._run_kohya_check())

    async def _run_kohya_check(self) -> None:
        assert self._check_backend is not None
        try:
            check = await self._check_backend(self.current_backend("kohya"))
        except LoraStudioError as exc:
            self.kohya_status = "✖ " + exc.user_message
            return
        finally:
            self.busy = False
        mark = "✔ " if check.available else "✖ "
        self.kohya_status = mark + " ".join((check.diagnosis, *check.warnings))

    def set_comfyui_token(self, token: str) -> None:
        """Keep a proxy token in the system keychain (never in the settings file)."""
        token = token.strip()
        if not token:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._finish_token(self._store_token(token))
            return
        # The keychain is another process (D-Bus, Keychain Services): ask it off the GUI thread.
        future = loop.run_in_executor(None, self._store_token, token)
        future.add_done_callback(lambda done: self._finish_token(done.result()))

    @staticmethod
    def _store_token(token: str) -> str:
        try:
            set_secret(COMFYUI_TOKEN_SECRET, token)
        except LoraStudioError as exc:
            return exc.user_message
        return ""

    def _finish_token(self, problem: str) -> None:
        self.error = problem
        if not problem:
            self.connection_status = "Token saved in the system keychain."
            self.backends_changed.emit()

    def test_connection(self) -> None:
        """Ask the configured ComfyUI server whether it can train; the answer is one sentence."""
        if self._check_backend is None:
            self.connection_status = "Connection tests are not available here."
            return
        self.busy = True
        self.connection_status = f"Contacting {self.comfyui_url}…"
        self._check_task = asyncio.get_running_loop().create_task(self._run_check())

    async def _run_check(self) -> None:
        assert self._check_backend is not None
        try:
            check = await self._check_backend(self.current_backend("comfyui"))
        except LoraStudioError as exc:
            self.connection_status = "✖ " + exc.user_message
            return
        finally:
            self.busy = False
        mark = "✔ " if check.available else "✖ "
        self.connection_status = mark + " ".join((check.diagnosis, *check.warnings))

    def _schedule_save(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # No loop (self-test, scripts): save synchronously; the file is tiny.
            self._save_now()
            return
        self._save_task = loop.create_task(self._run_save())

    async def _run_save(self) -> None:
        # One save at a time, each taking its snapshot when its turn comes: two quick edits
        # saved by two worker threads could otherwise land in the wrong order (older last).
        if self._save_lock is None:
            self._save_lock = asyncio.Lock()
        async with self._save_lock:
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
