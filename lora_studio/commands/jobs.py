"""Command `lora-studio jobs`: list, show, cancel and follow the jobs in the job store.

    lora-studio jobs [--json] [--status S] [--limit N]
    lora-studio jobs show ID [--json]
    lora-studio jobs cancel ID [--url URL]
    lora-studio jobs attach ID [--url URL] [--out DIR] [--json]
    lora-studio jobs download ID [--url URL] [--out DIR]

`download` fetches an ended job's LoRA again — a training that finished but whose download broke
off (the job then becomes completed), or the last kept checkpoint of a failed, cancelled or lost
chunked job — as long as the server still has the file.

Exit codes: 0 ok, 1 the backend failed or the job ended badly, 2 unknown job or bad options,
130 `attach` interrupted with Ctrl-C (which cancels the job, as in `train`).
"""

from __future__ import annotations

import argparse
import asyncio
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
    print_json,
)
from lora_studio.commands._console import EventPrinter
from lora_studio.core.backends.http import DOWNLOAD_PROGRESS
from lora_studio.core.errors import ConfigError, JobError, LoraStudioError
from lora_studio.core.jobs import Job, JobStatus, JobStore
from lora_studio.core.training.runner import JobRunner, only_download_failed


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "jobs",
        help="list, show, cancel or follow training jobs",
        description="The training jobs LoRA Studio knows about (from the GUI and the CLI).",
    )
    add_json_flag(parser, "print JSON")
    parser.add_argument(
        "--status", choices=[s.value for s in JobStatus], help="only jobs with this status"
    )
    parser.add_argument(
        "--limit", type=int, default=50, metavar="N", help="at most N jobs (default 50)"
    )
    parser.set_defaults(func=run_list)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")

    show = actions.add_parser("show", help="everything about one job")
    show.add_argument("job_id", metavar="ID")
    add_json_flag(show, "print the job's full record as JSON")
    show.set_defaults(func=run_show)

    cancel = actions.add_parser("cancel", help="cancel a job on its backend")
    cancel.add_argument("job_id", metavar="ID")
    add_backend_options(cancel, kind_required=False)
    cancel.set_defaults(func=run_cancel)

    attach = actions.add_parser("attach", help="follow a running job until it ends")
    attach.add_argument("job_id", metavar="ID")
    add_backend_options(attach, kind_required=False)
    attach.add_argument(
        "--out", type=Path, default=Path("loras"), metavar="DIR", help="where the LoRA is saved"
    )
    add_json_flag(attach, "print JSON lines, one per event")
    attach.add_argument("--verbose", action="store_true", help="also print the backend's log lines")
    attach.set_defaults(func=run_attach)

    download = actions.add_parser(
        "download", help="download an ended job's LoRA (or last kept checkpoint) again"
    )
    download.add_argument("job_id", metavar="ID")
    add_backend_options(download, kind_required=False)
    download.add_argument(
        "--out", type=Path, default=Path("loras"), metavar="DIR", help="where the LoRA is saved"
    )
    download.set_defaults(func=run_download)


def _summary(job: Job) -> dict[str, object]:
    return {
        "id": job.id,
        "name": job.name,
        "backend": job.backend,
        "status": job.status.value,
        "step": job.progress.step,
        "total": job.progress.total,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "outputs": job.outputs,
        "error": job.error,
        "cost": job.cost,
    }


def run_list(args: argparse.Namespace) -> int:
    with JobStore(paths.job_store_file()) as store:
        jobs = store.list(status=JobStatus(args.status) if args.status else None, limit=args.limit)
    if args.json:
        print_json([_summary(job) for job in jobs])
        return EXIT_OK
    if not jobs:
        print("No jobs yet. Start one with `lora-studio train DIR --backend comfyui`.")
        return EXIT_OK
    print(f"{'ID':<28} {'STATUS':<10} {'BACKEND':<9} {'PROGRESS':<13} NAME")
    for job in jobs:
        progress = (
            f"{job.progress.step}/{job.progress.total}"
            if job.progress.total
            else str(job.progress.step)
        )
        print(f"{job.id:<28} {job.status.value:<10} {job.backend:<9} {progress:<13} {job.name}")
    return EXIT_OK


def _get(store: JobStore, job_id: str) -> Job | None:
    try:
        return store.get(job_id)
    except JobError as exc:
        print(f"error: {exc.user_message} List the jobs with `lora-studio jobs`.", file=sys.stderr)
        return None


