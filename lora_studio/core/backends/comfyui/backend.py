"""Core/ComfyUI: `ComfyUIBackend`, the TrainingBackend for ComfyUI's native LoRA trainer.

A job is one prompt, or — by default once it is long enough — a chain of *chunks*: prompts that
each continue from the previous chunk's file via `existing_lora`. ComfyUI cannot stop a running
training node (`/interrupt` is only noticed after it, docs/protocols.md §2.6), so chunks are what
makes cancel real: it takes effect between chunks, each chunk leaves a checkpoint, and losses
arrive per chunk even on servers without the console-log route. Each chunk starts a fresh
optimizer (AdamW moments restart); the checkpoint, dataset and latents stay in ComfyUI's cache
between chunks, so only the training node runs again.

The backend owns one client id per app session; a re-attached job keeps the id it was queued
with, because ComfyUI sends a run's events only to that id's websocket.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from lora_studio.core.atomic_io import display_name
from lora_studio.core.backends.base import (
    BackendCheck,
    CancelResult,
    DatasetSummary,
    EffectiveSettings,
    Issue,
    JobLike,
    SaveState,
)
from lora_studio.core.backends.comfyui.cancel import cancel_job
from lora_studio.core.backends.comfyui.client import ComfyClient
from lora_studio.core.backends.comfyui.diagnose import diagnose
from lora_studio.core.backends.comfyui.follow import (
    FollowTimings,
    PromptFollower,
    PromptOutcome,
    StepTracker,
)
from lora_studio.core.backends.comfyui.graph import (
    ChunkSpec,
    build_training_graph,
    save_names_steps,
)
from lora_studio.core.backends.comfyui.nodes import (
    INTERESTING_NODES,
    NodeSetKind,
    NodeSpec,
    TrainingNodeSet,
    checkpoint_names,
    describe_missing_nodes,
    discover_training_nodes,
)
from lora_studio.core.backends.comfyui.params import (
    NATIVE_FIXED_METADATA,
    TrainParams,
    as_config,
    effective_of,
    plan_chunks,
    train_params,
)
from lora_studio.core.backends.comfyui.prompt_errors import PromptRejectedError
from lora_studio.core.backends.comfyui.render import ComfyRenderer
from lora_studio.core.backends.comfyui.run import RunTable
from lora_studio.core.backends.comfyui.state import ComfyJobState
from lora_studio.core.backends.comfyui.upload import ResizeRule, upload_dataset
from lora_studio.core.backends.comfyui.validate import validate_config
from lora_studio.core.backends.comfyui.ws import WsSession
from lora_studio.core.backends.files import (
    NewFile,
    check_safetensors_file,
    safe_filename,
)
from lora_studio.core.backends.http import HttpClient, RetryPolicy, Timeouts
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.errors import BackendError, BackendUnavailableError, JobError, WeightsError
from lora_studio.core.jobs.events import (
    Checkpoint,
    Failed,
    Finished,
    JobEvent,
    Log,
    StatusChanged,
)
from lora_studio.core.jobs.status import JobStatus

log = logging.getLogger(__name__)
SUBFOLDER = "loras"


@dataclass(frozen=True)
class ComfyUIOptions:
    """Tunables. `chunked=None` chunks automatically when a job has ≥ `auto_chunk_min_steps`."""

    chunked: bool | None = None
    chunk_steps: int = 250
    auto_chunk_min_steps: int = 500
    upload_concurrency: int = 2
    ws_connect_timeout: float = 10.0
    ws_backoff: tuple[float, float] = (0.5, 10.0)
    node_cache_seconds: float = 60.0
    timings: FollowTimings = field(default_factory=FollowTimings)
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)


def job_key(job_id: str) -> str:
    key = re.sub(r"[^A-Za-z0-9]", "", job_id)[:32]
    if not key:
        raise JobError(f"Job id {job_id!r} cannot be used in ComfyUI file names.")
    return key


def job_seed(seed: int, key: str) -> int:
    """A seed unique to the job (so nothing is ever served from ComfyUI's cache), stable across
    re-attach, and still determined by the config's seed."""
    mix = int.from_bytes(hashlib.sha256(key.encode()).digest()[:6], "big")
    return (seed ^ mix) % (1 << 48)


class ComfyUIBackend:
    kind = "comfyui"

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        allow_insecure_http: bool = False,
        options: ComfyUIOptions | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.options = options or ComfyUIOptions()
        self._http = HttpClient(
            "ComfyUI",
            url,
            headers=headers,
            params=params,
            allow_insecure_http=allow_insecure_http,
            timeouts=self.options.timeouts,
            retry=self.options.retry,
        )
        self.client = ComfyClient(self._http)
        self.where = self.client.where
        self._ws_headers, self._ws_params = dict(headers or {}), dict(params or {})
        self._executor = executor
        self.client_id = f"lorastudio-{uuid.uuid4().hex}"
        self._sessions: dict[str, WsSession] = {}
        self._logs_supported: dict[str, bool] = {}
        self._specs: tuple[float, dict[str, NodeSpec]] | None = None
        self.runs = RunTable()  # one ComfyRun per job this process deals with

    # -- plumbing --------------------------------------------------------------------------
    def session(self, client_id: str) -> WsSession:
        session = self._sessions.get(client_id)
        if session is None:

            async def subscribe() -> None:
                self._logs_supported[client_id] = await self.client.subscribe_logs(client_id)

            session = WsSession(
                self._http.base_url,
                client_id,
                headers=self._ws_headers,
                params=self._ws_params,
                secrets=tuple(self._ws_headers.values()) + tuple(self._ws_params.values()),
                on_connect=subscribe,
                backoff=self.options.ws_backoff,
                open_timeout=self.options.ws_connect_timeout,
            )
            self._sessions[client_id] = session
        session.start()
        return session

    async def node_specs(self, refresh: bool = False) -> dict[str, NodeSpec]:
        now = time.monotonic()
        if refresh or self._specs is None or now - self._specs[0] > self.options.node_cache_seconds:
            self._specs = (now, await self.client.node_specs(INTERESTING_NODES))
        return self._specs[1]

    async def _nodes(self, refresh: bool = False) -> TrainingNodeSet:
        specs = await self.node_specs(refresh)
        nodes = discover_training_nodes(specs)
        if nodes is None:
            raise BackendUnavailableError(describe_missing_nodes(specs, None))
        return nodes

    def job_state(self, job: JobLike) -> ComfyJobState:
        if not job.backend_state or not job.backend_state.get("chunks"):
            raise JobError(f"Job {job.id} was never queued on ComfyUI; there is nothing to follow.")
        return ComfyJobState.from_dict(job.backend_state)

    def _log(self, job_id: str, line: str) -> None:
        self.runs(job_id).logs.append(line)

    def mark_cancelled(self, job_id: str) -> None:
        self.runs(job_id).cancel_requested = True

    def live_progress(self, job_id: str) -> StepTracker | None:
        """Progress of a job this process is following right now (speed for cancel estimates)."""
        run = self.runs.get(job_id)
        return run.tracker if run is not None else None

    def wake(self, client_id: str, prompt_id: str) -> None:
        session = self._sessions.get(client_id)
        if session is not None:
            session.wake(prompt_id)

    # -- TrainingBackend -------------------------------------------------------------------
    async def check(self) -> BackendCheck:
        try:
            stats = await self.client.system_stats()
            specs = await self.node_specs(refresh=True)
        except BackendError as exc:
            return BackendCheck(False, exc.user_message)
        facts = {"url": self._http.base_url, "client_id": self.client_id}
        return diagnose(self.where, stats, specs, facts)

    async def validate(
        self, config: TrainingConfig | Mapping[str, Any], dataset: DatasetSummary
    ) -> list[Issue]:
        cfg = as_config(config)
        try:
            specs: dict[str, NodeSpec] | None = await self.node_specs()
        except BackendUnavailableError as exc:
            specs = None
            unreachable = Issue(
                "backend",
                "warning",
                (
                    f"{exc.user_message} The checkpoint and the server's training nodes could not "
                    "be checked."
                ),
            )
        nodes = discover_training_nodes(specs) if specs is not None else None
        issues = validate_config(cfg, dataset, nodes, checkpoint_names(specs) if specs else None)
        if specs is None:
            issues.insert(0, unreachable)
        elif nodes is None:
            issues.insert(0, Issue("backend", "error", describe_missing_nodes(specs, None)))
        return issues

    def estimate_cost(
        self, config: TrainingConfig | Mapping[str, Any], dataset: DatasetSummary | None = None
    ) -> float | None:
        return None  # the artist's own machine

    def effective_settings(self, job: JobLike, config: TrainingConfig) -> EffectiveSettings:
        """What ComfyUI's trainer really used, as recorded at submission (see `effective_of`)."""
        values = dict(job.backend_state.get("effective") or {})
        known = {"alpha", "mixed_precision", "optimizer", "seed", "enable_bucket", "resolution"}
        return EffectiveSettings(
            **{k: v for k, v in values.items() if k in known}, extra=dict(NATIVE_FIXED_METADATA)
        )

    async def submit(
        self,
        job: JobLike,
        config: TrainingConfig,
        dataset: DatasetSummary,
        save_state: SaveState,
    ) -> None:
        if job.backend_state and job.backend_state.get("chunks"):
            raise JobError(f"Job {job.id} was already queued on ComfyUI.")
        params = train_params(config, dataset)
        nodes = await self._nodes(refresh=True)
        errors = [
            i.message
            for i in validate_config(config, dataset, nodes, checkpoint_names(nodes.specs))
            if i.is_error
        ]
        if errors:
            raise BackendError("The job cannot run on ComfyUI: " + " ".join(errors))
        key = job_key(job.id)
        names_with_steps = save_names_steps(nodes)
        chunked = self.options.chunked
        if chunked is None:
            chunked = params.total_steps >= self.options.auto_chunk_min_steps
        keep_aspect = nodes.kind is NodeSetKind.NEWER and params.bucketing
        seed = job_seed(params.seed, key)
        state = ComfyJobState(
            client_id=self.client_id,
            job_key=key,
            folder=f"lorastudio/{key}",
            node_set=nodes.kind.value,
            plan=plan_chunks(params, chunked and names_with_steps, self.options.chunk_steps),
            grad_accumulation=params.grad_accumulation,
            steps_per_epoch=params.steps_per_epoch,
            seed=seed,
            names_with_steps=names_with_steps,
            server=_without_credentials(self._http.base_url),
            effective=effective_of(params, seed, keep_aspect),
            phase="uploading",
        )
        # On record before the upload: a run killed meanwhile is resolved by `jobs attach`.
        await save_state(state.to_dict(), None)
        session = self.session(state.client_id)
        # Run events go only to a socket that is already open when the prompt is queued.
        if not await session.wait_connected(self.options.ws_connect_timeout):
            log.warning("No websocket to %s yet; the job will be followed by polling", self.where)
        rule = ResizeRule(
            params.resolution,
            keep_aspect=keep_aspect,
            step=params.bucket_reso_steps,
            min_side=params.min_bucket_reso,
            max_side=max(params.max_bucket_reso, params.resolution),
        )
        await upload_dataset(
            self.client,
            dataset,
            state.folder,
            rule,
            concurrency=self.options.upload_concurrency,
            executor=self._executor,
        )
        await self._queue_next(job, state, nodes, params, save_state)

    async def _queue_next(
        self,
        job: JobLike,
        state: ComfyJobState,
        nodes: TrainingNodeSet,
        params: TrainParams,
        save_state: SaveState | None,
    ) -> str:
        previous = state.last_done
        record = state.next_chunk(str(uuid.uuid4()))
        state.phase = ""
        graph, ids = build_training_graph(
            nodes,
            params,
            ChunkSpec(
                folder=state.folder,
                prefix=state.prefix(record.index),
                steps=record.steps,
                seed=state.seed + record.index - 1,
                existing_lora=previous.file if previous else None,
                loss_graph_prefix=f"lorastudio_{state.job_key}_loss",
            ),
        )
        record.train_node, record.save_node = ids.train, ids.save
        record.preview_node, record.loss_graph_node = ids.preview, ids.loss_graph
        # Durably on record before it is queued: a crash between POST and reply leaves the
        # prompt id, which re-attach finds in ComfyUI's queue or history.
        if save_state is not None:
            await save_state(state.to_dict(), record.prompt_id)
        else:
            job.backend_state = state.to_dict()
        session = self.session(state.client_id)
        session.watch(record.prompt_id)
        try:
            return await self.client.queue_prompt(graph, state.client_id, record.prompt_id)
        except BaseException as exc:
            session.unwatch(record.prompt_id)
            if not isinstance(exc, PromptRejectedError | BackendUnavailableError):
                await self.client.withdraw(record.prompt_id)  # it may have been queued anyway
            state.chunks.pop()
            job.backend_state = state.to_dict()
            raise

    async def events(
        self, job: JobLike, config: TrainingConfig, save_state: SaveState | None = None
    ) -> AsyncIterator[JobEvent]:
        if job.backend_state.get("phase") == "uploading" and not job.backend_state.get("chunks"):
            # The submitting process stopped during the upload: nothing was queued on ComfyUI.
            yield Failed(
                f"The upload of job {job.id}'s dataset to {self.where} was interrupted (LoRA "
                "Studio stopped before the training was queued), so nothing runs there. Start "
                "the training again."
            )
            return
        state = self.job_state(job)
        progress = StepTracker(total=state.total_steps)
        if state.last_done is not None:
            progress.last_step = state.last_done.end_step
        status = job.status
        session = self.session(state.client_id)
        run = self.runs(job.id)
        run.tracker = progress
        try:
            async for event in self._follow_chunks(
                job, config, state, progress, session, status, save_state
            ):
                yield event
        finally:
            run.tracker = None

    async def _follow_chunks(
        self,
        job: JobLike,
        config: TrainingConfig,
        state: ComfyJobState,
        progress: StepTracker,
        session: WsSession,
        status: JobStatus,
        save_state: SaveState | None,
    ) -> AsyncIterator[JobEvent]:
        while True:
            chunk = state.current
            outcome: PromptOutcome | None = None
            if not chunk.done:
                follower = PromptFollower(
                    self.client,
                    session,
                    state,
                    chunk,
                    progress,
                    self.options.timings,
                    cancel_requested=lambda: self._cancel_requested(job, state),
                    on_log=lambda line: self._log(job.id, line),
                )
                async for item in follower.run():
                    if isinstance(item, PromptOutcome):
                        outcome = item
                        break
                    if isinstance(item, StatusChanged):
                        if item.status == status:
                            continue
                        status = item.status
                    yield item
            if outcome is not None and outcome.kind != "success":
                yield self._terminal(job, state, outcome)
                return
            if outcome is not None:
                for event in self._chunk_done(job, state, progress, outcome):
                    yield event
            if len(state.chunks) == len(state.plan):
                state.finished = True
                job.backend_state = state.to_dict()
                yield Finished((self.client.view_url(state.current.file, SUBFOLDER),))
                return
            if self._cancel_requested(job, state):
                done = state.current
                yield StatusChanged(
                    JobStatus.CANCELLED,
                    (
                        f"Cancelled after chunk {done.index} of {len(state.plan)}; the checkpoint "
                        f"at step {done.end_step} is kept and can be downloaded."
                    ),
                )
                return
            try:
                nodes = await self._nodes()
                params = train_params(config, 1)  # the step count comes from the plan
                await self._queue_next(job, state, nodes, params, save_state)
            except PromptRejectedError as exc:
                yield Failed(exc.user_message, exc.detail or "")
                return

    def _chunk_done(
        self, job: JobLike, state: ComfyJobState, progress: StepTracker, outcome: PromptOutcome
    ) -> list[JobEvent]:
        chunk = state.current
        events: list[JobEvent] = []
        if outcome.note:
            self._log(job.id, outcome.note)
            events.append(Log(outcome.note, "server"))
        start = chunk.end_step - chunk.steps
        acc = max(1, state.grad_accumulation)
        values = outcome.losses or []
        for i in range(0, len(values) - acc + 1, acc):  # per optimizer step, averaged
            event = progress.loss(start + i // acc + 1, sum(values[i : i + acc]) / acc)
            if event is not None:
                events.append(event)
        if outcome.loss_graph is not None:
            name, folder = outcome.loss_graph
            where = f" of chunk {chunk.index}" if state.chunked else ""
            url = self.client.view_url(name, folder, "temp")
            events.append(Log(f"Loss graph{where}: {url}", "server"))
        end = progress.step(chunk.end_step)
        if end is not None:
            events.append(end)
        chunk.done = True
        job.backend_state = state.to_dict()
        if state.chunked:
            events.append(
                Checkpoint(
                    self.client.view_url(chunk.file, SUBFOLDER),
                    step=chunk.end_step,
                    epoch=state.epoch_at(chunk.end_step),
                )
            )
        return events

    def _terminal(self, job: JobLike, state: ComfyJobState, outcome: PromptOutcome) -> JobEvent:
        kept = state.last_done
        keep_note = (
            f" The checkpoint from chunk {kept.index} (step {kept.end_step}) is kept."
            if kept
            else ""
        )
        if outcome.kind in ("interrupted", "cancelled"):
            return StatusChanged(
                JobStatus.CANCELLED, "Cancelled; nothing more was saved on ComfyUI." + keep_note
            )
        if outcome.kind == "lost":
            return StatusChanged(JobStatus.LOST, outcome.message + keep_note)
        return Failed(outcome.message + keep_note, outcome.detail)

    def _cancel_requested(self, job: JobLike, state: ComfyJobState) -> bool:
        return (
            self.runs(job.id).cancel_requested
            or state.cancel_requested
            or bool(job.backend_state.get("cancel_requested"))
        )

    async def cancel(self, job: JobLike) -> CancelResult:
        return await cancel_job(self, job)

    def sample_renderer(self) -> ComfyRenderer:
        """Renders a job's sample prompts with its checkpoints on this server (samples.py)."""
        return ComfyRenderer(self.client)

    async def download(self, job: JobLike, config: TrainingConfig, dest_dir: Path) -> list[Path]:
        state = self.job_state(job)
        chunk = state.last_done
        if chunk is None:
            raise BackendError(f"Job {job.id} has no finished LoRA on {self.where} yet.")
        output_name = config.output_name
        if output_name:
            suffix = "" if state.finished else f"_step{chunk.end_step}"
            local_name = safe_filename(f"{output_name}{suffix}.safetensors")
        else:
            local_name = safe_filename(chunk.file)
        target = NewFile(Path(dest_dir), local_name)  # nothing under a final name until verified
        try:
            path = await self.client.download_output(chunk.file, SUBFOLDER, target.staging)
            try:
                check_safetensors_file(path)
            except WeightsError as exc:  # name the LoRA, not its temporary file
                message = exc.user_message.replace(path.name, display_name(path))
                raise WeightsError(message, detail=exc.detail) from exc
            return [target.commit()]
        finally:
            target.discard()  # gone once committed; a file that failed the check goes

    async def logs(self, job: JobLike) -> list[str]:
        run = self.runs.get(job.id)
        lines = list(run.logs) if run is not None else []
        if lines:
            return lines
        recent = await self.client.recent_logs()
        if not recent:
            return []
        return [f"Recent console output of {self.where} (all jobs, not only this one):", *recent]

    async def aclose(self) -> None:
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()
        await self._http.aclose()


def _without_credentials(url: str) -> str:
    """The server address as stored in job records: any user:password@ part removed."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))
