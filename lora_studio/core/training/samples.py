"""Core: sample images while a job trains — the job's `sample_prompts` rendered with every
checkpoint on the same backend and seed, plus once without the LoRA as the reference.

The runner owns one `SampleSession` per followed job whose config has sample prompts and whose
backend can render (`backend.sample_renderer()`, ComfyUI today). After every checkpoint (each
chunk on ComfyUI, the final file at the end) it calls `update(job.backend_state)`; renders run one
after another in a background task, so following the job never waits for them, and each image is
announced as a `Sample` event (recorded with the job, printed by `train --json`). Images go beside
the LoRA in `NAME_samples/`: `reference_p01.png`, `step000250_p01.png`, … A render that fails
becomes a log line — samples are a help, never a reason to fail a training. A backend that
renders samples itself (kohya) announces images in its run folder; `SamplePlacer` copies each into
`NAME_samples/` under the same names before the event is shown and recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from lora_studio.core.backends.comfyui.render import RenderSettings
from lora_studio.core.backends.files import NewFile
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.errors import LoraStudioError
from lora_studio.core.jobs import Job, JobEvent, Log, Sample

log = logging.getLogger(__name__)

REFERENCE_STEP = 0


class SampleRenderer(Protocol):
    """What a backend offers for samples (see `core.backends.comfyui.render.ComfyRenderer`)."""

    def checkpoints(self, backend_state: dict[str, Any]) -> list[tuple[int, str]]: ...

    async def render(
        self, settings: RenderSettings, prompt: str, lora_name: str | None, dest: Path, prefix: str
    ) -> Path: ...


def samples_folder(out_dir: Path, config: TrainingConfig) -> Path:
    # Absolute: the paths are recorded with the job, and a relative `train --out` would point
    # elsewhere when the app (or `jobs show`) runs from another folder.
    return Path(out_dir).absolute() / f"{config.output_name}_samples"


def sample_file(folder: Path, step: int, index: int, with_lora: bool) -> Path:
    name = f"step{step:06d}_p{index:02d}.png" if with_lora else f"reference_p{index:02d}.png"
    return folder / name


def render_settings(config: TrainingConfig) -> RenderSettings:
    """Every checkpoint is rendered alike: the training's base model, resolution and seed."""
    side = min(config.resolution, 1024)
    return RenderSettings(base_model=config.base_model, width=side, height=side, seed=config.seed)


class SampleSession:
    def __init__(
        self,
        renderer: SampleRenderer,
        job: Job,
        config: TrainingConfig,
        out_dir: Path,
        emit: Callable[[list[JobEvent]], None],
    ) -> None:
        self.renderer = renderer
        self.job_id = job.id
        self.prompts = list(config.sample_prompts)
        self.settings = render_settings(config)
        self.folder = samples_folder(out_dir, config)
        self._emit = emit
        done = {(s.step, s.with_lora) for s in job.samples}
        self._queued: set[tuple[int, bool]] = set(done)
        self._pending: list[tuple[int, str | None]] = []
        self._task: asyncio.Task[None] | None = None

    def update(self, backend_state: dict[str, Any]) -> None:
        """Queue renders for checkpoints not rendered yet (the reference with the first one)."""
        try:
            checkpoints = self.renderer.checkpoints(backend_state)
        except (KeyError, TypeError, ValueError) as exc:  # a state this version cannot read
            log.info("No sample checkpoints in the state of job %s: %s", self.job_id, exc)
            return
        for step, name in checkpoints:
            if (REFERENCE_STEP, False) not in self._queued:
                self._queued.add((REFERENCE_STEP, False))
                self._pending.append((REFERENCE_STEP, None))
            if (step, True) not in self._queued:
                self._queued.add((step, True))
                self._pending.append((step, name))
        if self._pending and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._work())

    async def finish(self) -> None:
        """Wait for the renders still queued (the CLI prints them before it exits)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _work(self) -> None:
        while self._pending:
            step, lora_name = self._pending.pop(0)
            for index, prompt in enumerate(self.prompts, start=1):
                with_lora = lora_name is not None
                dest = sample_file(self.folder, step, index, with_lora)
                prefix = f"lorastudio_samples/{self.job_id}_{dest.stem}"
                try:
                    path = await self.renderer.render(
                        self.settings, prompt, lora_name, dest, prefix
                    )
                except LoraStudioError as exc:
                    what = f"step {step}" if with_lora else "the reference (no LoRA)"
                    self._emit([Log(f"Sample {index} of {what} not rendered: {exc.user_message}")])
                    continue
                except Exception:  # a bug in one render must not stop the job being followed
                    log.exception("Sample render of job %s failed", self.job_id)
                    continue
                self._emit([Sample(step, prompt, str(path), with_lora)])


class SamplePlacer:
    """Brings sample images a backend renders itself (kohya's `--sample_prompts`, in its run
    folder) beside the LoRA in `NAME_samples/`, named like the rendered ones, so every engine's
    samples land in the same place and the job records that path.

    Copied (the run folder stays whole) under a temporary name and named once complete
    (`NewFile`): an existing image is never replaced, a repeated name gets `-2`.
    """

    def __init__(self, folder: Path, prompts: list[str]) -> None:
        self.folder, self.prompts = folder, prompts

    def place(self, event: Sample) -> Sample:
        source = Path(event.path)
        if source.parent == self.folder or not source.is_file():
            return event
        index = self.prompts.index(event.prompt) + 1 if event.prompt in self.prompts else 0
        name = sample_file(self.folder, event.step, index, event.with_lora).name
        target = NewFile(self.folder, name)
        try:
            shutil.copyfile(source, target.staging)
            return replace(event, path=str(target.commit()))
        except OSError as exc:  # a sample is a help: keep the one in the run folder
            log.warning("Sample %s not copied to %s: %s", source, self.folder, exc)
            return event
        finally:
            target.discard()


def make_placer(config_data: dict[str, Any], out_dir: Path) -> SamplePlacer | None:
    """A placer when the job asks for samples (its config still validates), else None."""
    try:
        config = TrainingConfig.model_validate(config_data)
    except ValueError:
        return None
    if not config.sample_prompts:
        return None
    return SamplePlacer(samples_folder(out_dir, config), list(config.sample_prompts))


def make_session(
    backend: object,
    job: Job,
    config_data: dict[str, Any],
    out_dir: Path,
    emit: Callable[[list[JobEvent]], None],
) -> SampleSession | None:
    """A session when the job asks for samples and its backend can render them, else None."""
    factory = getattr(backend, "sample_renderer", None)
    if factory is None:
        return None
    try:
        config = TrainingConfig.model_validate(config_data)
    except ValueError:
        return None
    if not config.sample_prompts or not config.base_model:
        return None
    with contextlib.suppress(LoraStudioError):
        return SampleSession(factory(), job, config, out_dir, emit)
    return None
