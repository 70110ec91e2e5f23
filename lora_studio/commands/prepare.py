"""Command `lora-studio prepare DIR --out OUT [--resolution R] [--format F] [--no-buckets]`.

Headless wrapper over `core.dataset.prepare_dataset`: writes every readable picture of DIR, cut to
its kohya bucket (or R×R with --no-buckets) and re-encoded, into OUT with its caption, mirroring
concept folders. A progress line goes to stderr. Pictures that cannot be read are listed and
skipped (the rest of the dataset is still worth training). Exit codes follow the rule shared with
`import` (README, "Exit codes"): 0 every picture was prepared, 1 partial success (some pictures
could not be read or written, each named on stderr; the rest is complete), nothing could be
written, or the output disk is full/read-only, 2 bad input (no such DIR, OUT inside DIR, …).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from lora_studio.commands._command import EXIT_FAILED, EXIT_OK, EXIT_USAGE, exits
from lora_studio.commands._dataset_run import require_dataset_dir, run_with_progress
from lora_studio.core.dataset import PrepareOptions, prepare_dataset
from lora_studio.core.dataset.buckets import describe_bucket
from lora_studio.core.errors import DatasetError
from lora_studio.core.plurals import plural


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "prepare",
        help="write a training-ready copy of a dataset (cropped and resized to its buckets)",
        description="Crop and resize every picture to the bucket kohya sd-scripts would train "
        "it in (or a square), convert the format, and copy the captions, into another folder. "
        "The dataset itself is not changed.",
    )
    parser.add_argument("directory", type=Path, metavar="DIR", help="the dataset folder")
    parser.add_argument("--out", type=Path, required=True, metavar="OUT", help="output folder")
    parser.add_argument("--resolution", type=int, default=1024, metavar="R", help="(1024)")
    parser.add_argument("--format", choices=("jpg", "png", "webp"), default="jpg", help="(jpg)")
    parser.add_argument("--no-buckets", action="store_true", help="square R×R crops only")
    parser.add_argument("--workers", type=int, default=2, metavar="N", help="threads (2)")
    parser.set_defaults(func=run)


@exits
def run(args: argparse.Namespace) -> int:
    directory: Path = args.directory
    require_dataset_dir(directory)
    try:
        options = PrepareOptions(
            resolution=args.resolution,
            format=args.format,
            buckets=not args.no_buckets,
            workers=max(1, args.workers),
        )
    except DatasetError as exc:
        print(exc.user_message, file=sys.stderr)
        return EXIT_USAGE
    report = run_with_progress(
        "Preparing",
        lambda cancel, progress: prepare_dataset(
            directory, args.out, options, cancel=cancel, progress=progress
        ),
        cancelled_note="Cancelled; the pictures written so far are complete.",
    )
    buckets = Counter(item.bucket for item in report.written)
    summary = ", ".join(f"{describe_bucket(size)}: {n}" for size, n in sorted(buckets.items()))
    detail = f" ({summary})." if summary else "."
    print(f"Prepared {plural(len(report.written), 'picture')} into {report.out}{detail}")
    for path, message in report.failed:
        print(f"  skipped {path.name}: {message}", file=sys.stderr)
    if report.failed:
        print(
            f"{plural(len(report.failed), 'picture')} could not be prepared (listed above); "
            f"the other {len(report.written)} are complete.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK
