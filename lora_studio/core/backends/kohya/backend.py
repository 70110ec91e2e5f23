"""Core/kohya: `KohyaBackend`, the TrainingBackend that runs sd-scripts on this computer.

One run = one folder under the work directory (`<data>/kohya/<job id>/`): the staged dataset and
its TOML, the trainer's `stdout.log`/`stderr.log`, `output/` (kohya's `--output_dir`: checkpoints
and the final LoRA) and the launcher's pid and exit status (`launcher.py`). The job record holds
only that folder, the pid and how far the logs were read, so any LoRA Studio process can follow
the run again: while the launcher lives it keeps reading the logs; once it is gone the exit
status decides (none at all → Lost with the reason; the checkpoints stay in `output/`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shlex
import shutil
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from lora_studio.core.atomic_io import atomic_write_text, display_name
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
from lora_studio.core.backends.files import NewFile, check_safetensors_file, safe_filename
from lora_studio.core.backends.kohya.checkpoint_check import checkpoint_issues
from lora_studio.core.backends.kohya.command import (
    FLUX_FILES,
    SCRIPTS,
    bucket_plan,
    dataset_toml,
    looks_like_checkpoint_file,
    sample_prompts_text,
    stage_dataset,
    trainer_args,
)
from lora_studio.core.backends.kohya.command_text import (
    RUN_FOLDER_PLACEHOLDER,
    command_lines,
    command_script,
)
from lora_studio.core.backends.kohya.entry import KohyaSettings
from lora_studio.core.backends.kohya.probe import ProbeResult, default_python, gaps, probe_python
from lora_studio.core.backends.kohya.process import (
    LogTail,
    RunFiles,
    pid_alive,
    start_run,
    terminate_group,
)
from lora_studio.core.backends.progress import KohyaOutput
from lora_studio.core.config.training_config import (
    EIGHT_BIT_OPTIMIZERS,
    MixedPrecision,
    ModelFamily,
    TrainingConfig,
    config_from_dict,
)
from lora_studio.core.errors import BackendError, JobError, WeightsError
from lora_studio.core.jobs.events import Failed, Finished, JobEvent, Sample, StatusChanged
from lora_studio.core.jobs.status import JobStatus

log = logging.getLogger(__name__)
STREAMS = ("stdout", "stderr")


def _config(config: TrainingConfig | Mapping[str, Any]) -> TrainingConfig:
    if isinstance(config, TrainingConfig):
        return config
    return config_from_dict(config, context="The job's training settings")


class KohyaBackend:
    kind = "kohya"

    def __init__(self, settings: KohyaSettings, *, poll_interval: float = 0.25) -> None:
        self.settings = settings
        self.sd_scripts = Path(settings.sd_scripts).expanduser() if settings.sd_scripts else None
        self.python = settings.python or (
            default_python(self.sd_scripts) if self.sd_scripts else "python3"
        )
        # The composition root (app.py, the CLI) fills in the data folder when the artist set none.
        self.work_root = Path(settings.work_dir).expanduser() if settings.work_dir else None
        self.poll_interval = poll_interval
        self._probe: ProbeResult | None = None
        self._children: dict[str, asyncio.subprocess.Process] = {}
        self._cancelled: set[str] = set()
        self.where = f"kohya sd-scripts at {self.sd_scripts}" if self.sd_scripts else "kohya"

    # -- checks ----------------------------------------------------------------------------
    def _install_problem(self) -> str | None:
        if self.sd_scripts is None:
            return (
                "No kohya sd-scripts folder is set. Set it in Settings → Backends, or pass "
                "--sd-scripts DIR."
            )
        if not self.sd_scripts.is_dir():
            return f"The kohya sd-scripts folder {self.sd_scripts} does not exist."
        if not (self.sd_scripts / "train_network.py").is_file():
            return (
                f"{self.sd_scripts} is not an sd-scripts folder (it has no train_network.py). "
                "Point to the folder you cloned kohya-ss/sd-scripts into."
            )
        return None

    async def check(self) -> BackendCheck:
        problem = self._install_problem()
        if problem:
            return BackendCheck(False, problem)
        assert self.sd_scripts is not None
        self._probe = await probe_python(self.python, self.sd_scripts)
        errors, warnings = gaps(self._probe, eight_bit=False)
        facts = {"sd_scripts": str(self.sd_scripts), "python": self.python}
        if errors:
            return BackendCheck(False, " ".join(errors), tuple(warnings), facts=facts)
        gpu = self._probe.facts.get("gpu")
        vram = self._probe.facts.get("vram_gb")
        # The estimates time a CPU run as one (not as an unknown GPU).
        facts["device"] = "gpu" if self._probe.cuda else "cpu"
        where = f"on {gpu}" if gpu else "on the CPU"
        return BackendCheck(
            True,
            f"kohya sd-scripts is ready {where} (PyTorch {self._probe.torch}).",
            tuple(warnings),
            gpu_name=str(gpu) if gpu else None,
            vram_gb=float(vram) if isinstance(vram, int | float) else None,
            version=self._probe.torch,
            facts=facts,
        )

    async def validate(
        self, config: TrainingConfig | Mapping[str, Any], dataset: DatasetSummary
    ) -> list[Issue]:
        cfg = _config(config)
        issues: list[Issue] = []
        problem = self._install_problem()
        if problem:
            return [Issue("backend", "error", problem)]
        assert self.sd_scripts is not None
        script = SCRIPTS[cfg.base_model_family]
        if not (self.sd_scripts / script).is_file():
            issues.append(
                Issue(
                    "base_model_family",
                    "error",
                    f"This sd-scripts has no {script}; update it (git pull) to train "
                    f"{cfg.base_model_family.value} LoRAs.",
                )
            )
        # Disk work (the header of a multi-GB checkpoint): off the GUI thread's loop.
        issues += await asyncio.to_thread(_model_issues, cfg, self.settings.trainer_args)
        if cfg.base_model_family is ModelFamily.FLUX_DEV:
            given = " ".join(self.settings.trainer_args)
            missing = [flag for flag in FLUX_FILES if flag not in given]
            if missing:
                issues.append(
                    Issue(
                        "backend",
                        "error",
                        "Flux training with kohya also needs the text encoders and the VAE: add "
                        + ", ".join(f"{flag}=FILE" for flag in missing)
                        + " as extra trainer arguments (Settings → Backends or --trainer-arg).",
                    )
                )
        for note in bucket_plan(cfg).notes:
            issues.append(Issue("min_bucket_reso", "warning", note))
        if dataset.image_count == 0:
            issues.append(Issue("dataset", "error", "The dataset has no images to train on."))
        if self._on_cpu():
            issues += _cpu_notes(cfg)
        if self._probe is not None and cfg.optimizer in EIGHT_BIT_OPTIMIZERS:
            errors, _ = gaps(self._probe, eight_bit=True)
            issues += [Issue("optimizer", "error", e) for e in errors if "bitsandbytes" in e]
        return issues

    def estimate_cost(
        self, config: TrainingConfig | Mapping[str, Any], dataset: DatasetSummary | None = None
    ) -> float | None:
        return None  # the artist's own machine

    def effective_settings(self, job: JobLike, config: TrainingConfig) -> EffectiveSettings:
        # kohya writes its own ss_* keys from what it really ran; they are kept as they are.
        return EffectiveSettings()

    def _argv(
        self, config: TrainingConfig, files: RunFiles, job_id: str
    ) -> tuple[list[str], list[str]]:
        """(program, arguments) of the trainer for a run in `files`; program is the script,
        or accelerate launching it. The one builder of both the run and its preview."""
        assert self.sd_scripts is not None
        script = self.sd_scripts / SCRIPTS[config.base_model_family]
        if self._on_cpu():
            config = for_the_cpu(config)  # said by validate's warning
        args = trainer_args(
            config,
            dataset_config=files.dataset_toml,
            output_dir=files.output,
            output_name=config.output_name,
            comment=f"LoRA Studio job {job_id}",
            extra=self.settings.trainer_args,
            sample_prompts=files.sample_prompts if config.sample_prompts else None,
        )
        return self._command(script), args

    def _on_cpu(self) -> bool:
        """The last check ran the trainer's Python and it sees no CUDA GPU."""
        return self._probe is not None and self._probe.ok and not self._probe.cuda

    def command_preview(self, config: TrainingConfig | Mapping[str, Any]) -> str | None:
        """The command a run of `config` will start, its run folder not made yet; None when
        sd-scripts is not set up (the check says why)."""
        if self._install_problem():
            return None
        try:
            program, args = self._argv(
                _config(config), RunFiles(Path(RUN_FOLDER_PLACEHOLDER)), "<id>"
            )
        except BackendError:
            return None  # accelerate asked for but missing: validation says so
        return f"cd {shlex.quote(str(self.sd_scripts))}\n{command_lines(program, args)}"

    # -- running ---------------------------------------------------------------------------
    def _files(self, job: JobLike) -> RunFiles:
        run_dir = job.backend_state.get("run_dir")
        if not run_dir:
            raise JobError(
                f"Job {job.id} was never started with kohya; there is nothing to follow."
            )
        return RunFiles(Path(run_dir))

    def _command(self, script: Path) -> list[str]:
        if not self.settings.use_accelerate:
            return [self.python, str(script)]
        accelerate = Path(self.python).with_name("accelerate")
        launcher = str(accelerate) if accelerate.exists() else shutil.which("accelerate")
        if not launcher:
            raise BackendError(
                "accelerate is not installed next to the kohya Python; install it or turn "
                "'use accelerate' off."
            )
        return [launcher, "launch", "--num_cpu_threads_per_process", "1", str(script)]

    async def submit(
        self,
        job: JobLike,
        config: TrainingConfig,
        dataset: DatasetSummary,
        save_state: SaveState,
    ) -> None:
        if job.backend_state.get("run_dir"):
            raise JobError(f"Job {job.id} was already started with kohya.")
        problem = self._install_problem()
        if problem:
            raise BackendError(problem)
        assert self.sd_scripts is not None
        if self._probe is None:
            # A retry from the Jobs page comes without a check: what the run needs (CPU or GPU)
            # is asked now.
            self._probe = await probe_python(self.python, self.sd_scripts)
        errors = [i.message for i in await self.validate(config, dataset) if i.is_error]
        if errors:
            raise BackendError("The job cannot run with kohya: " + " ".join(errors))
        if self.work_root is None:
            raise BackendError(
                "No folder is set for kohya's runs. Set the work folder in Settings → Backends."
            )
        files = RunFiles(self.work_root / safe_filename(job.id))
        name = config.output_name
        state: dict[str, Any] = {
            "run_dir": str(files.root),
            "identity": str(self.sd_scripts),
            "output_name": name,
            "phase": "starting",
        }
        await save_state(state, None)  # on record before anything starts
        program, args = self._argv(config, files, job.id)
        script_text = command_script(
            self.sd_scripts, program, args, f"The kohya training of LoRA Studio job {job.id}."
        )

        def prepare() -> None:
            subsets = stage_dataset(dataset, config, files.root / "dataset")
            toml = dataset_toml(config, subsets, bucket_plan(config))
            atomic_write_text(files.dataset_toml, toml)
            if config.sample_prompts:
                atomic_write_text(files.sample_prompts, sample_prompts_text(config))
            # The exact command, kept with the run: what ran, and how to run it again by hand.
            atomic_write_text(files.command, script_text)

        await asyncio.to_thread(prepare)
        process = await start_run(files, self.python, [*program, *args], self.sd_scripts)
        self._children[job.id] = process
        await save_state({**state, "pid": process.pid, "phase": "running"}, f"pid {process.pid}")

    async def events(
        self, job: JobLike, config: TrainingConfig, save_state: SaveState | None = None
    ) -> AsyncIterator[JobEvent]:
        files = self._files(job)
        state = job.backend_state
        parser = KohyaOutput()
        offsets = dict(state.get("offsets") or {})
        tails = {stream: LogTail(getattr(files, stream)) for stream in STREAMS}
        for stream, tail in tails.items():
            # Re-attach: read what was already recorded without reporting it twice.
            seen = int(offsets.get(stream, 0))
            if seen:
                parser.feed(stream, await asyncio.to_thread(tail.read, seen))
        pid = state.get("pid") or files.read_pid()
        child = self._children.get(job.id)
        samples = SampleWatch(files.output / "sample", config.sample_prompts)
        samples.seen.update(state.get("samples_seen") or [])
        if not pid and state.get("phase") == "starting":
            yield Failed(
                f"Job {job.id} never started: LoRA Studio stopped while preparing the kohya run. "
                "Start the training again."
            )
            return
        while True:
            ended = (child.returncode is not None) if child else not pid_alive(pid)
            batch: list[JobEvent] = []
            for stream, tail in tails.items():
                batch += parser.feed(stream, await asyncio.to_thread(tail.read))
            batch += await asyncio.to_thread(samples.scan, parser.step)
            # Offsets first: a follower stopped halfway through the batch loses a few lines
            # rather than recording them twice when the job is followed again.
            job.backend_state = {
                **job.backend_state,
                "offsets": {stream: tail.offset for stream, tail in tails.items()},
                "samples_seen": sorted(samples.seen),
            }
            for event in batch:
                yield event
            if parser.nan_at is not None:
                if pid:
                    await terminate_group(int(pid), self.settings.cancel_grace_seconds)
                yield Failed(
                    f"The training diverged: kohya's average loss became NaN at step "
                    f"{parser.nan_at}. Lower the learning rate, or use bf16 instead of fp16."
                    + _kept(parser),
                    parser.error_detail(),
                )
                return
            if ended:
                for event in parser.flush():
                    yield event
                yield self._ending(job, files, parser, pid)
                return
            await asyncio.sleep(self.poll_interval)

    def _ending(
        self, job: JobLike, files: RunFiles, parser: KohyaOutput, pid: int | None
    ) -> JobEvent:
        code = files.read_exit_status()
        kept = _kept(parser)
        name = job.backend_state.get("output_name") or "last"
        final = files.output / f"{name}.safetensors"
        self._children.pop(job.id, None)
        if (
            job.id in self._cancelled
            or job.backend_state.get("cancel_requested")
            or files.cancel_mark.exists()
        ):
            return StatusChanged(
                JobStatus.CANCELLED, "Cancelled; the kohya trainer stopped." + kept
            )
        if code is None:
            return StatusChanged(
                JobStatus.LOST,
                f"The kohya trainer (process {pid}) is gone and left no exit status: it was "
                "killed or the computer restarted." + kept,
            )
        summary = parser.error_summary()
        if parser.no_data:
            return Failed(
                "kohya found no training data in the staged dataset (it said “No data found” and "
                "stopped). Check that the dataset folder holds images with captions.",
                parser.error_detail(),
            )
        if code != 0:
            how = f"was stopped by signal {-code}" if code < 0 else f"failed (exit code {code})"
            reason = f": {summary}" if summary else ""
            return Failed(f"The kohya trainer {how}{reason}." + kept, parser.error_detail())
        if not final.is_file():
            return Failed(
                f"The kohya trainer ended without writing the LoRA ({final.name} is missing from "
                f"{files.output})." + kept,
                parser.error_detail(),
            )
        job.backend_state = {**job.backend_state, "finished": True}
        return Finished((str(final),))

    async def cancel(self, job: JobLike) -> CancelResult:
        if not job.backend_state.get("run_dir"):
            return CancelResult(CancelOutcome.STOPPED, "The kohya run never started.")
        files = self._files(job)
        pid = job.backend_state.get("pid") or files.read_pid()
        job.backend_state = {**job.backend_state, "cancel_requested": True}
        self._cancelled.add(job.id)
        # A mark in the run folder: whichever process follows the run (the app, while
        # `jobs cancel` runs in a terminal) learns that the stop was asked for.
        with contextlib.suppress(OSError):
            files.cancel_mark.touch()
        if job.backend_state.get("finished"):
            return CancelResult(CancelOutcome.ALREADY_FINISHED, "The kohya run had finished.")
        if not pid or not pid_alive(int(pid)):
            return CancelResult(
                CancelOutcome.STOPPED, "The kohya trainer was not running any more."
            )
        how = await terminate_group(int(pid), self.settings.cancel_grace_seconds)
        detail = "" if how != "killed" else " It did not stop in time and was killed."
        return CancelResult(
            CancelOutcome.STOPPING,
            f"Stopped the kohya trainer (process group {pid}).{detail} Checkpoints it saved "
            "so far are kept.",
        )

    async def download(self, job: JobLike, config: TrainingConfig, dest_dir: Path) -> list[Path]:
        files = self._files(job)
        name = str(job.backend_state.get("output_name") or "last")
        final = files.output / f"{name}.safetensors"
        if job.backend_state.get("finished") and final.is_file():
            source, local = final, f"{name}.safetensors"
        else:
            latest = _latest_checkpoint(files.output, name)
            if latest is None:
                raise BackendError(f"Job {job.id} has no LoRA or checkpoint in {files.output}.")
            source, label = latest
            local = f"{name}_{label}.safetensors"
        return [await asyncio.to_thread(_deliver, source, Path(dest_dir), local)]

    async def logs(self, job: JobLike) -> list[str]:
        files = self._files(job)

        def tail() -> list[str]:
            lines: list[str] = []
            for path in (files.stdout, files.stderr):
                try:
                    text = path.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                lines += [line for line in text.replace("\r", "\n").splitlines() if line.strip()]
            return lines[-400:]

        return await asyncio.to_thread(tail)

    async def aclose(self) -> None:
        # Trainers keep running when the app closes; a later start re-attaches to them.
        self._children.clear()


