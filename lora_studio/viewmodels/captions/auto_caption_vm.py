"""View-model: the auto-caption dialog — provider, server address, model (listed from the server
where it can), prompt presets, overwrite policy, concurrency and trigger word; the run with
per-picture status, time left, Cancel, and Retry failed.

The run is `core.captioning.runner.run_auto_caption` on the GUI thread's event loop: network I/O is
async, image encoding happens in the provider's worker threads, and each finished caption is
written by the runner through the dataset's CaptionStore (thread-safe; the whole run is one undo
step). Every outcome updates one status row and the session's copy of that caption, so the grid,
the editor and the tag table follow live. The provider, address and model are remembered in the
settings (never a key: keys live in the keychain or the environment).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from lora_studio.core.captioning.estimate import AutoCaptionEstimate
from lora_studio.core.captioning.prompts import PROMPT_PRESETS
from lora_studio.core.captioning.providers.base import CaptionProvider
from lora_studio.core.captioning.providers.registry import (
    PROVIDER_INFO,
    PROVIDER_KINDS,
    build_provider,
)
from lora_studio.core.captioning.providers.template import DEFAULT_TEMPLATE, check_template
from lora_studio.core.captioning.runner import (
    AutoCaptionOptions,
    CaptionOutcome,
    OverwriteMode,
    estimate_auto_caption,
    run_auto_caption,
)
from lora_studio.core.config.settings import Settings
from lora_studio.core.dataset.concurrency import CancelToken
from lora_studio.core.errors import LoraStudioError
from lora_studio.core.jobs import format_clock
from lora_studio.core.secrets import get_secret, set_secret
from lora_studio.viewmodels.captions.session import CaptionSession
from lora_studio.viewmodels.captions.status_model import AutoCaptionStatusModel, ImageStatus
from lora_studio.viewmodels.observable import Observable

log = logging.getLogger(__name__)

MODE_TITLES = {
    OverwriteMode.MISSING.value: "Only pictures without a caption",
    OverwriteMode.OVERWRITE.value: "Replace every caption",
    OverwriteMode.APPEND.value: "Add to the existing captions",
}
PROVIDER_TITLES = [(kind, PROVIDER_INFO[kind].title) for kind in PROVIDER_KINDS]
SaveSettings = Callable[[Settings], None]


class AutoCaptionViewModel(QObject):
    """State and commands of the auto-caption dialog (see the module docstring)."""

    provider_changed = Signal(str)
    provider_help_changed = Signal(str)
    url_changed = Signal(str)
    model_changed = Signal(str)
    models_changed = Signal(list)
    models_status_changed = Signal(str)
    needs_url_changed = Signal(bool)
    lists_models_changed = Signal(bool)
    uses_prompt_changed = Signal(bool)
    needs_key_changed = Signal(bool)
    uses_template_changed = Signal(bool)
    key_status_changed = Signal(str)
    preset_changed = Signal(str)
    prompt_changed = Signal(str)
    template_changed = Signal(str)
    mode_changed = Signal(str)
    concurrency_changed = Signal(int)
    trigger_changed = Signal(str)
    max_tokens_changed = Signal(int)
    use_selection_changed = Signal(bool)
    selection_count_changed = Signal(int)
    estimate_text_changed = Signal(str)
    running_changed = Signal(bool)
    progress_value_changed = Signal(int)
    progress_maximum_changed = Signal(int)
    progress_text_changed = Signal(str)
    summary_changed = Signal(str)
    can_retry_changed = Signal(bool)
    error_changed = Signal(str)
    finished = Signal(bool)  # True when the run went through every picture (not cancelled/stopped)

    provider = Observable("template")
    provider_help = Observable("")
    url = Observable("")
    model = Observable("")
    models = Observable([])
    models_status = Observable("")
    needs_url = Observable(False)
    lists_models = Observable(False)
    uses_prompt = Observable(False)
    needs_key = Observable(False)
    uses_template = Observable(False)
    key_status = Observable("")
    preset = Observable("")
    prompt = Observable("")
    template = Observable(DEFAULT_TEMPLATE)
    mode = Observable(OverwriteMode.MISSING.value)
    concurrency = Observable(4)
    trigger = Observable("")
    max_tokens = Observable(0)  # 0: no limit
    use_selection = Observable(False)
    selection_count = Observable(0)
    estimate_text = Observable("")
    running = Observable(False)
    progress_value = Observable(0)
    progress_maximum = Observable(0)
    progress_text = Observable("")
    summary = Observable("")
    can_retry = Observable(False)
    error = Observable("")

    def __init__(
        self,
        session: CaptionSession,
        executor: Executor | None,
        *,
        settings: Settings | None = None,
        save_settings: SaveSettings | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.status_model = AutoCaptionStatusModel(self)
        self._executor = executor
        self._settings = settings
        self._save_settings = save_settings
        self._selection: list[Path] = []
        self._token: CancelToken | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._models_task: asyncio.Task[None] | None = None
        self._key_task: asyncio.Task[None] | None = None
        self._settings_task: asyncio.Task[None] | None = None
        self._pending_settings: Settings | None = None
        self._started = 0.0
        first_preset = next(iter(PROMPT_PRESETS))
        self.preset = first_preset
        self.prompt = PROMPT_PRESETS[first_preset]
        remembered = getattr(settings, "caption_provider", None) if settings else None
        self._apply_provider(remembered if remembered in PROVIDER_INFO else "template")

    @property
    def run_task(self) -> asyncio.Task[None] | None:
        return self._run_task

    @property
    def models_task(self) -> asyncio.Task[None] | None:
        return self._models_task

    # -- choices -----------------------------------------------------------------------------------
    def prepare(self, selection: Sequence[str], trigger_word: str = "") -> None:
        """The dialog opens: the selected pictures and the dataset's trigger word."""
        if self.running:
            return
        self._selection = [Path(p) for p in selection]
        self.selection_count = len(self._selection)
        self.use_selection = len(self._selection) > 1
        if trigger_word:
            self.trigger = trigger_word
        self._update_estimate()
        if self.lists_models:
            self.refresh_models()

    def set_provider(self, kind: str) -> None:
        if kind not in PROVIDER_INFO:
            self.error = f"Unknown caption provider “{kind}”."
            return
        if kind != self.provider:
            self._apply_provider(kind)
            self._remember()
            if self.lists_models:
                self.refresh_models()

    def set_url(self, url: str) -> None:
        if url.strip() != self.url:
            self.url = url.strip()
            self._remember()
            self._update_estimate()

    def set_model(self, model: str) -> None:
        if model.strip() != self.model:
            self.model = model.strip()
            self._remember()
            self._update_estimate()

    def set_preset(self, name: str) -> None:
        if name in PROMPT_PRESETS:
            self.preset = name
            self.prompt = PROMPT_PRESETS[name]

    def set_prompt(self, text: str) -> None:
        self.prompt = text

    def set_template(self, text: str) -> None:
        self.template = text

    def set_mode(self, mode: str) -> None:
        if mode in MODE_TITLES:
            self.mode = mode
            self._update_estimate()

    def set_concurrency(self, value: int) -> None:
        self.concurrency = max(1, min(int(value), 16))
        self._update_estimate()

    def set_trigger(self, text: str) -> None:
        self.trigger = text.strip()

    def set_max_tokens(self, value: int) -> None:
        self.max_tokens = max(0, int(value))

    def set_use_selection(self, use: bool) -> None:
        self.use_selection = use and bool(self._selection)
        self._update_estimate()

    # -- keys and models ---------------------------------------------------------------------------
    def set_api_key(self, key: str) -> None:
        """Keep the provider's key in the system keychain (asked off the GUI thread)."""
        info = PROVIDER_INFO[self.provider]
        key = key.strip()
        if not key or info.keychain_name is None:
            return
        loop = asyncio.get_running_loop()
        self._key_task = loop.create_task(self._run_store_key(info.keychain_name, key))

    async def _run_store_key(self, name: str, key: str) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, set_secret, name, key)
        except LoraStudioError as exc:
            self.error = exc.user_message
            return
        self.key_status = "Key saved in the system keychain."
        if self.lists_models:
            self.refresh_models()

    def refresh_models(self) -> None:
        """Ask the server which models it has (and whether it answers at all)."""
        if self._models_task is not None and not self._models_task.done():
            self._models_task.cancel()
        self.models_status = f"Asking {self.url or 'the server'}…"
        loop = asyncio.get_running_loop()
        self._models_task = loop.create_task(self._run_models(self.provider))

    async def _run_models(self, kind: str) -> None:
        try:
            provider = await self._build(kind, url=self.url or None, model=self.model or None)
        except LoraStudioError as exc:
            self.models_status = "✖ " + exc.user_message
            return
        try:
            ok, sentence = await provider.available()
            models = await provider.models() if ok else []
        except LoraStudioError as exc:
            ok, sentence, models = False, exc.user_message, []
        finally:
            await provider.aclose()
        if kind != self.provider:
            return
        self.models = models
        if ok and models and not self.model:
            self.model = models[0]
        self.models_status = ("✔ " if ok else "✖ ") + sentence

    # -- run ---------------------------------------------------------------------------------------
    def start(self) -> None:
        """Caption the chosen pictures; finished captions are kept even if the run stops."""
        self._start(self._scope())

    def retry_failed(self) -> None:
        """Run again over the pictures that failed last time (same settings)."""
        self._start(self.status_model.paths_with(ImageStatus.FAILED), mode=OverwriteMode.OVERWRITE)

    def cancel(self) -> None:
        if self._token is not None and not self._token.cancelled:
            self._token.cancel()
            self.progress_text = "Cancelling — finished captions are kept…"

    def _start(self, images: list[Path], *, mode: OverwriteMode | None = None) -> None:
        if self.running:
            return
        if not self.session.loaded:
            self.error = "Open a dataset folder first."
            return
        if not images:
            self.error = "There are no pictures to caption."
            return
        settings = {
            "url": self.url or None,
            "model": self.model or None,
            "template": self.template,
            "trigger": self.trigger,
        }
        if self.provider == "template":
            try:  # cheap, and a bad pattern is best said before anything starts
                check_template(self.template)
            except LoraStudioError as exc:
                self.error = exc.user_message
                return
        options = AutoCaptionOptions(
            prompt=self.prompt,
            mode=mode or OverwriteMode(self.mode),
            concurrency=self.concurrency,
            trigger=self.trigger or None,
            max_tokens=self.max_tokens or None,
            max_chars=None,
        )
        self.error = ""
        self.summary = ""
        self.can_retry = False
        self.status_model.set_images(images)
        self.progress_maximum = len(images)
        self.progress_value = 0
        self.progress_text = f"Captioning 0 of {len(images):,}…"
        self.running = True
        self._token = CancelToken()
        self._started = time.monotonic()
        loop = asyncio.get_running_loop()
        self._run_task = loop.create_task(
            self._run(self.provider, settings, images, options, self._token)
        )

    async def _build(self, kind: str, **settings: Any) -> CaptionProvider:
        """Make the provider in the executor (see `_make_provider`)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(_make_provider, kind, **settings)
        )

    async def _run(
        self,
        kind: str,
        settings: dict[str, Any],
        images: list[Path],
        options: AutoCaptionOptions,
        token: CancelToken,
    ) -> None:
        completed = False
        provider: CaptionProvider | None = None
        loop = asyncio.get_running_loop()
        gui_thread = threading.current_thread()

        def on_outcome(outcome: CaptionOutcome) -> None:
            if threading.current_thread() is gui_thread:
                self._handle_outcome(outcome)
            else:
                loop.call_soon_threadsafe(self._handle_outcome, outcome)

        try:
            provider = await self._build(kind, **settings)
            await self.session.flush_all()
            store = self.session.store
            if store is None:
                raise LoraStudioError("The dataset was closed before the run started.")
            await run_auto_caption(
                provider, store, images, options, cancel=token, on_outcome=on_outcome
            )
            completed = not token.cancelled
        except LoraStudioError as exc:
            self.error = exc.user_message
        except Exception:
            # A bug: the crash dialog gets the traceback (the loop's handler); the artist sees
            # that the run stopped, and every caption finished so far is on disk.
            self.error = "Auto-caption stopped because of an internal error; see the crash report."
            raise
        finally:
            if provider is not None:
                await provider.aclose()
            self._token = None
            self.running = False
            self._finish_summary(token.cancelled, stopped=bool(self.error))
            self.session.refresh_history()
            self.finished.emit(completed)

    def _handle_outcome(self, outcome: CaptionOutcome) -> None:
        status = ImageStatus(outcome.status)
        detail = outcome.reason or "" if status is not ImageStatus.OK else outcome.caption or ""
        self.status_model.set_status(outcome.image, status, detail)
        if status is ImageStatus.OK and outcome.caption is not None:
            self.session.note_written(outcome.image, outcome.caption)
        done = self.progress_value + 1
        self.progress_value = done
        total = self.progress_maximum
        elapsed = time.monotonic() - self._started
        left = elapsed / done * (total - done) if done else 0.0
        if self._token is None or not self._token.cancelled:
            self.progress_text = f"Captioned {done:,} of {total:,} · {format_clock(left)} left"

    def _finish_summary(self, cancelled: bool, *, stopped: bool = False) -> None:
        model = self.status_model
        ok, failed = model.count(ImageStatus.OK), model.count(ImageStatus.FAILED)
        skipped, waiting = model.count(ImageStatus.SKIPPED), model.count(ImageStatus.WAITING)
        parts = [f"{ok:,} captioned"]
        if skipped:
            parts.append(f"{skipped:,} skipped (already captioned)")
        if failed:
            parts.append(f"{failed:,} failed")
        if waiting:
            parts.append(f"{waiting:,} not reached")
        head = "Cancelled" if cancelled else "Stopped" if stopped else "Done"
        self.summary = f"{head}: {', '.join(parts)}." + (" Undo with Ctrl+Z." if ok else "")
        self.progress_text = ""
        self.can_retry = failed > 0

    # -- helpers -----------------------------------------------------------------------------------
    def _scope(self) -> list[Path]:
        if self.use_selection:
            return [p for p in self._selection if p in self.session.captions]
        return self.session.images()

    def _apply_provider(self, kind: str) -> None:
        info = PROVIDER_INFO[kind]
        settings = self._settings
        urls = getattr(settings, "caption_urls", {}) if settings else {}
        models = getattr(settings, "caption_models", {}) if settings else {}
        self.provider = kind
        self.provider_help = info.help
        self.needs_url = info.default_url is not None
        self.lists_models = info.lists_models
        self.uses_prompt = info.uses_prompt
        self.needs_key = info.needs_key
        self.uses_template = kind == "template"
        self.url = urls.get(kind) or info.default_url or ""
        self.model = models.get(kind) or info.default_model or ""
        self.models = []
        self.models_status = ""
        self.key_status = self._describe_key(kind)
        self._update_estimate()

    def _describe_key(self, kind: str) -> str:
        info = PROVIDER_INFO[kind]
        if not info.needs_key:
            return ""
        for name in info.key_env_vars:
            if get_secret(name, name):
                return f"Using the key from the environment variable {name}."
        if info.keychain_name and get_secret(info.keychain_name):
            return "Using the key saved in the system keychain."
        names = " or ".join(info.key_env_vars)
        return f"No key yet: paste one below (kept in the keychain) or set {names}."

    def _remember(self) -> None:
        settings = self._settings
        if settings is None or self._save_settings is None:
            return
        try:
            settings.caption_provider = self.provider  # type: ignore[attr-defined]
            settings.caption_urls = {**settings.caption_urls, self.provider: self.url}  # type: ignore[attr-defined]
            settings.caption_models = {**settings.caption_models, self.provider: self.model}  # type: ignore[attr-defined]
        except (AttributeError, ValueError) as exc:
            log.info("caption provider not remembered: %s", exc)
            return
        self._pending_settings = settings.model_copy(deep=True)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        # Settings are a file: written in the executor (like the Settings page does), one save at
        # a time and always the newest snapshot last, so an older choice never wins.
        if self._settings_task is None or self._settings_task.done():
            self._settings_task = loop.create_task(self._run_save_settings())

    async def _run_save_settings(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending_settings is not None and self._save_settings is not None:
            snapshot, self._pending_settings = self._pending_settings, None
            try:
                await loop.run_in_executor(self._executor, self._save_settings, snapshot)
            except LoraStudioError as exc:
                log.info("caption settings not saved: %s", exc.user_message)

    def _update_estimate(self) -> None:
        images = self._scope()
        if self.mode == OverwriteMode.MISSING.value:
            captions = self.session.captions
            images = [p for p in images if not captions.get(p, "").strip()]
        count = len(images)
        if count == 0:
            self.estimate_text = "Every chosen picture already has a caption."
            return
        estimate = estimate_auto_caption(
            self.provider,
            count,
            self.concurrency,
            model=self.model or None,
            url=self.url or None,
        )
        self.estimate_text = _describe_estimate(count, estimate)


def _make_provider(kind: str, **settings: Any) -> CaptionProvider:
    """Worker thread: the provider, with what its first request would otherwise load on the GUI
    thread — the HTTP client reads the CA bundle (~50-80 ms) and anyio imports its asyncio
    backend (~0.2 s, measured with benchmarks/bench_captions_gui_stall.py)."""
    if kind != "template":
        with contextlib.suppress(ImportError):
            importlib.import_module("anyio._backends._asyncio")
    return build_provider(kind, **settings)


def _describe_estimate(count: int, estimate: AutoCaptionEstimate) -> str:
    return f"{count:,} picture{'s' if count != 1 else ''}. {estimate.describe()}"
