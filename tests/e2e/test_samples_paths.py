"""Sample images are recorded with absolute paths, whatever `--out` was.

Found against a real ComfyUI 0.3.64: `train --out out2 --sample-prompt …` recorded
`out2/NAME_samples/reference_p01.png` with the job (and printed it so), while the LoRA itself was
recorded as an absolute path — the Jobs page, started from another folder, found no samples.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lora_studio import paths
from lora_studio.cli import main
from lora_studio.core.jobs import JobStore
from tests.e2e.test_cli_train_comfyui import json_lines, make_dataset
from tests.fakes.fake_comfyui import CHECKPOINTS, FakeComfyUI


@pytest.fixture
def comfy(tmp_path: Path) -> Iterator[FakeComfyUI]:
    with FakeComfyUI(tmp_path / "server") as fake:
        yield fake


def test_a_relative_out_still_records_absolute_sample_paths(
    comfy: FakeComfyUI,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dataset = make_dataset(tmp_path / "set", 2)
    monkeypatch.chdir(tmp_path)
    code = main(
        [
            "train", str(dataset), "--backend", "comfyui", "--url", comfy.url,
            "--preset", "sd15", "--base-model", CHECKPOINTS[0], "--set", "max_steps=4",
            "--set", "output_name=hero", "--set", "resolution=256",
            "--set", "save_every_n_epochs=none", "--out", "out",
            "--sample-prompt", "ohwx portrait", "--json",
        ]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    printed = [Path(e["path"]) for e in json_lines(captured.out) if e["event"] == "sample"]
    folder = tmp_path / "out" / "hero_samples"
    assert printed and all(p.is_absolute() and p.parent == folder for p in printed)
    monkeypatch.chdir("/")  # as the app would be, started from anywhere
    with JobStore(paths.job_store_file()) as store:
        (job,) = store.list()
    assert job.samples and all(Path(s.path).is_absolute() for s in job.samples)
    assert all(Path(s.path).exists() for s in job.samples)
