"""Command `lora-studio train`: validate, estimate, submit, follow and collect a training.

    lora-studio train DIR --backend comfyui --preset sdxl [--set key=value …] [--base-model NAME]
                      [--url URL] [--out DIR] [--name NAME] [--json]

Exit codes: 0 the LoRA was downloaded, verified and stamped; 1 the job or the backend failed;
2 bad input (preset, --set values, configuration or dataset problems the backend refuses);
130 cancelled with Ctrl-C (the job is cancelled on the backend and the note says what stopped).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from lora_studio import paths
from lora_studio.commands._backends import add_backend_options, make_backend
from lora_studio.commands._command import (
    EXIT_CANCELLED,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    add_json_flag,
)
from lora_studio.commands._console import EventPrinter
from lora_studio.commands._dataset_run import left_out_warnings
from lora_studio.core.backends.http import DOWNLOAD_PROGRESS
from lora_studio.core.backends.registry import get_kind
from lora_studio.core.config.estimates import estimate_training, format_estimate
from lora_studio.core.config.issues import InvalidConfigError, errors_only, warnings_only
from lora_studio.core.config.overrides import apply_overrides, parse_assignments
from lora_studio.core.config.presets import get_preset
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.dataset.concurrency import TextProgress
from lora_studio.core.errors import (
    BackendUnavailableError,
    ConfigError,
    DatasetError,
    LoraStudioError,
)
from lora_studio.core.jobs import Job, JobStatus, JobStore, dataset_fingerprint
from lora_studio.core.jobs.naming import next_run_name, run_base, taken_names
from lora_studio.core.plurals import plural
from lora_studio.core.training.backend_estimate import estimate_on_backend
from lora_studio.core.training.caption_style import caption_style_warning
from lora_studio.core.training.dataset_input import (
    load_training_dataset,
    measured_seconds_per_step,
)
from lora_studio.core.training.runner import JobRunner


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a LoRA on a backend and download it",
        description="Check the dataset and settings, submit the training to a backend, follow "
        "its progress and loss, then download the LoRA into --out with full metadata. "
        "Ctrl-C cancels the job on the backend.",
    )
    parser.add_argument(
        "dir", type=Path, metavar="DIR", help="dataset folder (images + .txt captions)"
    )
    add_backend_options(parser, kind_required=True)
    parser.add_argument("--preset", default="sdxl", metavar="P", help="preset name (default: sdxl)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change one setting of the preset, e.g. --set rank=16 (repeatable)",
    )
    parser.add_argument(
        "--base-model", metavar="NAME", help="checkpoint to train on (as the backend names it)"
    )
    parser.add_argument(
        "--destination", metavar="OWNER/MODEL", help="Replicate model that receives the weights"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("loras"),
        metavar="DIR",
        help="where the LoRA is saved (default: ./loras)",
    )
    parser.add_argument(
        "--name",
        metavar="NAME",
        help="run name, also the LoRA's file name (default: <dataset>_<preset>_<n>, n counting "
        "the runs of that dataset and preset)",
    )
    parser.add_argument(
        "--single-prompt",
        action="store_true",
        help="ComfyUI: train in one prompt instead of cancellable chunks",
    )
    parser.add_argument("--chunk-steps", type=int, metavar="N", help="ComfyUI: steps per chunk")
    parser.add_argument(
        "--sample-prompt",
        dest="sample_prompts",
        action="append",
        default=[],
        metavar="TEXT",
        help="render TEXT with every checkpoint (and once without the LoRA) into NAME_samples/ "
        "beside the LoRA (repeatable)",
    )
    parser.add_argument("--verbose", action="store_true", help="also print the backend's log lines")
    add_json_flag(parser, "print JSON lines, one per event")
    parser.set_defaults(func=run)


def _config(args: argparse.Namespace) -> TrainingConfig:
    config = get_preset(args.preset, paths.config_dir()).config
    overrides = parse_assignments(args.overrides)
    if args.base_model:
        overrides["base_model"] = args.base_model
    config = apply_overrides(config, overrides) if overrides else config
    if getattr(args, "sample_prompts", None):
        try:
            config = config.model_copy(update={"sample_prompts": list(args.sample_prompts)})
            config = TrainingConfig.model_validate(config.model_dump())
        except ValueError as exc:
            raise ConfigError(f"A --sample-prompt is not usable: {exc}") from exc
    return config


def _run_name(
    args: argparse.Namespace, config: TrainingConfig, folder: Path, store: JobStore
) -> str:
    """The artist's name (--name, --set output_name=…) or `<dataset>_<preset>_<n>`."""
    if args.name:
        return str(args.name)
    if "output_name" in parse_assignments(args.overrides):
        return config.output_name
    return next_run_name(run_base(folder, args.preset), taken_names(store))


