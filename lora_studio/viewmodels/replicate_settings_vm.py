"""View-model: the Replicate part of the Settings page — the API token (to the keychain, never a
file), the destination model, the consent to create it when missing, and a Check.

It edits the current Replicate backend (the one chosen on the page, when several are configured)
through the Settings view-model, which saves the settings and tells the training service
(`backends_changed`); another one chosen there reloads the fields.
"""

from __future__ import annotations

import asyncio
import re

from PySide6.QtCore import QObject, Signal

from lora_studio.core.backends.replicate.entry import TOKEN_SECRET
from lora_studio.core.errors import LoraStudioError
from lora_studio.core.secrets import set_secret
from lora_studio.viewmodels.observable import Observable
from lora_studio.viewmodels.settings_vm import SettingsViewModel

_MODEL_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


class ReplicateSettingsViewModel(QObject):
    destination_changed = Signal(str)
    create_destination_changed = Signal(bool)
    status_changed = Signal(str)
    error_changed = Signal(str)
    busy_changed = Signal(bool)

    destination = Observable("")
    create_destination = Observable(False)
    status = Observable("")
    error = Observable("")
    busy = Observable(False)

    def __init__(self, settings_vm: SettingsViewModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings_vm = settings_vm
        self._load()
        self._task: asyncio.Task[None] | None = None
        settings_vm.backends_changed.connect(self._load)

    def _load(self) -> None:
        current = self._settings_vm.current_backend("replicate")
        self.destination = str(current.get("destination") or "")
        self.create_destination = bool(current.get("create_destination"))

    def _update(self, **values: object) -> None:
        self._settings_vm._update_backend("replicate", **values)
        self.status = ""
        self._settings_vm.backends_changed.emit()
        self._settings_vm._schedule_save()

    def set_destination(self, text: str) -> None:
        value = text.strip()
        if value and not _MODEL_REF.match(value):
            self.error = (
                f"“{value}” is not a Replicate model; write it as OWNER/NAME, e.g. alice/my-lora."
            )
            return
        self.error = ""
        if value != self.destination:
            self.destination = value
            self._update(destination=value)

    def set_create_destination(self, allowed: bool) -> None:
        if allowed != self.create_destination:
            self.create_destination = allowed
            self._update(create_destination=allowed)

    def set_token(self, token: str) -> None:
        """Keep the API token in the system keychain, off the GUI thread."""
        token = token.strip()
        if not token:
            return
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(None, _store_token, token)
        future.add_done_callback(lambda done: self._token_stored(done.result()))

    def _token_stored(self, problem: str) -> None:
        self.error = problem
        if not problem:
            self.status = "API token saved in the system keychain."
            self._settings_vm.backends_changed.emit()

    def check(self) -> None:
        """Ask Replicate: token valid, trainer reachable, destination present; one sentence each."""
        checker = self._settings_vm._check_backend
        if checker is None:
            self.status = "Checks are not available here."
            return
        self.busy = True
        self.status = "Asking Replicate…"
        self._task = asyncio.get_running_loop().create_task(self._run_check())

    async def _run_check(self) -> None:
        checker = self._settings_vm._check_backend
        assert checker is not None
        try:
            check = await checker(self._settings_vm.current_backend("replicate"))
        except LoraStudioError as exc:
            self.status = "✖ " + exc.user_message
            return
        finally:
            self.busy = False
        mark = "✔ " if check.available else "✖ "
        self.status = mark + " ".join((check.diagnosis, *check.warnings))


def _store_token(token: str) -> str:
    try:
        set_secret(TOKEN_SECRET, token)
    except LoraStudioError as exc:
        return exc.user_message
    return ""
