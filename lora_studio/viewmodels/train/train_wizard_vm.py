"""View-model: the Train wizard — Dataset → Captions check → Preset and parameters →
Backend → Review and start (docs/architecture.md §6.1).

Owns one view-model per part (`dataset` serves the first two steps), the current step, and
`can_advance` with a sentence saying what is missing (`advance_hint`). State lives here, not in
the page, so switching pages loses nothing. Entering a step starts the work it needs: presets and a
quiet backend check (for the base-model list) on the parameters step, a backend check and
validation of exactly these settings on the backend step, the estimate on the review step.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from lora_studio.core.backends.registry import get_kind
from lora_studio.core.config.wizard_draft import WizardDraft, load_draft, save_draft
from lora_studio.core.errors import LoraStudioError
from lora_studio.core.training.service import TrainingService
from lora_studio.viewmodels.message_bridge import MessageBridge
from lora_studio.viewmodels.observable import Observable
from lora_studio.viewmodels.train.backend_step_vm import BackendStepViewModel
from lora_studio.viewmodels.train.background import BackgroundWork, has_running_loop
from lora_studio.viewmodels.train.dataset_step_vm import DatasetStepViewModel
from lora_studio.viewmodels.train.parameters_step_vm import ParametersStepViewModel
from lora_studio.viewmodels.train.review_step_vm import ReviewPlan, ReviewStepViewModel

log = logging.getLogger(__name__)

STEP_DATASET, STEP_CAPTIONS, STEP_PARAMETERS, STEP_BACKEND, STEP_REVIEW = range(5)
STEP_TITLES = ("Dataset", "Captions check", "Preset & parameters", "Backend", "Review & start")


class TrainWizardViewModel(QObject):
    """The wizard: its step parts (`dataset`, `parameters`, `backend`, `review`) and navigation.

    `job_started(job_id)` fires after a successful Start, for the window to show the Jobs page.
    """

    step_changed = Signal(int)
    can_advance_changed = Signal(bool)
    can_go_back_changed = Signal(bool)
    advance_hint_changed = Signal(str)
    busy_changed = Signal(bool)
    job_started = Signal(str)

    step = Observable(STEP_DATASET)
    can_advance = Observable(False)
    can_go_back = Observable(False)
    advance_hint = Observable("Choose a dataset folder with your training images.")
    busy = Observable(False)

    def __init__(
        self,
        training: TrainingService,
        executor: Executor,
        config_dir: Path,
        bridge: MessageBridge,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._config_dir = config_dir
        self._executor = executor
        self._restoring = False
        self._draft_work = BackgroundWork(executor)
        # Saving is debounced: typing a value writes the draft once, half a second later.
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(500)
        self._save_timer.timeout.connect(self._save_draft)
        self.step_titles = STEP_TITLES
        self.parameters = ParametersStepViewModel(config_dir, executor, self)
        self.dataset = DatasetStepViewModel(executor, lambda: self.parameters.config, self)
        self.backend = BackendStepViewModel(training, executor, self)
        self.review = ReviewStepViewModel(training, executor, bridge, self)

        self.dataset.loaded.connect(self._handle_dataset_loaded)
        self.backend.checkpoints_changed.connect(self.parameters.set_checkpoints)
        self.review.job_started.connect(self.job_started)
        for signal in (
            self.dataset.busy_changed,
            self.dataset.needs_acknowledgement_changed,
            self.dataset.acknowledged_changed,
            self.dataset.loaded,
            self.parameters.busy_changed,
            self.parameters.is_valid_changed,
            self.parameters.field_errors_changed,
            self.backend.busy_changed,
            self.backend.available_changed,
            self.backend.has_errors_changed,
            self.backend.check_finished,
            self.review.busy_changed,
        ):
            signal.connect(self._refresh)
        for signal in (
            self.dataset.loaded,
            self.parameters.selected_preset_changed,
            self.parameters.values_changed,
        ):
            signal.connect(self._draft_changed)
        self._refresh()

    # -- intent --------------------------------------------------------------------------------

    def load(self) -> None:
        """Read the presets and the saved draft; the app calls this once after building the page."""
        draft = load_draft(self._config_dir)  # one small JSON file
        self._restoring = True
        try:
            self.parameters.restore(draft.preset, draft.edits)
            self.parameters.load()
            if draft.folder and Path(draft.folder).is_dir():
                self.set_dataset_folder(draft.folder)
        finally:
            self._restoring = False

    def load_job(self, folder: str, preset: str, config: dict[str, object]) -> None:
        """Fill the wizard in from an earlier job ("Edit as new" on the Jobs page): its dataset
        folder, preset and every setting the wizard shows, ready to change and start again."""
        edits = {
            name: str(value)
            for name, value in config.items()
            if isinstance(value, str | int | float) and not isinstance(value, bool)
        }
        prompts = config.get("sample_prompts")
        if isinstance(prompts, list) and prompts:
            edits["sample_prompts"] = " | ".join(str(prompt) for prompt in prompts)
        self.parameters.restore(preset, edits)
        if folder:
            self.set_dataset_folder(folder)
        self._draft_changed()

    def _draft_changed(self, *_args: object) -> None:
        if not self._restoring:
            self._save_timer.start()

    def draft(self) -> WizardDraft:
        return WizardDraft(
            folder=self.dataset.folder,
            preset=self.parameters.selected_preset,
            edits=self.parameters.edits,
        )

    def _save_draft(self) -> None:
        draft = self.draft()
        if not has_running_loop():
            self._write_draft(draft)
            return
        self._draft_work.spawn(self._run_save_draft(draft))

    async def _run_save_draft(self, draft: WizardDraft) -> None:
        await self._draft_work.blocking(self._write_draft, draft)

    def _write_draft(self, draft: WizardDraft) -> None:
        try:
            save_draft(self._config_dir, draft)
        except LoraStudioError as exc:
            # The wizard still works; only the draft is not kept. Say so once in the log.
            log.warning("Train wizard draft not saved: %s", exc.user_message)

    def set_dataset_folder(self, path: str) -> None:
        """Train on `path` (the folder button, or the folder open on the Dataset page).

        A different folder invalidates every later step, so the wizard returns to its start.
        """
        if path and self.dataset.folder == str(Path(path).expanduser()) and self.dataset.dataset:
            return
        self.dataset.set_folder(path)
        self.step = STEP_DATASET
        self._refresh()

    def follow_dataset_page(self, folder: str) -> None:
        """The Dataset page changed the pictures of `folder` (import, delete, fix, undo): the
        wizard reads it again if it trains on it — it never holds a stale scan."""
        if folder and self.dataset.folder == str(Path(folder).expanduser()):
            self.dataset.recheck()
            self._refresh()
        elif folder:
            self.set_dataset_folder(folder)

    def next(self) -> None:
        if not self.can_advance:
            return
        self.step += 1
        self._enter(self.step)
        self._refresh()

    def back(self) -> None:
        if self.can_go_back:
            self.step -= 1
            self._refresh()

    def check_backend(self) -> None:
        """Check the backend and validate the current settings and dataset on it."""
        self.backend.check(self.parameters.config, self.dataset.dataset)

    def start(self) -> None:
        self.review.start()

    def shutdown(self) -> None:
        if self._save_timer.isActive():
            self._save_timer.stop()
            self._write_draft(self.draft())  # closing: write now, synchronously (tiny file)
        for part in (self.dataset, self.parameters, self.backend, self.review):
            part.shutdown()

    # -- steps ---------------------------------------------------------------------------------

    def _enter(self, step: int) -> None:
        if step == STEP_PARAMETERS:
            if not self.parameters.loaded and not self.parameters.busy:
                self.parameters.load()
            # Quietly, so the base-model combo can offer the server's checkpoints.
            if not self.backend.available and not self.backend.busy and has_running_loop():
                self.backend.check()
        elif step == STEP_BACKEND:
            if not self.backend.is_current(self.parameters.config, self.dataset.dataset):
                self.check_backend()
        elif step == STEP_REVIEW:
            self.review.prepare(self._plan())

    def _plan(self) -> ReviewPlan:
        warnings = [text for level, text in self.backend.messages if level == "warning"]
        choice = next(c for c in self.backend.choices if c.kind == self.backend.kind)
        return ReviewPlan(
            folder=Path(self.dataset.folder),
            config=self.parameters.config,
            preset=self.parameters.selected_preset,
            preset_title=self.parameters.preset_title,
            backend=self.backend.kind,
            backend_name=self.backend.backend_name,
            backend_title=choice.title
            + (f" “{self.backend.backend_name}”" if self.backend.backend_name else ""),
            gpu_text=self.backend.gpu_text,
            gpu_vram_gb=self.backend.vram_gb or None,
            warnings=warnings,
            check=self.backend.last_check,
            auto_name=self.parameters.output_name_is_automatic,
            local=get_kind(self.backend.kind).local,
        )

    def _handle_dataset_loaded(self) -> None:
        dataset = self.dataset.dataset
        if dataset is None:
            return
        self.parameters.set_dataset_shape(dataset.shape)
        self.parameters.suggest_output_name(dataset.folder)

    def _refresh(self, *_args: object) -> None:
        hint = self._blocker(self.step)
        self.advance_hint = hint
        self.can_advance = self.step < STEP_REVIEW and not hint
        self.can_go_back = self.step > STEP_DATASET and not self.review.busy
        self.busy = any(
            part.busy for part in (self.dataset, self.parameters, self.backend, self.review)
        )

    def _blocker(self, step: int) -> str:
        """What stops the artist from leaving `step`, as a sentence; '' when nothing does."""
        dataset, parameters, backend = self.dataset, self.parameters, self.backend
        if step == STEP_DATASET:
            if dataset.busy:
                return "Reading the dataset…"
            return "" if dataset.is_ready else "Choose a dataset folder with your training images."
        if step == STEP_CAPTIONS:
            if not dataset.is_ready:
                return "Reading the dataset…" if dataset.busy else "Go back and choose a dataset."
            return "" if dataset.captions_ok else "Fix the problems, or tick “Continue anyway”."
        if step == STEP_PARAMETERS:
            if not parameters.loaded:
                return "Loading the presets…" if parameters.busy else "No presets could be read."
            if parameters.field_errors:
                return "Fix the settings marked in red."
            return "" if parameters.is_valid else "Fix the problems listed under Checks."
        if step == STEP_BACKEND:
            if backend.busy:
                return "Checking the backend…"
            if not backend.available:
                return "The backend is not available; fix what the check says, then press Check."
            if backend.has_errors:
                return "Fix the problems the backend found (go Back to change the settings)."
            if not backend.is_current(parameters.config, dataset.dataset):
                return "Press Check to validate these settings on the backend."
        return ""