class SampleWatch:
    """kohya's sample images as they appear: `[name_]<step:06d|e<epoch:06d>>_<idx:02d>_<time>
    [_<seed>].png` in `output/sample/` (docs/protocols.md §4.6); idx is the prompt's line."""

    _NAME = re.compile(r"(?:^|_)(e?)(\d{6})_(\d{2})_\d{14}(?:_\d+)?\.png$")

    def __init__(self, folder: Path, prompts: list[str]) -> None:
        self.folder, self.prompts = folder, prompts
        self.seen: set[str] = set()

    def scan(self, current_step: int) -> list[JobEvent]:
        if not self.prompts or not self.folder.is_dir():
            return []
        events: list[JobEvent] = []
        for path in sorted(self.folder.glob("*.png")):
            match = self._NAME.search(path.name)
            if path.name in self.seen or match is None:
                continue
            self.seen.add(path.name)
            by_epoch, number, index = match.group(1), int(match.group(2)), int(match.group(3))
            step = current_step if by_epoch else number
            prompt = self.prompts[index] if index < len(self.prompts) else ""
            events.append(Sample(step, prompt, str(path), with_lora=step > 0))
        return events


def _model_issues(cfg: TrainingConfig, trainer_args: list[str]) -> list[Issue]:
    model = cfg.base_model.strip()
    if not model:
        return [Issue("base_model", "error", "Choose the checkpoint file kohya should train on.")]
    if looks_like_checkpoint_file(model) and not Path(model).expanduser().is_file():
        return [
            Issue(
                "base_model",
                "error",
                f"The checkpoint {model} does not exist on this computer; kohya needs the full "
                "path of the model file.",
            )
        ]
    if model.endswith(".safetensors"):
        return checkpoint_issues(Path(model).expanduser(), cfg.base_model_family, trainer_args)
    return []


