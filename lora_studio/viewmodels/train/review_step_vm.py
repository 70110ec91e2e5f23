"""View-model: the Train wizard's review step — what will happen, then Start.

Entering the step re-reads the dataset and re-runs the doctor's quick checks with the final
settings (in the executor), then computes the estimate the CLI shows too: steps, VRAM with a
verdict against the backend's GPU, duration and — for cloud backends — cost. Start fingerprints
the dataset (executor), hands the job to the training service, tells the message bridge, and
emits `job_started(job_id)` so the window can switch to the Jobs page.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from lora_studio.core.backends.base import BackendCheck
from lora_studio.core.config.estimates import TrainingEstimate, format_estimate
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.errors import LoraStudioError
from lora_studio.core.jobs import Job, dataset_fingerprint
from lora_studio.core.jobs.naming import next_run_name, taken_names
from lora_studio.core.plurals import plural
from lora_studio.core.training.backend_estimate import DEVICE_FACT, estimate_on_backend
from lora_studio.core.training.caption_style import caption_style_warning
from lora_studio.core.training.dataset_input import TrainingDataset, measured_seconds_per_step
from lora_studio.core.training.service import TrainingService
from lora_studio.viewmodels.issue_text import issue_text
from lora_studio.viewmodels.message_bridge import MessageBridge
from lora_studio.viewmodels.observable import Observable
from lora_studio.viewmodels.train.background import BackgroundWork
from lora_studio.viewmodels.train.dataset_step_vm import inspect_dataset
from lora_studio.viewmodels.train.summaries import (
    FindingsSummary,
    findings_warning,
    skipped_warning,
    summarise_findings,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReviewPlan:
    """Everything the earlier steps decided, handed over when the review step opens."""

    folder: Path
    config: TrainingConfig
    preset: str
    preset_title: str
    backend: str
    backend_title: str
    gpu_text: str
    gpu_vram_gb: float | None
    warnings: list[str] = field(default_factory=list)
    check: BackendCheck | None = None  # the backend's last answer: its GPU, or that it has none
    auto_name: bool = False  # output name not typed: the run becomes `<dataset>_<preset>_<n>`
    local: bool = True  # the artist's machine or server (no SKU, no money per run)
    backend_name: str = ""  # which configured backend of the kind ("" → the first)


def _no_verdict(check: BackendCheck | None) -> str:
    """Why there is no fits / does-not-fit verdict: no GPU at all, or a GPU of unknown memory."""
    if check is not None and not check.gpu_name and check.facts.get(DEVICE_FACT) == "cpu":
        return (
            "No GPU: it trains on the CPU, in the computer's memory, so there is no GPU memory "
            "to fit; expect it to be slow."
        )
    return "The backend did not report its GPU memory; no verdict."


def _verdict_level(estimate: TrainingEstimate) -> str:
    return estimate.verdict.verdict if estimate.verdict is not None else ""


class ReviewStepViewModel(QObject):
    """The estimate and warnings for one `ReviewPlan`, and the Start that submits it."""

    error_changed = Signal(str)
    busy_changed = Signal(bool)
    summary_text_changed = Signal(str)
    steps_text_changed = Signal(str)
    vram_text_changed = Signal(str)
    verdict_text_changed = Signal(str)
    verdict_level_changed = Signal(str)
    duration_text_changed = Signal(str)
    cost_text_changed = Signal(str)
    warnings_changed = Signal(list)
    command_text_changed = Signal(str)
    can_start_changed = Signal(bool)
    started_job_id_changed = Signal(str)
    job_started = Signal(str)

    error = Observable("")
    busy = Observable(False)
    summary_text = Observable("")
    steps_text = Observable("")
    vram_text = Observable("")
    verdict_text = Observable("")
    verdict_level = Observable("")  # "fits", "tight", "does_not_fit" or "" (GPU unknown)
    duration_text = Observable("")
    cost_text = Observable("")
    warnings = Observable([])  # (level, text) pairs: "warning" or "error"
    # The trainer's command line, for backends that run one here (kohya); "" for the others.
    command_text = Observable("")
    can_start = Observable(False)
    started_job_id = Observable("")

    def __init__(
        self,
        training: TrainingService,
        executor: Executor,
        bridge: MessageBridge,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._training = training
        self._bridge = bridge
        self._work = BackgroundWork(executor)
        self._plan: ReviewPlan | None = None
        self._dataset: TrainingDataset | None = None
        self._estimate: TrainingEstimate | None = None
        self._generation = 0

    @property
    def estimate(self) -> TrainingEstimate | None:
        return self._estimate

    # -- preparing -----------------------------------------------------------------------------

    def prepare(self, plan: ReviewPlan) -> None:
        self._generation += 1
        self._plan, self._dataset, self._estimate = plan, None, None
        self.error = ""
        self.started_job_id = ""
        self.summary_text = self._summary(plan)
        for name in ("steps_text", "vram_text", "verdict_text", "duration_text", "cost_text"):
            setattr(self, name, "…")
        self.verdict_level = ""
        self.warnings = []
        self.command_text = ""
        self._set_busy(True)
        self._work.spawn(self._run_prepare(self._generation, plan))

    @staticmethod
    def _summary(plan: ReviewPlan) -> str:
        return (
            f"{plan.config.output_name} · preset {plan.preset_title} · "
            f"{plan.config.base_model} · on {plan.backend_title}"
        )

    async def _run_prepare(self, generation: int, plan: ReviewPlan) -> None:
        try:
            # Again, with the final settings: repeats and buckets change the step count, and
            # the resolution and trigger word change what the doctor finds.
            dataset, findings = await self._work.blocking(inspect_dataset, plan.folder, plan.config)
        except (LoraStudioError, OSError) as exc:
            if generation == self._generation:
                self.error = getattr(exc, "user_message", None) or (
                    f"The dataset folder {plan.folder} cannot be read: {exc}."
                )
                self._set_busy(False)
            return
        # How fast similar jobs really ran here (job store: executor), so the duration learns
        # from the artist's own hardware exactly as `lora-studio train` does.
        measured = await self._work.blocking(
            measured_seconds_per_step, self._training.store, plan.config, plan.backend
        )
        if plan.auto_name:
            # One naming rule with the CLI: the next free number for this dataset and preset.
            taken = await self._work.blocking(taken_names, self._training.store)
            name = next_run_name(plan.config.output_name, taken)
            plan = replace(plan, config=plan.config.model_copy(update={"output_name": name}))
        command = await self._work.blocking(
            self._training.command_preview, plan.backend, plan.config, plan.backend_name or None
        )
        if generation != self._generation:
            return
        self.command_text = command or ""
        self._plan = plan
        self.summary_text = self._summary(plan)
        # Pure arithmetic over one config and the dataset's shape: fine on the GUI thread. The
        # same function gives `lora-studio train` its plan, so both say the same.
        on_backend = estimate_on_backend(
            plan.config, dataset.shape, plan.backend, plan.check, measured, local=plan.local
        )
        estimate = on_backend.estimate
        self._dataset, self._estimate = dataset, estimate
        self._show(plan, dataset, estimate, summarise_findings(findings))
        self.duration_text = on_backend.duration_text
        self._set_busy(False)

    def _show(
        self,
        plan: ReviewPlan,
        dataset: TrainingDataset,
        estimate: TrainingEstimate,
        findings: FindingsSummary,
    ) -> None:
        length = estimate.length
        how = (
            "stops at max steps"
            if length.limited_by_max_steps
            else f"{length.epochs} epochs × {length.steps_per_epoch:,} steps"
        )
        self.steps_text = (
            f"{length.total_steps:,} steps ({how}) on {plural(dataset.image_count, 'image')}, "
            f"batch {length.effective_batch_size}"
        )
        self.vram_text = format_estimate(estimate.vram)
        if estimate.verdict is not None:
            self.verdict_text = f"{estimate.verdict.message} ({plan.gpu_text})"
        else:
            self.verdict_text = _no_verdict(plan.check)
        self.verdict_level = _verdict_level(estimate)
        self.cost_text = (
            format_estimate(estimate.cost) if estimate.cost else "Nothing to pay per run."
        )
        lines = [line for line in (findings_warning(findings),) if line]
        lines += plan.warnings
        skipped = skipped_warning(dataset)
        if skipped:
            lines.append(skipped)
        style = caption_style_warning(
            plan.config,
            dataset.summary,
            "Rewrite them on the Captions page (Auto-caption can write sentences), or start "
            "anyway.",
        )
        if style:
            lines.append(style)
        warnings = [["warning", line] for line in lines]
        warnings += [["error" if i.is_error else "warning", issue_text(i)] for i in estimate.issues]
        self.warnings = warnings

    # -- starting ------------------------------------------------------------------------------

    def start(self) -> None:
        if self.started_job_id:
            self.error = (
                f"This training has already started (job {self.started_job_id}). Change a "
                "setting and come back to start another."
            )
            return
        if not self.can_start or self._plan is None or self._dataset is None:
            self.error = "The review is not ready yet; wait for the estimate."
            return
        self.error = ""
        self._set_busy(True)
        self._work.spawn(self._run_start(self._plan, self._dataset))

    async def _run_start(self, plan: ReviewPlan, dataset: TrainingDataset) -> None:
        cost = self._estimate.cost.value if self._estimate and self._estimate.cost else None
        try:
            fingerprint = await self._work.blocking(dataset_fingerprint, dataset.folder)
            job = Job(
                name=plan.config.output_name,
                backend=plan.backend,
                dataset_path=str(dataset.folder),
                dataset_fingerprint=fingerprint,
                config=plan.config,
                preset=plan.preset,
                cost=cost,
            )
            stored = await self._training.start(
                job, dataset, backend_name=plan.backend_name or None
            )
        except LoraStudioError as exc:
            self.error = exc.user_message
            self._set_busy(False)
            return
        self.started_job_id = stored.id
        self._set_busy(False)
        self._bridge.info(f"Job {stored.name} started — follow it on the Jobs page.")
        self.job_started.emit(stored.id)

    def shutdown(self) -> None:
        self._work.cancel()

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        blocked = self._estimate is None or any(i.is_error for i in self._estimate.issues)
        # One Start per review: a second click must not submit the same training twice.
        self.can_start = not busy and not blocked and not self.started_job_id
