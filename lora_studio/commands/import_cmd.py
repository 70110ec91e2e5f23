"""Command `lora-studio import DIR SOURCE… [--folder NAME] [--every SECONDS] [--json]`.

Headless wrapper over `core.dataset.import_sources`: copies pictures (files, folders, zip
archives) and frames of videos into a dataset folder, created if needed. Originals are never
changed; names are made unique; a caption beside a picture comes along. Prints what was imported
and every file that was not, each with a sentence. Exit codes follow the rule shared with
`prepare` (README, "Exit codes"): 0 everything asked for was done — files skipped on purpose (not
a picture inside a folder, already in the dataset) do not count against it; 1 partial success
(some files could not be imported, each named on stdout; the rest is complete) or the disk is
full/read-only; 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lora_studio.commands._command import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    add_json_flag,
    exits,
    print_json,
)
from lora_studio.commands._dataset_run import run_with_progress
from lora_studio.core.dataset import ImportReport, import_sources
from lora_studio.core.plurals import plural


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "import",
        help="copy pictures, folders, zip archives or video frames into a dataset",
        description="Copy pictures into a dataset folder: image files, folders (searched "
        "recursively), zip archives (checked for unsafe paths and zip bombs) and videos (a "
        "frame every few seconds; needs the optional PyAV package). Originals are untouched.",
    )
    parser.add_argument("directory", type=Path, metavar="DIR", help="the dataset folder")
    parser.add_argument("sources", type=Path, nargs="+", metavar="SOURCE", help="what to import")
    parser.add_argument(
        "--folder", metavar="NAME", help="import into this subfolder, e.g. 10_ohwx (kohya repeats)"
    )
    parser.add_argument(
        "--every", type=float, default=2.0, metavar="SECONDS", help="video frame interval (2)"
    )
    add_json_flag(parser)
    parser.set_defaults(func=run)


@exits
def run(args: argparse.Namespace) -> int:
    directory: Path = args.directory
    if directory.exists() and not directory.is_dir():
        print(f"{directory} is a file; give the dataset folder.", file=sys.stderr)
        return EXIT_USAGE
    if args.every <= 0:
        print("--every must be more than 0 seconds.", file=sys.stderr)
        return EXIT_USAGE
    report = run_with_progress(
        "Importing",
        lambda cancel, progress: import_sources(
            directory,
            args.sources,
            folder=args.folder,
            frame_interval=args.every,
            cancel=cancel,
            progress=progress,
        ),
        cancelled_note="Cancelled; the files imported so far are complete.",
    )
    if args.json:
        print_json(to_json(report))
    else:
        print(format_report(report, directory))
    return EXIT_FAILED if report.failed else EXIT_OK


def to_json(report: ImportReport) -> dict[str, object]:
    return {
        "imported": [
            {
                "source": item.source,
                "path": str(item.destination),
                "caption": str(item.caption) if item.caption else None,
            }
            for item in report.imported
        ],
        "failed": [{"source": p.source, "message": p.message} for p in report.failed],
        "skipped": [{"source": p.source, "message": p.message} for p in report.skipped],
        "warnings": [{"source": p.source, "message": p.message} for p in report.warnings],
    }


def format_report(report: ImportReport, directory: Path) -> str:
    captions = sum(1 for item in report.imported if item.caption is not None)
    lines = [
        f"Imported {plural(len(report.imported), 'picture')} into {directory} ({captions} with a caption)."
    ]
    lines.extend(f"  not imported: {problem.message}" for problem in report.failed)
    lines.extend(f"  warning: {problem.message}" for problem in report.warnings)
    lines.extend(f"  skipped: {problem.message}" for problem in report.skipped)
    return "\n".join(lines)