def _cpu_notes(cfg: TrainingConfig) -> list[Issue]:
    """What a run on the CPU (the check found no CUDA GPU) runs differently from the settings."""
    if cfg.mixed_precision is not MixedPrecision.FP16:
        return []
    return [
        Issue(
            "mixed_precision",
            "warning",
            'fp16 does not run on the CPU: kohya stops at its first step ("expected m1 and m2 '
            'to have the same dtype"). This run uses full precision (mixed precision no) '
            "instead: slower, but it trains. On a computer with a CUDA GPU, fp16 is used as set.",
        )
    ]


def for_the_cpu(cfg: TrainingConfig) -> TrainingConfig:
    """`cfg` as a CPU run must have it: fp16 mixed precision becomes full precision."""
    if cfg.mixed_precision is MixedPrecision.FP16:
        return cfg.model_copy(update={"mixed_precision": MixedPrecision.NO})
    return cfg


def _kept(parser: KohyaOutput) -> str:
    if not parser.checkpoints:
        return ""
    path, step, epoch = parser.checkpoints[-1]
    when = f"step {step}" if step is not None else f"epoch {epoch}"
    return f" The checkpoint of {when} is kept ({path})."


def _latest_checkpoint(folder: Path, name: str) -> tuple[Path, str] | None:
    best: tuple[float, Path, str] | None = None
    for path in folder.glob(f"{name}-*.safetensors"):
        label = path.stem[len(name) + 1 :]
        if label.startswith("step") and label[4:].isdigit():
            label = f"step{int(label[4:])}"
        elif label.isdigit():
            label = f"epoch{int(label)}"
        else:
            continue
        mtime = path.stat().st_mtime
        if best is None or mtime > best[0]:
            best = (mtime, path, label)
    return (best[1], best[2]) if best else None


def _deliver(source: Path, dest_dir: Path, local_name: str) -> Path:
    """Copy a LoRA into `dest_dir` under a new name and verify it.

    Written under a temporary name and named only once complete and verified (`NewFile`), with
    the usual file mode: a process killed mid-copy leaves nothing under the LoRA's name.
    """
    check_safetensors_file(source)
    target = NewFile(dest_dir, safe_filename(local_name))
    try:
        with open(source, "rb") as src, open(target.staging, "xb") as handle:
            shutil.copyfileobj(src, handle, 1 << 20)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            check_safetensors_file(target.staging)
        except WeightsError as exc:  # name the LoRA, not its temporary file
            message = exc.user_message.replace(target.staging.name, display_name(target.staging))
            raise WeightsError(message, detail=exc.detail) from exc
        return target.commit()
    finally:
        target.discard()  # gone once committed; a copy that failed the check goes
