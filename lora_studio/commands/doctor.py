"""Command `lora-studio doctor DIR [--resolution R] [--trigger WORD] [--batch N] [--json]`.

Headless wrapper over `core.dataset.run_doctor`: every problem file of a dataset with a sentence
and the fix LoRA Studio can apply. Output is a table (errors first) followed by a summary and the
bucket counts, or with `--json` a JSON list of `{path, kind, severity, message, fix}` (paths
absolute). Settings not given on the command line come from the dataset's manifest, then defaults
(1024, batch 1). Exit codes: 0 the dataset was examined (whatever it found), 1 the examination
itself failed (unreadable folder), 2 bad input (no such folder, invalid option).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lora_studio.commands._command import EXIT_OK, EXIT_USAGE, add_json_flag, exits, print_json
from lora_studio.commands._dataset_run import require_dataset_dir, run_with_progress
from lora_studio.core.dataset import (
    DoctorOptions,
    DoctorReport,
    Sidecar,
    run_doctor,
)
from lora_studio.core.dataset.buckets import BucketSettings, bucket_summary, describe_bucket
from lora_studio.core.errors import DatasetError
from lora_studio.core.plurals import plural


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check a dataset folder and name every problem file",
        description="Check every picture and caption of a dataset folder: unreadable or "
        "truncated files, EXIF rotation, CMYK/16-bit/palette/alpha, too small, extreme aspect "
        "ratios, near-duplicates, missing/empty/orphan/long captions, the trigger word and "
        "buckets smaller than the batch.",
    )
    parser.add_argument("directory", type=Path, metavar="DIR", help="the dataset folder")
    parser.add_argument("--resolution", type=int, metavar="R", help="training resolution (1024)")
    parser.add_argument("--trigger", metavar="WORD", help="trigger word every caption should hold")
    parser.add_argument("--batch", type=int, metavar="N", help="training batch size (1)")
    parser.add_argument("--no-buckets", action="store_true", help="train square crops only")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="headers and captions only: skip decoding (no truncation or duplicate checks)",
    )
    parser.add_argument("--workers", type=int, default=2, metavar="N", help="threads (2)")
    add_json_flag(parser, "print the findings as JSON")
    parser.set_defaults(func=run)


@exits
def run(args: argparse.Namespace) -> int:
    directory: Path = args.directory
    require_dataset_dir(directory)
    try:
        manifest = Sidecar(directory).load_manifest()
        resolution = args.resolution or manifest.resolution or 1024
        options = DoctorOptions(
            resolution=resolution,
            trigger=args.trigger if args.trigger is not None else manifest.trigger_word,
            batch_size=args.batch or manifest.batch_size or 1,
            buckets=BucketSettings(resolution, enabled=not args.no_buckets),
            check_pixels=not args.quick,
            workers=max(1, args.workers),
        )
    except DatasetError as exc:
        print(exc.user_message, file=sys.stderr)
        return EXIT_USAGE
    report = run_with_progress(
        "Checking pictures",
        lambda cancel, progress: run_doctor(directory, options, cancel=cancel, progress=progress),
        cancelled_note="Cancelled.",
        bad_input_is_usage_error=False,
    )
    if args.json:
        print_json([f.to_dict() for f in report.findings])
    else:
        print(format_report(report, options))
    return EXIT_OK


def format_report(report: DoctorReport, options: DoctorOptions) -> str:
    """The table printed without --json."""
    root = report.scan.root
    lines: list[str] = []
    for finding in report.findings:
        try:
            shown = finding.path.relative_to(root).as_posix()
        except ValueError:
            shown = str(finding.path)
        fix = f"  [fix: {finding.fix}]" if finding.fix else ""
        lines.append(f"{finding.severity.upper():<8} {finding.kind:<22} {shown}{fix}")
        lines.append(f"         {finding.message}")
    counts = report.counts()
    pictures = len(report.scan.entries)
    if not report.findings:
        lines.append(f"No problems found in {plural(pictures, 'picture')}.")
    lines.append(
        f"{plural(pictures, 'picture')}: {plural(counts['error'], 'error')}, "
        f"{plural(counts['warning'], 'warning')}, {plural(counts['info'], 'note')}; "
        f"{plural(len(report.duplicate_groups), 'near-duplicate group')}."
    )
    rows = bucket_summary(report.buckets)
    if rows:
        shown_rows = ", ".join(f"{describe_bucket(size)}: {count}" for size, count, _ in rows)
        lines.append(f"Buckets at {options.bucket_settings.resolution}: {shown_rows}")
    singles = report.buckets.singletons
    if singles and len(rows) > 1:
        lines.append(
            "Buckets with a single picture: " + ", ".join(describe_bucket(s) for s in singles)
        )
    if report.cancelled:
        lines.append("Cancelled before every picture was checked; the list is incomplete.")
    return "\n".join(lines)
