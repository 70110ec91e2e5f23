"""`train`, `jobs attach` and `jobs download` against a ComfyUI that misbehaves: restarts that
forget the job, malformed replies, a server that dies, truncated and killed downloads."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lora_studio import paths
from lora_studio.cli import main
from lora_studio.core.jobs import JobStatus, JobStore
from tests.e2e.test_cli_train_comfyui import make_dataset
from tests.fakes.fake_comfyui import CHECKPOINTS, FakeComfyUI

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def comfy(tmp_path: Path) -> Iterator[FakeComfyUI]:
    with FakeComfyUI(tmp_path / "server") as fake:
        yield fake


def train_args(comfy: FakeComfyUI, dataset: Path, out: Path, *extra: str) -> list[str]:
    return [
        "train",
        str(dataset),
        "--backend",
        "comfyui",
        "--url",
        comfy.url,
        "--preset",
        "sd15",
        "--base-model",
        CHECKPOINTS[0],
        "--set",
        "save_every_n_epochs=none",
        "--set",
        "output_name=hero",
        "--out",
        str(out),
        *extra,
    ]


def only_job() -> str:
    with JobStore(paths.job_store_file()) as store:
        (job,) = store.list()
        return job.id


def test_a_restart_that_forgets_the_job_stores_the_reason_and_keeps_the_checkpoint(
    comfy: FakeComfyUI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    comfy.faults.restart_at_step = 20
    out = tmp_path / "out"
    args = train_args(comfy, make_dataset(tmp_path / "ds", 2), out, "--set", "max_steps=40")
    assert main([*args, "--chunk-steps", "10"]) == 1
    err = capsys.readouterr().err
    assert "ended as lost" in err and "no reason given" not in err and "restarted" in err
    with JobStore(paths.job_store_file()) as store:
        job = store.get(only_job())
    assert job.status is JobStatus.LOST and job.error and "restarted" in job.error
    kept = sorted(p.name for p in out.iterdir())
    assert kept == ["hero_step10.safetensors"]  # the step the message promised
    assert [c.location for c in job.checkpoints][-1] == str(out / kept[0])


def test_one_malformed_queue_reply_is_retried(
    comfy: FakeComfyUI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    comfy.faults.malformed_json_paths = {"/queue"}
    comfy.faults.malformed_json_count = 1
    out = tmp_path / "out"
    assert (
        main(train_args(comfy, make_dataset(tmp_path / "ds", 2), out, "--set", "max_steps=4")) == 0
    )
    assert (out / "hero.safetensors").is_file()


def test_truncated_downloads_then_jobs_download_completes_the_job(
    comfy: FakeComfyUI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    comfy.faults.truncate_downloads = 20
    out = tmp_path / "out"
    args = train_args(comfy, make_dataset(tmp_path / "ds", 2), out, "--set", "max_steps=4")
    assert main(args) == 1
    captured = capsys.readouterr()
    job_id = only_job()
    assert f"lora-studio jobs download {job_id}" in captured.err
    assert "at most 0 of" not in captured.err and "bytes arrived" in captured.err
    assert not out.exists() or not list(out.iterdir())  # nothing under a final name
    assert main(["jobs", "attach", job_id]) == 1
    assert f"jobs download {job_id}" in capsys.readouterr().err
    comfy.faults.truncate_downloads = 0
    assert main(["jobs", "download", job_id, "--out", str(out)]) == 0
    assert f"Saved: {out / 'hero.safetensors'}" in capsys.readouterr().out
    with JobStore(paths.job_store_file()) as store:
        job = store.get(job_id)
    assert job.status is JobStatus.COMPLETED and job.outputs == [str(out / "hero.safetensors")]
    assert job.error is None


def _spawn_train(comfy: FakeComfyUI, tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    args = train_args(comfy, make_dataset(tmp_path / "ds", 2), tmp_path / "out", *extra)
    return subprocess.Popen(
        [sys.executable, "-m", "lora_studio", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL and non-blocking pipes")
def test_a_server_that_dies_mid_job_is_said_at_once(comfy: FakeComfyUI, tmp_path: Path) -> None:
    comfy.faults.die_at_step = 12
    comfy.steps_per_second = 40.0
    process = _spawn_train(comfy, tmp_path, "--set", "max_steps=400")
    assert process.stdout is not None
    lines: list[str] = []
    died_at = None
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if died_at is None and comfy.dead:
                died_at = time.monotonic()
            if line.startswith("Note:"):
                break
    finally:
        process.kill()
        process.wait()
    note = next((line for line in lines if line.startswith("Note:")), "")
    assert "not answering" in note and "jobs attach" in note, "".join(lines)
    assert died_at is None or time.monotonic() - died_at < 30  # at once, not after 10 minutes


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_kill_9_during_the_download_leaves_nothing_under_the_final_name(
    comfy: FakeComfyUI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    comfy.faults.trickle_downloads = 8000.0  # the 64 KB LoRA takes ~8 s
    out = tmp_path / "out"
    process = _spawn_train(comfy, tmp_path, "--set", "max_steps=4")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (out.is_dir() and list(out.iterdir())):
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    process.wait()
    left = [p.name for p in out.iterdir()]
    assert left and all(name.startswith(".") for name in left)  # only temporary files
    assert "hero.safetensors" not in left
    comfy.faults.trickle_downloads = 0.0
    job_id = only_job()
    assert main(["jobs", "attach", job_id, "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["hero.safetensors"]  # not hero-2; cleaned