def _say(printer: EventPrinter, kind: str, text: str, **data: object) -> None:
    printer.emit({"event": kind, "text": text, **data})


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_train(args))
    except KeyboardInterrupt:
        print(
            "Interrupted; a job that was already submitted may still run on the backend. "
            "Check it with `lora-studio jobs`.",
            file=sys.stderr,
        )
        return EXIT_CANCELLED


async def _train(args: argparse.Namespace) -> int:
    printer = EventPrinter(as_json=args.json, verbose=args.verbose)
    try:
        config = _config(args)
    except InvalidConfigError as exc:
        for issue in exc.issues:
            print(f"error: {issue}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)
        return EXIT_USAGE
    # Every picture must decode before anything is sent (kohya stops on a damaged one): the
    # check reuses known verdicts and decodes the rest, with a progress line on a terminal.
    progress = TextProgress("Checking that the pictures decode", sys.stderr)
    try:
        dataset = await asyncio.to_thread(
            load_training_dataset, args.dir, config, progress=progress
        )
    except DatasetError as exc:
        progress.finish()
        print(f"error: {exc.user_message}", file=sys.stderr)
        return EXIT_USAGE
    progress.finish()
    for line in left_out_warnings(dataset):
        print(line, file=sys.stderr)
    style = caption_style_warning(
        config,
        dataset.summary,
        "`lora-studio caption DIR --provider … --style sentence --mode overwrite` rewrites them "
        "(one step the Captions page can undo), or go on: this is a warning.",
    )
    if style:
        print(f"warning: {style}", file=sys.stderr)

    with JobStore(paths.job_store_file()) as history:
        measured = measured_seconds_per_step(history, config, args.backend)
    estimate = estimate_training(
        config, dataset.shape, backend=args.backend, measured_seconds_per_step=measured or None
    )
    for issue in warnings_only(estimate.issues):
        print(f"warning: {issue}", file=sys.stderr)
    if errors_only(estimate.issues):
        for issue in errors_only(estimate.issues):
            print(f"error: {issue}", file=sys.stderr)
        return EXIT_USAGE
    _say(
        printer,
        "plan",
        f"Dataset: {plural(dataset.image_count, 'image')} in "
        f"{plural(len(dataset.dataset_dirs), 'folder')} of {dataset.folder}\n"
        f"Plan: {estimate.length.total_steps:,} steps · VRAM {format_estimate(estimate.vram)}"
        + (f" · cost {format_estimate(estimate.cost)}" if estimate.cost else ""),
        estimate=estimate.to_dict(),
        images=dataset.image_count,
    )

    try:
        backend = make_backend(args, args.backend)
    except ConfigError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)
        return EXIT_USAGE
    store = JobStore(paths.job_store_file())
    try:
        return await _run_on_backend(
            args, printer, config, dataset, backend, store, estimate.length.total_steps, measured
        )
    finally:
        await backend.aclose()
        store.close()


async def _run_on_backend(
    args, printer, config, dataset, backend, store, total_steps, measured
) -> int:  # type: ignore[no-untyped-def]
    check = await backend.check()
    if not check.available:
        print(f"error: {check.diagnosis}", file=sys.stderr)
        return EXIT_FAILED
    _say(
        printer,
        "backend",
        f"Backend: {check.diagnosis}",
        gpu=check.gpu_name,
        vram_gb=check.vram_gb,
    )
    for warning in check.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    issues = await backend.validate(config, dataset.summary)
    for issue in issues:
        print(f"{'error' if issue.is_error else 'warning'}: {issue.message}", file=sys.stderr)
    if any(issue.is_error for issue in issues):
        return EXIT_USAGE
    # The same estimate as the wizard's review: on the hardware the backend reported.
    on_backend = estimate_on_backend(
        config, dataset.shape, backend.kind, check, measured, local=get_kind(backend.kind).local
    )
    _say(
        printer,
        "time",
        f"Time: {on_backend.duration_text}",
        estimate=on_backend.estimate.to_dict(),
        hardware_known=on_backend.hardware_known,
    )

    name = await asyncio.to_thread(_run_name, args, config, dataset.folder, store)
    config = config.model_copy(update={"output_name": name})
    fingerprint = await asyncio.to_thread(dataset_fingerprint, dataset.folder)
    job = Job(
        name=name,
        backend=backend.kind,
        dataset_path=str(dataset.folder),
        dataset_fingerprint=fingerprint,
        config=config,
        preset=args.preset,
        cost=backend.estimate_cost(config, dataset.summary),
    )
    runner = JobRunner(store, backend)
    try:
        job = await runner.submit(job, dataset)
    except BackendUnavailableError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)
        return EXIT_FAILED
    except LoraStudioError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)
        return EXIT_FAILED
    _say(
        printer,
        "submitted",
        f"Job {job.id} submitted ({total_steps:,} steps).",
        job_id=job.id,
        backend_job_id=job.backend_job_id,
    )
    return await follow_job(runner, job, args.out, printer, dataset=dataset)


