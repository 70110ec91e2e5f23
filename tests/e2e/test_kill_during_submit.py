"""`kill -9` of `lora-studio train` while it submits: the job is never left "queued" forever.

- Killed after the prompt was POSTed but before the reply arrived: the prompt id was stored
  before the request, so `jobs attach` finds it on the server and completes the job.
- Killed during the dataset upload: `jobs attach` ends the job as failed, saying why.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from lora_studio import paths
from lora_studio.cli import main
from lora_studio.core.jobs import JobStatus, JobStore
from tests.e2e.test_cli_train_comfyui import make_dataset
from tests.fakes.fake_comfyui import CHECKPOINTS, FakeComfyUI

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
ROOT = Path(__file__).resolve().parents[2]


def start_train(url: str, dataset: Path, out: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "lora_studio.cli", "train", str(dataset)]
    command += ["--backend", "comfyui", "--url", url, "--preset", "sd15"]
    command += ["--base-model", CHECKPOINTS[0], "--set", "max_steps=24", "--out", str(out)]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill_when(process: subprocess.Popen[bytes], ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60
    while not ready():
        assert process.poll() is None, "train ended before the moment to kill it"
        assert time.monotonic() < deadline, "the moment to kill never came"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(10)


def the_only_job():  # type: ignore[no-untyped-def]
    with JobStore(paths.job_store_file()) as store:
        [job] = store.list()
    return job


def test_killed_between_the_prompt_post_and_its_reply_is_attached_and_completes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeComfyUI(tmp_path / "server", steps_per_second=40) as fake:
        fake.faults.hold_prompt_reply = 30.0
        process = start_train(fake.url, make_dataset(tmp_path / "data"), tmp_path / "out")
        kill_when(process, lambda: any(p == "/prompt" and m == "POST" for m, p, _ in fake.requests))
        job = the_only_job()
        assert job.status is JobStatus.QUEUED and job.backend_state["chunks"]
        fake.faults.hold_prompt_reply = 0.0
        code = main(["jobs", "attach", job.id, "--url", fake.url, "--out", str(tmp_path / "out")])
        assert code == 0, capsys.readouterr().err
        assert len(fake.history) == 1  # the prompt that was POSTed, never a second one
    final = the_only_job()
    assert final.status is JobStatus.COMPLETED and final.outputs


def test_killed_during_the_upload_is_resolved_as_failed_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeComfyUI(tmp_path / "server") as fake:
        fake.faults.slow_response = 0.3
        process = start_train(fake.url, make_dataset(tmp_path / "data"), tmp_path / "out")
        kill_when(process, lambda: any(p.endswith("/upload/image") for _, p, _ in fake.requests))
        job = the_only_job()
        assert job.status is JobStatus.QUEUED and job.backend_state.get("phase") == "uploading"
        fake.faults.slow_response = 0.0
        code = main(["jobs", "attach", job.id, "--url", fake.url, "--out", str(tmp_path / "out")])
        assert code == 1
        assert "upload" in capsys.readouterr().err
        assert not fake.history and not fake.pending
    final = the_only_job()
    assert final.status is JobStatus.FAILED and "Start the training again" in (final.error or "")
