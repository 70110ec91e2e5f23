"""Core/jobs: how a training run is named when the artist does not name it — one rule for the
GUI and the CLI: `<dataset>_<preset>_<n>`, e.g. `anna_sdxl_1`, `anna_sdxl_2`.

The dataset folder and the preset say what was trained; `n` (one more than the highest number
the job history already holds for that dataset and preset) tells runs apart. The run name is also
the LoRA's file name, so the files in the output folder tell the runs apart too. A name the artist
gives (`--name`, `--set output_name=…`, the wizard's Output name field) is used as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lora_studio.core.jobs.store import JobStore

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\s]+')
MAX_LENGTH = 120


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("._")


def run_base(dataset_folder: Path | str, preset: str | None) -> str:
    """`<dataset>_<preset>` made safe as a file name ('My cat pics', 'sdxl' → 'My_cat_pics_sdxl')."""
    dataset = _safe(Path(dataset_folder).name) or "dataset"
    parts = [dataset, _safe(preset or "")]
    return "_".join(part for part in parts if part)[: MAX_LENGTH - 6]


def taken_names(store: JobStore) -> list[str]:
    """Names of the jobs in the history (the newest 10,000 are plenty to number runs)."""
    return [job.name for job in store.list(limit=10_000)]


def next_run_name(base: str, taken: Iterable[str]) -> str:
    """`base_<n>` with n one more than the highest already taken (`base_1` for the first)."""
    pattern = re.compile(re.escape(base) + r"_(\d+)$")
    numbers = [int(match.group(1)) for name in taken if (match := pattern.match(name))]
    return f"{base}_{max(numbers, default=0) + 1}"
