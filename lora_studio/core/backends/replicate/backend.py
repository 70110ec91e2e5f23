"""Core/Replicate: `ReplicateBackend`, LoRA training in Replicate's cloud (docs/protocols.md §3).

A job: make sure the destination model exists (created only with the artist's consent), look up
the trainer's latest version, zip and upload the dataset, start the training (its state stored
before the request, never re-sent blindly), poll it with back-off, parse progress and loss from
its logs, and fetch the weights from the file host without the token. The money is
`metrics.predict_time` × the hardware's price.

The API token only ever travels in the `Authorization` header to the API's own origin; it is
never written to job records, logs or messages (`HttpClient` scrubs it from every message).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from lora_studio.core.backends.base import (
    BackendCheck,
    CancelOutcome,
    CancelResult,
    DatasetSummary,
    EffectiveSettings,
    Issue,
    JobLike,
    SaveState,
)
from lora_studio.core.backends.files import safe_filename
from lora_studio.core.backends.http import RetryPolicy, Timeouts
from lora_studio.core.backends.progress.replicate import LogReader
from lora_studio.core.backends.progress.tqdm import split_lines
from lora_studio.core.backends.replicate import inputs as trainer_io
from lora_studio.core.backends.replicate.client import (
    DEFAULT_BASE_URL,
    ModelRef,
    ReplicateClient,
    parse_model_ref,
)
from lora_studio.core.backends.replicate.dataset_zip import MAX_UPLOAD_BYTES
from lora_studio.core.backends.replicate.diagnose import (
    DiagnoseInput,
    diagnose,
    missing_destination,
)
from lora_studio.core.backends.replicate.follow import PollTimings, TrainingFollower
from lora_studio.core.backends.replicate.problems import TOKEN_HELP, ReplicateHttp
from lora_studio.core.backends.replicate.state import ReplicateJobState
from lora_studio.core.backends.replicate.trainings import (
    RECONCILE_DELAYS,
    create_training,
    reconcile,
)
from lora_studio.core.backends.replicate.upload import upload_dataset
from lora_studio.core.backends.replicate.weights import MAX_DOWNLOAD_BYTES, download_weights
from lora_studio.core.config.estimates.cost import (
    DEFAULT_REPLICATE_SKU,
    SKU_GPU_CLASS,
    estimate_cost,
    replicate_price_per_second,
)
from lora_studio.core.config.estimates.duration import GpuClass, estimate_duration
from lora_studio.core.config.training_config import TrainingConfig, config_from_dict
from lora_studio.core.errors import BackendError, BackendUnavailableError, ConfigError, JobError
from lora_studio.core.jobs.events import JobEvent, StatusChanged
from lora_studio.core.jobs.status import JobStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplicateOptions:
    """Tunables; tests make them fast."""

    timings: PollTimings = field(default_factory=PollTimings)
    timeouts: Timeouts = field(default_factory=lambda: Timeouts(read=60.0, download_read=300.0))
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(attempts=5, max_delay=30.0))
    reconcile_delays: tuple[float, ...] = RECONCILE_DELAYS
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    max_download_bytes: int = MAX_DOWNLOAD_BYTES
    destination_visibility: str = "private"
    destination_hardware: str = "gpu-t4"  # what the model's own predictions would run on


def as_config(config: TrainingConfig | Mapping[str, Any]) -> TrainingConfig:
    if isinstance(config, TrainingConfig):
        return config
    return config_from_dict(config, context="The job's training settings")


class ReplicateBackend:
    kind = "replicate"

    def __init__(
        self,
        url: str = DEFAULT_BASE_URL,
        *,
        headers: Mapping[str, str] | None = None,
        destination: str = "",
        create_destination: bool = False,
        trainer: str = trainer_io.DEFAULT_TRAINER,
        trainer_version: str = "",
        sku: str = DEFAULT_REPLICATE_SKU,
        input_map: Mapping[str, str] | None = None,
        extra_input: Mapping[str, Any] | None = None,
        allow_insecure_http: bool = False,
        options: ReplicateOptions | None = None,
    ) -> None:
        self.options = options or ReplicateOptions()
        self.url = (url or DEFAULT_BASE_URL).rstrip("/")
        self._headers = dict(headers or {})
        self._http = ReplicateHttp(
            "Replicate",
            self.url,
            headers=self._headers,
            allow_insecure_http=allow_insecure_http,
            timeouts=self.options.timeouts,
            retry=self.options.retry,
        )
        self.client = ReplicateClient(self._http)
        self.where = self.client.where
        self.allow_insecure_http = allow_insecure_http
        self.trainer = parse_model_ref(trainer or trainer_io.DEFAULT_TRAINER, "trainer model")
        self.destination = parse_model_ref(destination, "model") if destination else None
        self.create_destination = create_destination
        self.trainer_version = trainer_version.strip()
        try:
            replicate_price_per_second(sku)  # unknown hardware: refuse now, not after the run
        except ValueError as exc:
            raise ConfigError(
                f"No price is known for Replicate hardware “{sku}”; set `hardware` to one of "
                "gpu-h100, gpu-a100-large, gpu-l40s, gpu-a40-large, gpu-a40-small, gpu-t4, cpu."
            ) from exc
        self.sku = sku
        self.input_map = dict(input_map or {})
        self.extra_input = dict(extra_input or {})
        self._readers: dict[str, LogReader] = {}
        self._cancelled: set[str] = set()

    @property
    def has_token(self) -> bool:
        return bool(self._headers.get("Authorization"))

    def _require_token(self) -> None:
        if not self.has_token:
            raise ConfigError(f"No Replicate API token is set. {TOKEN_HELP}")

    def _state(self, job: JobLike) -> ReplicateJobState:
        return ReplicateJobState.from_job_state(job.backend_state, job.id)

    def _price(self, sku: str) -> float:
        try:
            return replicate_price_per_second(sku)
        except ValueError:
            return replicate_price_per_second(DEFAULT_REPLICATE_SKU)

    # -- check / validate / cost -----------------------------------------------------------
    async def check(self) -> BackendCheck:
        if not self.has_token:
            return BackendCheck(False, f"No Replicate API token is set. {TOKEN_HELP}")
        return await diagnose(
            self.client,
            DiagnoseInput(
                url=self.url,
                trainer=self.trainer,
                trainer_version=self.trainer_version,
                destination=self.destination,
                create_destination=self.create_destination,
                visibility=self.options.destination_visibility,
                sku=self.sku,
            ),
        )

    async def validate(
        self, config: TrainingConfig | Mapping[str, Any], dataset: DatasetSummary
    ) -> list[Issue]:
        return trainer_io.config_issues(
            as_config(config),
            dataset,
            str(self.trainer),
            str(self.destination or ""),
        )

    def estimate_cost(
        self, config: TrainingConfig | Mapping[str, Any], dataset: DatasetSummary | None = None
    ) -> float | None:
        cfg = as_config(config)
        steps = trainer_io.total_steps(cfg, dataset) if dataset else (cfg.max_steps or 0)
        gpu = SKU_GPU_CLASS.get(self.sku, GpuClass.H100)
        return round(estimate_cost(estimate_duration(cfg, steps, gpu), self.sku).value, 2)

    def effective_settings(self, job: JobLike, config: TrainingConfig) -> EffectiveSettings:
        state = self._state(job)
        extra = {
            "lorastudio.replicate.training_id": state.training_id,
            "lorastudio.replicate.trainer": f"{state.trainer}:{state.version}",
            "lorastudio.replicate.destination": state.output_version or state.destination,
        }
        return trainer_io.effective_settings(config, extra)

    # -- submit ----------------------------------------------------------------------------
    async def submit(
        self,
        job: JobLike,
        config: TrainingConfig,
        dataset: DatasetSummary,
        save_state: SaveState,
    ) -> None:
        if job.backend_state and job.backend_state.get("training_id"):
            raise JobError(f"Job {job.id} was already started on Replicate.")
        self._require_token()
        errors = [i.message for i in await self.validate(config, dataset) if i.is_error]
        if errors:
            raise BackendError("The job cannot run on Replicate: " + " ".join(errors))
        assert self.destination is not None  # validate() requires it
        state = ReplicateJobState(
            server=_without_credentials(self.url),
            trainer=str(self.trainer),
            destination=str(self.destination),
            steps=trainer_io.total_steps(config, dataset),
            sku=self.sku,
        )

        async def save() -> None:
            await save_state(state.to_dict(), state.training_id or None)

        await save()
        await self._ensure_destination(self.destination)
        state.version = self.trainer_version or await self.client.latest_version(self.trainer)
        uploaded = await upload_dataset(
            self.client,
            job.id,
            dataset,
            resolution=max(int(s) for s in trainer_io.resolution_list(config).split(",")),
            limit=self.options.max_upload_bytes,
        )
        state.file_id, state.file_url = uploaded.id, uploaded.url
        await save()
        if job.id in self._cancelled:
            raise BackendError(f"Job {job.id} was cancelled before its training started.")
        inputs = trainer_io.trainer_inputs(
            config,
            state.steps,
            uploaded.url,
            input_map=self.input_map,
            extra_input=self.extra_input,
        )
        await create_training(
            self.client, state, inputs, save, delays=self.options.reconcile_delays
        )
        if job.id in self._cancelled:
            # Cancel arrived while the create request was on its way: stop what it started.
            log.info(
                "Job %s was cancelled while starting; cancelling %s", job.id, state.training_id
            )
            await self.cancel(job)

    async def _ensure_destination(self, ref: ModelRef) -> None:
        if await self.client.get_model(ref) is not None:
            return
        if not self.create_destination:
            raise BackendError(missing_destination(ref))
        log.info("Creating the destination model %s on Replicate", ref)
        try:
            await self.client.create_model(
                ref,
                visibility=self.options.destination_visibility,
                hardware=self.options.destination_hardware,
                description="LoRA trained with LoRA Studio",
            )
        except BackendError:
            if await self.client.get_model(ref) is None:  # a lost reply may have created it
                raise

    # -- follow ----------------------------------------------------------------------------
    async def events(
        self, job: JobLike, config: TrainingConfig, save_state: SaveState | None = None
    ) -> AsyncIterator[JobEvent]:
        state = self._state(job)
        if not state.training_id:
            found = (
                await reconcile(self.client, state, self.options.reconcile_delays)
                if state.phase == "creating" and state.file_url
                else None
            )
            if found is None:
                yield StatusChanged(
                    JobStatus.LOST,
                    "LoRA Studio stopped while starting this training, and Replicate has no "
                    "training with this job's dataset: nothing runs and nothing is billed. Start "
                    "it again.",
                )
                return
            state.training_id, state.phase = str(found["id"]), "created"
            if save_state is not None:
                await save_state(state.to_dict(), state.training_id)
        progress = getattr(job, "progress", None)  # a Job re-attached after a restart
        recorded = int(getattr(progress, "step", 0) or 0)
        reader = self._readers.setdefault(
            job.id, LogReader(steps=state.steps or None, recorded_through=recorded)
        )

        def remember() -> None:
            # A cancel asked meanwhile (here or by `jobs cancel` elsewhere) stays on record.
            state.cancel_requested = state.cancel_requested or bool(
                job.backend_state.get("cancel_requested")
            )
            job.backend_state = state.to_dict()

        follower = TrainingFollower(
            self.client,
            state,
            reader,
            price_per_second=self._price(state.sku),
            timings=self.options.timings,
            on_state=remember,
            cancel_requested=lambda: (
                state.cancel_requested
                or job.id in self._cancelled
                or bool(job.backend_state.get("cancel_requested"))
            ),
        )
        async for event in follower.run(job.status):
            yield event

    # -- cancel / download / logs ------------------------------------------------------------
    async def cancel(self, job: JobLike) -> CancelResult:
        self._cancelled.add(job.id)
        try:
            state = self._state(job)
        except JobError:
            return CancelResult(CancelOutcome.STOPPED, "Nothing was sent to Replicate yet.")
        if not state.training_id and state.phase == "creating" and state.file_url:
            found = await reconcile(self.client, state, ())
            if found is not None:
                state.training_id = str(found["id"])
        if not state.training_id and state.phase == "creating":
            # The create request is on its way (here or in another process): whoever follows
            # the job cancels the training as soon as its id is known.
            state.cancel_requested = True
            job.backend_state = state.to_dict()
            return CancelResult(
                CancelOutcome.STOPPING,
                f"Job {job.id} is being started on Replicate; it is cancelled as soon as "
                "Replicate confirms it.",
            )
        if not state.training_id:
            state.cancel_requested = True
            job.backend_state = state.to_dict()
            return CancelResult(
                CancelOutcome.STOPPED,
                f"Job {job.id} had not started on Replicate; nothing runs there.",
            )
        tid = state.training_id
        try:
            training = await self.client.cancel_training(tid)
        except BackendUnavailableError as exc:
            return CancelResult(
                CancelOutcome.UNCONFIRMED,
                f"Could not reach Replicate to cancel the training {tid}: {exc.user_message} It "
                "may still run (and be billed); cancel it at https://replicate.com/trainings.",
            )
        status = str(training.get("status") or "")
        state.cancel_requested = True
        job.backend_state = state.to_dict()
        if status == "canceled":
            return CancelResult(
                CancelOutcome.STOPPED, f"Cancelled the training {tid} on Replicate."
            )
        if status in ("succeeded", "failed", "aborted"):
            return CancelResult(
                CancelOutcome.ALREADY_FINISHED,
                f"The training {tid} had already ended on Replicate ({status}).",
            )
        return CancelResult(
            CancelOutcome.STOPPING,
            f"Replicate is stopping the training {tid}; billing ends when it reports it cancelled.",
        )

    async def download(self, job: JobLike, config: TrainingConfig, dest_dir: Path) -> list[Path]:
        state = self._state(job)
        if not state.weights_url and state.training_id:
            training = await self.client.get_training(state.training_id)
            output = training.get("output") if training else None
            weights = output.get("weights") if isinstance(output, Mapping) else None
            state.weights_url = weights if isinstance(weights, str) else ""
        if not state.weights_url:
            raise BackendError(f"Job {job.id} has no finished LoRA on Replicate yet.")
        name = safe_filename(f"{config.output_name}.safetensors")
        path = await download_weights(
            state.weights_url,
            Path(dest_dir),
            name,
            api=self._http,
            allow_insecure_http=self.allow_insecure_http,
            timeouts=self.options.timeouts,
            retry=self.options.retry,
            max_bytes=self.options.max_download_bytes,
        )
        return [path]

    async def logs(self, job: JobLike) -> list[str]:
        reader = self._readers.get(job.id)
        if reader is not None and reader.lines:
            return list(reader.lines)
        state = self._state(job)
        if not state.training_id:
            return []
        training = await self.client.get_training(state.training_id)
        text = training.get("logs") if training else None
        return list(split_lines(text[-200_000:])) if isinstance(text, str) else []

    async def aclose(self) -> None:
        await self._http.aclose()


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))