def run_show(args: argparse.Namespace) -> int:
    with JobStore(paths.job_store_file()) as store:
        job = _get(store, args.job_id)
        if job is None:
            return EXIT_USAGE
        if args.json:
            print(store.export_json(job.id))
            return EXIT_OK
        losses = store.loss_series(job.id)
        logs = store.logs(job.id, limit=10)
    print(f"Job {job.id}: {job.name}")
    for label, value in (
        ("Status", job.status.value),
        ("Backend", f"{job.backend} ({job.backend_job_id or '—'})"),
        ("Dataset", job.dataset_path),
        ("Preset", job.preset or "—"),
        ("Progress", f"{job.progress.step}/{job.progress.total or '?'}"),
        ("Created", job.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")),
        (
            "Finished",
            job.finished_at.astimezone().strftime("%Y-%m-%d %H:%M:%S") if job.finished_at else "—",
        ),
        ("Cost", f"${job.cost:.2f}" if job.cost is not None else "—"),
        ("Last loss", f"{losses[-1].value:.4f} at step {losses[-1].step}" if losses else "—"),
    ):
        print(f"  {label:<10} {value}")
    if job.error:
        print(f"  Error      {job.error}")
    for output in job.outputs:
        print(f"  Output     {output}")
    for checkpoint in job.checkpoints:
        print(f"  Checkpoint step {checkpoint.step}: {checkpoint.location}")
    if logs:
        print("  Last log lines:")
        for line in logs:
            print(f"    {line.text}")
    return EXIT_OK


def _runner_for(args: argparse.Namespace, store: JobStore, job: Job) -> JobRunner | None:
    server = job.backend_state.get("server")
    if not getattr(args, "url", None) and isinstance(server, str) and server:
        args.url = server  # follow the job where it was submitted
    try:
        backend = make_backend(args, args.backend or job.backend)
    except ConfigError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)
        return None
    return JobRunner(store, backend)


def run_cancel(args: argparse.Namespace) -> int:
    async def cancel() -> int:
        with JobStore(paths.job_store_file()) as store:
            job = _get(store, args.job_id)
            if job is None:
                return EXIT_USAGE
            runner = _runner_for(args, store, job)
            if runner is None:
                return EXIT_USAGE
            try:
                result = await runner.cancel(job.id)
            except LoraStudioError as exc:
                print(f"error: {exc.user_message}", file=sys.stderr)
                return EXIT_FAILED
            finally:
                await runner.backend.aclose()
        print(f"Job {job.id}: {result.outcome.value}. {result.message}")
        return EXIT_OK

    return asyncio.run(cancel())


def run_attach(args: argparse.Namespace) -> int:
    from lora_studio.commands.train import follow_job

    async def attach() -> int:
        with JobStore(paths.job_store_file()) as store:
            job = _get(store, args.job_id)
            if job is None:
                return EXIT_USAGE
            if job.is_finished:
                hint = ""
                if only_download_failed(job):
                    hint = (
                        f" Its training finished but the download failed: `lora-studio jobs "
                        f"download {job.id}` fetches it again."
                    )
                print(f"Job {job.id} already ended ({job.status.value}).{hint}", file=sys.stderr)
                return EXIT_OK if job.status is JobStatus.COMPLETED else EXIT_FAILED
            runner = _runner_for(args, store, job)
            if runner is None:
                return EXIT_USAGE
            try:
                printer = EventPrinter(as_json=args.json, verbose=args.verbose)
                return await follow_job(runner, job, args.out, printer)
            finally:
                await runner.backend.aclose()

    try:
        return asyncio.run(attach())
    except KeyboardInterrupt:
        return EXIT_CANCELLED


def run_download(args: argparse.Namespace) -> int:
    async def download() -> int:
        with JobStore(paths.job_store_file()) as store:
            job = _get(store, args.job_id)
            if job is None:
                return EXIT_USAGE
            if not job.is_finished:
                print(
                    f"Job {job.id} is still {job.status.value}; `lora-studio jobs attach "
                    f"{job.id}` follows it and downloads the LoRA when it ends.",
                    file=sys.stderr,
                )
                return EXIT_USAGE
            runner = _runner_for(args, store, job)
            if runner is None:
                return EXIT_USAGE
            try:
                before = set(job.outputs) | {c.location for c in job.checkpoints}
                DOWNLOAD_PROGRESS.set(EventPrinter(as_json=False).download_progress)
                final = await runner.fetch(job, args.out)
            except LoraStudioError as exc:
                print(f"error: {exc.user_message}", file=sys.stderr)
                return EXIT_FAILED
            finally:
                await runner.backend.aclose()
        saved = [p for p in [*final.outputs, *(c.location for c in final.checkpoints)]]
        for path in dict.fromkeys(p for p in saved if p not in before):
            print(f"Saved: {path}")
        print(f"Job {final.id} is {final.status.value}.")
        return EXIT_OK

    return asyncio.run(download())
