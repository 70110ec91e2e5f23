"""View-model: the Train wizard's backend step — where to train, and can it train this?

"Check" asks the training service whether the chosen backend can train right now (one sentence
of diagnosis, the GPU and its memory, the checkpoints it offers), then — when it can — has the
backend validate the configuration and dataset against its own limits. The choices are the
kinds in `core.backends.registry`.

The result is tied to the configuration and dataset it was computed for (`is_current`), so
changing a setting and coming back re-validates instead of trusting an old answer.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from lora_studio.core.backends.base import BackendCheck
from lora_studio.core.backends.registry import backend_kinds
from lora_studio.core.config.issues import Issue
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.errors import LoraStudioError
from lora_studio.core.jobs import Job
from lora_studio.core.training.dataset_input import TrainingDataset
from lora_studio.core.training.service import TrainingService
from lora_studio.viewmodels.issue_text import issue_text
from lora_studio.viewmodels.observable import Observable
from lora_studio.viewmodels.train.background import BackgroundWork

log = logging.getLogger(__name__)

NOT_YET = "Not available in this version yet."


@dataclass(frozen=True)
class BackendChoice:
    kind: str
    title: str
    available: bool
    note: str


NOTHING_TO_REPORT = "Nothing to report."
NOT_ASKED = "Asked once the backend answers: press Check when it is running."


def backend_choices() -> tuple[BackendChoice, ...]:
    """Every kind the registry knows, in its order."""
    return tuple(
        BackendChoice(entry.kind, entry.title, True, entry.description) for entry in backend_kinds()
    )


BACKEND_CHOICES = backend_choices()
_CHOICES = {choice.kind: choice for choice in BACKEND_CHOICES}


def gpu_text(check: BackendCheck) -> str:
    if check.gpu_name and check.vram_gb:
        return f"{check.gpu_name} · {check.vram_gb:.1f} GB"
    if check.vram_gb:
        return f"{check.vram_gb:.1f} GB of GPU memory"
    if not check.gpu_name and check.facts.get("device") == "cpu":
        return "None: it trains on the CPU."
    return check.gpu_name or "The backend did not report a GPU."


class BackendStepViewModel(QObject):
    """The chosen backend, its last check (diagnosis, GPU, checkpoints) and validation messages."""

    error_changed = Signal(str)
    busy_changed = Signal(bool)
    kind_changed = Signal(str)
    backend_name_changed = Signal(str)
    diagnosis_changed = Signal(str)
    available_changed = Signal(bool)
    gpu_text_changed = Signal(str)
    vram_gb_changed = Signal(float)
    checkpoints_changed = Signal(list)
    messages_changed = Signal(list)
    messages_placeholder_changed = Signal(str)
    has_errors_changed = Signal(bool)
    status_level_changed = Signal(str)
    check_finished = Signal()

    error = Observable("")
    busy = Observable(False)
    kind = Observable("comfyui")
    backend_name = Observable("")  # which configured backend of the kind ("" → the first)
    diagnosis = Observable("Not checked yet.")
    available = Observable(False)
    gpu_text = Observable("")
    vram_gb = Observable(0.0)  # 0: unknown
    checkpoints = Observable([])
    messages = Observable([])  # (level, text): check warnings, then the backend's issues
    messages_placeholder = Observable(NOT_ASKED)  # what the empty list of messages says
    has_errors = Observable(False)
    status_level = Observable("")  # "" not checked or checking, "ok" available, "error" not

    def __init__(
        self, training: TrainingService, executor: Executor, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._training = training
        self._work = BackgroundWork(executor)
        self.choices = BACKEND_CHOICES
        self._generation = 0
        self.last_check: BackendCheck | None = None
        # What the current messages were validated for: ("kind/name", config JSON, dataset).
        self._validated: tuple[str, str, TrainingDataset] | None = None

    def is_current(self, config: TrainingConfig, dataset: TrainingDataset | None) -> bool:
        """The last check validated exactly this configuration and dataset on this backend."""
        if self._validated is None or dataset is None:
            return False
        kind, config_json, checked = self._validated
        current = f"{self.kind}/{self.backend_name}"
        return kind == current and config_json == config.model_dump_json() and checked is dataset

    @property
    def is_ready(self) -> bool:
        return self.available and not self.has_errors and not self.busy

    def select(self, kind: str) -> None:
        choice = _CHOICES.get(kind)
        if choice is None or not choice.available:
            title = choice.title if choice else kind
            self.error = f"{title}: {NOT_YET}"
            return
        if kind != self.kind:
            self.kind = kind
            self.backend_name = ""
            self._forget_check()

    def names(self) -> list[str]:
        """The configured backends of the chosen kind (two ComfyUI servers: both names)."""
        return self._training.configured_names(self.kind)

    def select_name(self, name: str) -> None:
        """Train on the configured backend `name` of the chosen kind."""
        if name != self.backend_name and name in self.names():
            self.backend_name = name
            self._forget_check()

    def _forget_check(self) -> None:
        self._validated = None
        self.messages_placeholder = NOT_ASKED
        self.diagnosis = "Not checked yet."
        self.status_level = ""
        self.available = False

    def check(
        self, config: TrainingConfig | None = None, dataset: TrainingDataset | None = None
    ) -> None:
        """Ask the backend; with a config and dataset, also let it validate them."""
        self._generation += 1
        self.error = ""
        self._validated = None
        self.busy = True
        self.diagnosis = "Checking…"
        self.status_level = ""
        self._work.spawn(
            self._run_check(self._generation, self.kind, self.backend_name, config, dataset)
        )

    def shutdown(self) -> None:
        self._work.cancel()

    async def _run_check(
        self,
        generation: int,
        kind: str,
        name: str,
        config: TrainingConfig | None,
        dataset: TrainingDataset | None,
    ) -> None:
        try:
            result = await self._training.check(kind, name or None)
        except LoraStudioError as exc:  # e.g. a proxy token that is not stored
            result = BackendCheck(available=False, diagnosis=exc.user_message)
        if generation != self._generation:
            return
        issues: list[Issue] = []
        problem = ""
        if result.available and config is not None and dataset is not None:
            job = Job(
                name=config.output_name,
                backend=kind,
                dataset_path=str(dataset.folder),
                config=config,
            )
            try:
                issues = await self._training.validate(job, config, dataset, name or None)
            except LoraStudioError as exc:
                problem = exc.user_message
            if generation != self._generation:
                return
        self._show(result, issues, problem)
        if result.available and config is not None and dataset is not None and not problem:
            self._validated = (f"{kind}/{name}", config.model_dump_json(), dataset)
        self.busy = False
        self.check_finished.emit()

    def _show(self, result: BackendCheck, issues: list[Issue], problem: str) -> None:
        self.last_check = result if result.available else None  # the review's estimate uses it
        self.diagnosis = result.diagnosis
        self.available = result.available
        self.status_level = "ok" if result.available else "error"
        self.gpu_text = gpu_text(result) if result.available else ""
        self.vram_gb = float(result.vram_gb or 0.0)
        self.checkpoints = list(result.checkpoints)
        messages = [["warning", text] for text in result.warnings]
        messages += [["error" if i.is_error else "warning", issue_text(i)] for i in issues]
        # Errors first: they are what blocks Next.
        self.messages = sorted(messages, key=lambda message: message[0] != "error")
        # "Nothing to report" only when the backend was asked about these settings.
        self.messages_placeholder = NOTHING_TO_REPORT if result.available else NOT_ASKED
        self.has_errors = any(level == "error" for level, _ in messages)
        self.error = problem