async def follow_job(
    runner: JobRunner, job: Job, out: Path, printer: EventPrinter, *, dataset=None
) -> int:  # type: ignore[no-untyped-def]
    """Follow until the end; Ctrl-C cancels on the backend. Shared with `jobs attach`.

    Ctrl-C is taken as a signal handler that sets an event, not as task cancellation: the
    follower keeps running (and recording) while the backend is asked to stop, so the job's
    record ends as cancelled, and no cancellation can be lost inside library code.
    """
    interrupted = InterruptSignal()
    printer.job_id = job.id
    # The follower task copies this context: the LoRA's download reports its progress here.
    DOWNLOAD_PROGRESS.set(printer.download_progress)
    follower = asyncio.ensure_future(runner.follow(job, out, dataset=dataset, on_event=printer))
    with interrupted:
        try:
            if not await interrupted.wait_for(follower):
                return await _cancel_while_following(runner, job, follower, interrupted, printer)
            final = follower.result()
        except BackendUnavailableError as exc:
            print(
                f"error: {exc.user_message} Job {job.id} is kept; follow it later with "
                f"`lora-studio jobs attach {job.id}`.",
                file=sys.stderr,
            )
            return EXIT_FAILED
        except LoraStudioError as exc:
            # Following stopped, not the job: it is kept as it was, on the server and on record.
            print(
                f"error: {exc.user_message} Job {job.id} is kept; follow it again with "
                f"`lora-studio jobs attach {job.id}`.",
                file=sys.stderr,
            )
            return EXIT_FAILED
    if final.status is JobStatus.COMPLETED:
        _say(
            printer,
            "done",
            f"Done: job {final.id} — " + ", ".join(final.outputs),
            job_id=final.id,
            outputs=final.outputs,
        )
        return EXIT_OK
    print(
        f"error: job {final.id} ended as {final.status.value}: {final.error or 'no reason given'}",
        file=sys.stderr,
    )
    return EXIT_CANCELLED if final.status is JobStatus.CANCELLED else EXIT_FAILED


async def _cancel_while_following(
    runner: JobRunner,
    job: Job,
    follower: asyncio.Future[Job],
    interrupted: InterruptSignal,
    printer: EventPrinter,
) -> int:
    print(f"\nCancelling job {job.id}…", file=sys.stderr)
    try:
        result = await runner.cancel(job.id)
    except LoraStudioError as exc:
        print(f"Could not cancel job {job.id}: {exc.user_message}", file=sys.stderr)
        await _stop(follower)
        return EXIT_CANCELLED
    print(result.message, file=sys.stderr)
    _say(
        printer,
        "cancelled",
        f"Job {job.id}: {result.outcome.value}.",
        outcome=result.outcome.value,
        message=result.message,
    )
    # Honest cancel: a running part may finish on the server first; wait for the backend to
    # report the end so the record says cancelled. A second Ctrl-C stops waiting.
    print("Waiting for the backend to stop (Ctrl-C again to stop waiting)…", file=sys.stderr)
    if await interrupted.wait_for(follower):
        try:
            final = follower.result()
            print(f"Job {final.id} ended as {final.status.value}.", file=sys.stderr)
        except LoraStudioError as exc:
            print(f"Job {job.id}: {exc.user_message}", file=sys.stderr)
    else:
        await _stop(follower)
        print(
            f"Stopped waiting; job {job.id} may still end on the backend. "
            f"`lora-studio jobs attach {job.id}` follows it again.",
            file=sys.stderr,
        )
    return EXIT_CANCELLED


async def _stop(follower: asyncio.Future[Job]) -> None:
    follower.cancel()
    await asyncio.gather(follower, return_exceptions=True)


class InterruptSignal:
    """Ctrl-C as an asyncio event while a job is followed (POSIX); elsewhere KeyboardInterrupt
    keeps its default meaning."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._installed = False

    def __enter__(self) -> InterruptSignal:
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGINT, self._event.set)
            self._installed = True
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # Windows or not the main thread
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)

    async def wait_for(self, follower: asyncio.Future[Job]) -> bool:
        """True when `follower` ended, False when Ctrl-C came first (and re-arms the event)."""
        waiter = asyncio.ensure_future(self._event.wait())
        try:
            await asyncio.wait({follower, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if follower.done():
            return True
        self._event.clear()
        return False
