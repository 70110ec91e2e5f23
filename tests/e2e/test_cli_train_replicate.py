"""End to end: `lora-studio train --backend replicate` in a subprocess against the fake Replicate
API, to a verified LoRA with truthful metadata and the billed cost; Ctrl-C cancels the training
on Replicate; a run killed mid-training is finished by `jobs attach`. The token only reaches the
API: never the file host, the job store or the output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from lora_studio import paths
from lora_studio.core.config.settings import Settings, save_settings
from lora_studio.core.jobs import JobStatus, JobStore
from lora_studio.core.weights import inspect_lora, read_header, read_metadata
from tests.fakes.fake_replicate import FakeReplicate

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake() -> Iterator[FakeReplicate]:
    with FakeReplicate(starting_s=0.5, steps_per_second=150.0) as server:
        server.add_model("alice/hero-lora")
        yield server


def make_dataset(folder: Path, count: int = 4) -> Path:
    folder.mkdir(parents=True)
    for i in range(count):
        Image.new("RGB", (120 + 8 * i, 100), (40 * i, 90, 160)).save(folder / f"img {i}.jpg")
        (folder / f"img {i}.txt").write_text(f"ohwx, portrait, colour {i}", encoding="utf-8")
    return folder


def fast_polling() -> None:
    settings = Settings()
    settings.put_backend({"kind": "replicate", "poll_seconds": 0.1})
    save_settings(paths.config_dir(), settings)


def cli(*args: str, token: str | None) -> subprocess.Popen[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("REPLICATE_API_TOKEN", None)
    if token:
        env["REPLICATE_API_TOKEN"] = token
    return subprocess.Popen(
        [sys.executable, "-m", "lora_studio", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def train_args(fake: FakeReplicate, dataset: Path, out: Path, *extra: str) -> list[str]:
    return [
        "train",
        str(dataset),
        "--backend",
        "replicate",
        "--destination",
        "alice/hero-lora",
        "--url",
        fake.url,
        "--preset",
        "flux_dev",
        "--set",
        "trigger_word=ohwx",
        "--set",
        "output_name=hero",
        "--out",
        str(out),
        "--json",
        *extra,
    ]


def json_lines(text: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def token_free(path: Path, token: str) -> bool:
    return all(token.encode() not in p.read_bytes() for p in path.rglob("*") if p.is_file())


def test_train_on_replicate_lands_a_verified_lora(
    fake: FakeReplicate, tmp_path: Path, isolated_home: Path
) -> None:
    fast_polling()
    out = tmp_path / "out"
    proc = cli(
        *train_args(fake, make_dataset(tmp_path / "my set"), out, "--set", "max_steps=90"),
        token=fake.token,
    )
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    events = json_lines(stdout)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "plan" and "submitted" in kinds and kinds[-1] == "done"
    # Tag-list captions for Flux: said once, with the command that rewrites them; not refused.
    assert stderr.count("captions are tag lists") == 1
    assert "lora-studio caption DIR --provider … --style sentence --mode overwrite" in stderr
    assert events[0]["estimate"]["cost"]["unit"] == "USD"  # a cloud run shows money up front
    assert any(e["event"] == "progress" and e["step"] == 90 for e in events)
    losses = [e for e in events if e["event"] == "loss"]
    assert len(losses) == 90 and all(0 < e["value"] < 1 for e in losses)

    lora = out / "hero.safetensors"
    assert read_header(lora).tensors and inspect_lora(lora).rank.most_common == 16
    metadata = read_metadata(lora)
    job_id = next(e["job_id"] for e in events if e["event"] == "submitted")
    assert metadata["lorastudio.job_id"] == job_id
    assert metadata["lorastudio.backend"] == "replicate"
    assert metadata["ss_network_alpha"] == "16.0" and metadata["ss_network_dim"] == "16"
    assert metadata["ss_seed"] == "unknown" and metadata["ss_mixed_precision"] == "bf16"
    assert metadata["modelspec.trigger_phrase"] == "ohwx"
    assert metadata["format"] == "pt"  # the trainer's own keys are kept
    training = next(iter(fake.trainings.values()))
    assert metadata["lorastudio.replicate.training_id"] == training.id
    # The metadata tells what was submitted and what the tensors hold, not only what was asked.
    sent = training.input
    assert (
        int(metadata["ss_network_dim"]) == sent["lora_rank"] == inspect_lora(lora).rank.most_common
    )
    assert float(metadata["ss_network_alpha"]) == sent["lora_rank"]  # alpha = rank (no alpha keys)
    assert float(metadata["ss_learning_rate"]) == sent["learning_rate"]
    assert int(metadata["ss_max_train_steps"]) == sent["steps"] == 90
    assert sent["resolution"] == "512,768,1024" and metadata["ss_resolution"] == "(1024, 1024)"

    with JobStore(paths.job_store_file()) as store:
        job = store.get(job_id)
        assert job.status is JobStatus.COMPLETED and job.outputs == [str(lora)]
        assert job.backend_job_id == training.id
        assert job.cost == pytest.approx(90 * 1.5 * 0.001525, abs=1e-3)  # billed, not estimated
    assert len(fake.trainings) == 1
    assert not fake.host_auth_seen and fake.host_requests
    assert fake.token not in stdout + stderr
    assert token_free(isolated_home, fake.token) and token_free(out, fake.token)


def test_no_token_is_one_sentence(fake: FakeReplicate, tmp_path: Path) -> None:
    proc = cli(
        *train_args(fake, make_dataset(tmp_path / "ds", 2), tmp_path / "out"),
        token=None,
    )
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "No Replicate API token" in stderr and "REPLICATE_API_TOKEN" in stderr
    assert "Traceback" not in stderr and not fake.trainings


def test_ctrl_c_cancels_the_training_on_replicate(fake: FakeReplicate, tmp_path: Path) -> None:
    fast_polling()
    fake.steps_per_second = 8.0
    proc = cli(
        *train_args(fake, make_dataset(tmp_path / "ds", 2), tmp_path / "out"),
        token=fake.token,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ids = list(fake.trainings)
        if ids and fake.training_status(ids[0]) == "processing":
            break
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("the training never started: " + proc.communicate()[1])
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    (training_id,) = fake.trainings
    assert fake.training_status(training_id) == "canceled"
    job_id = next(e["job_id"] for e in json_lines(stdout) if e["event"] == "submitted")
    with JobStore(paths.job_store_file()) as store:
        job = store.get(job_id)
        assert job.status is JobStatus.CANCELLED
        assert job.cost is not None and job.cost > 0  # the steps that ran are billed
    assert not (tmp_path / "out" / "hero.safetensors").exists()


@pytest.mark.parametrize("moment", ["after_create", "during_create"])
def test_a_killed_run_is_finished_by_jobs_attach(
    fake: FakeReplicate, tmp_path: Path, moment: str
) -> None:
    fast_polling()
    fake.steps_per_second = 40.0
    if moment == "during_create":
        fake.faults.slow_create = 1.5  # killed while the create request is on its way
    out = tmp_path / "out"
    proc = cli(
        *train_args(fake, make_dataset(tmp_path / "ds", 2), out, "--set", "max_steps=200"),
        token=fake.token,
    )

    def create_sent() -> bool:
        return any(m == "POST" and p.endswith("/trainings") for m, p, _ in fake.requests)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
        fake.trainings if moment == "after_create" else create_sent()
    ):
        time.sleep(0.05)
    proc.kill()  # no cleanup at all, like a crash or a closed laptop
    stdout, _ = proc.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not fake.trainings:
        time.sleep(0.05)  # the server finishes the request its client abandoned
    assert fake.trainings, "the training was never created"
    with JobStore(paths.job_store_file()) as store:
        (job,) = store.list()
        assert job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
        # Killed between the create request and its reply, or after: either the id is on record,
        # or the `creating` record with the dataset's marker is, and attach finds the training.
        if moment == "during_create":
            assert job.backend_job_id is None
        if job.backend_job_id is None:
            assert job.backend_state["phase"] == "creating" and job.backend_state["file_url"]
        else:
            assert job.backend_job_id == next(iter(fake.trainings))
    attach = cli("jobs", "attach", job.id, "--out", str(out), "--json", token=fake.token)
    stdout, stderr = attach.communicate(timeout=120)
    assert attach.returncode == 0, stderr
    assert json_lines(stdout)[-1]["event"] == "done"
    assert (out / "hero.safetensors").is_file()
    with JobStore(paths.job_store_file()) as store:
        assert store.get(job.id).status is JobStatus.COMPLETED
    assert len(fake.trainings) == 1
