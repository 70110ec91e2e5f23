"""Metadata tells the truth: a ComfyUI LoRA's `ss_*` keys say what the trainer really ran — the
alpha in its tensors, the precision, optimizer and seed in the submitted graph, and no bucketing
when the images were centre-cropped — not what the config asked for. (kohya's own keys, written
from the arguments it ran, are checked in tests/core/backends/test_kohya_backend.py.)"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from lora_studio.core.backends.comfyui import ComfyUIBackend
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.jobs import Job, JobStatus, JobStore
from lora_studio.core.training.dataset_input import load_training_dataset
from lora_studio.core.training.runner import JobRunner
from lora_studio.core.weights import inspect_lora, read_metadata
from tests.core.backends.comfy_helpers import FAST, config
from tests.e2e.test_cli_train_comfyui import make_dataset
from tests.fakes.fake_comfyui import FakeComfyUI


def submitted_train_inputs(fake: FakeComfyUI) -> dict[str, Any]:
    [entry] = fake.history.values()
    graph = entry["prompt"][2]
    [node] = [n for n in graph.values() if n["class_type"] == "TrainLoraNode"]
    return dict(node["inputs"])


def train_on_fake_comfyui(tmp_path: Path, asked: TrainingConfig) -> tuple[Job, dict[str, Any]]:
    """Train `asked` through the runner on the fake ComfyUI: the finished job and what was sent."""
    folder = make_dataset(tmp_path / "data")
    dataset = load_training_dataset(folder, asked)
    with FakeComfyUI(tmp_path / "server") as fake, JobStore(tmp_path / "j.db") as store:

        async def go() -> Job:
            backend = ComfyUIBackend(fake.url, options=FAST)
            try:
                runner = JobRunner(store, backend)
                job = await runner.submit(
                    Job(name="t", backend="comfyui", dataset_path=str(folder), config=asked),
                    dataset,
                )
                return await runner.follow(job, tmp_path / "out", dataset=dataset)
            finally:
                await backend.aclose()

        final = asyncio.run(asyncio.wait_for(go(), 60))
        return final, submitted_train_inputs(fake)


def test_comfyui_lora_metadata_matches_its_tensors_and_the_submitted_graph(
    tmp_path: Path,
) -> None:
    asked = TrainingConfig(
        **config(
            alpha=16.0,
            mixed_precision="fp16",
            optimizer="AdamW8bit",
            seed=42,
            bucketing=True,
            max_steps=8,
        )
    )
    final, sent = train_on_fake_comfyui(tmp_path, asked)
    assert final.status is JobStatus.COMPLETED, final.error
    [path] = final.outputs
    metadata = read_metadata(path)
    info = inspect_lora(path)
    assert info.alpha is not None and info.alpha.most_common == 1.0
    assert float(metadata["ss_network_alpha"]) == info.alpha.most_common  # not the asked 16
    assert metadata["ss_network_dim"] == str(sent["rank"]) == "8"
    assert metadata["ss_mixed_precision"] == sent["training_dtype"] == "bf16"  # not fp16
    assert sent["optimizer"] == "AdamW"
    assert metadata["ss_optimizer"].endswith(".AdamW")  # kohya's spelling; not AdamW8bit
    assert metadata["ss_seed"] == str(sent["seed"]) and sent["seed"] != 42
    assert metadata["ss_enable_bucket"] == "False"  # the 0.3.64 loader centre-crops
    # A LoRA the artist downloads gets the usual mode of a new file, not 0600.
    mask = os.umask(0)
    os.umask(mask)
    assert Path(path).stat().st_mode & 0o777 == 0o666 & ~mask
