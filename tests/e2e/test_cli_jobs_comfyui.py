"""`lora-studio jobs attach` and `jobs cancel` against the fake ComfyUI server, for jobs that an
earlier `train` (or the GUI) submitted and stopped following."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lora_studio import paths
from lora_studio.cli import main
from lora_studio.core.jobs import Job, JobStatus, JobStore
from tests.e2e.test_cli_train_comfyui import json_lines, make_dataset
from tests.fakes.earlier_session import submit_without_following
from tests.fakes.fake_comfyui import FakeComfyUI


def submit(fake: FakeComfyUI, folder: Path, **overrides: object) -> Job:
    return submit_without_following(fake.url, folder, name="cli job", **overrides)


def test_attach_follows_to_the_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeComfyUI(tmp_path / "srv", steps_per_second=100) as fake:
        job = submit(
            fake, make_dataset(tmp_path / "ds", count=2), max_steps=20, output_name="attached"
        )
        code = main(
            ["jobs", "attach", job.id, "--url", fake.url, "--out", str(tmp_path / "out"), "--json"]
        )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    events = json_lines(captured.out)
    assert events[-1]["event"] == "done"
    assert (tmp_path / "out" / "attached.safetensors").is_file()
    with JobStore(paths.job_store_file()) as store:
        assert store.get(job.id).status is JobStatus.COMPLETED
    # Attaching to a finished job says so instead of waiting forever.
    assert main(["jobs", "attach", job.id, "--url", "http://127.0.0.1:9"]) == 0
    assert "already ended" in capsys.readouterr().err


def test_cancel_a_queued_job(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeComfyUI(tmp_path / "srv", steps_per_second=10) as fake:
        folder = make_dataset(tmp_path / "ds", count=2)
        first = submit(fake, folder, max_steps=400)  # keeps the server busy
        second = submit(fake, folder, max_steps=400)  # waits in the queue
        code = main(["jobs", "cancel", second.id, "--url", fake.url])
        out = capsys.readouterr().out
        assert code == 0
        assert second.id in out and "queue" in out.lower()
        with JobStore(paths.job_store_file()) as store:
            assert store.get(second.id).status is JobStatus.CANCELLED
        main(["jobs", "cancel", first.id, "--url", fake.url])
        capsys.readouterr()


def test_unknown_job_ids_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for action in ("show", "cancel", "attach"):
        assert main(["jobs", action, "20990101-000000-000-nosuch"]) == 2
        assert "no job" in capsys.readouterr().err.lower()


def test_jobs_list_json_is_valid_when_empty(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
