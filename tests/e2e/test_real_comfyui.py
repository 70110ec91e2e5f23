"""Opt-in: `train`, `render`, Ctrl-C, `jobs attach` and chunk cancel against a REAL ComfyUI server.

Skipped unless `LORA_STUDIO_TEST_COMFYUI_URL` names a running ComfyUI 0.3.64 or newer (e.g.
`http://127.0.0.1:8188`); `LORA_STUDIO_TEST_COMFYUI_CHECKPOINT` names an SD 1.5 checkpoint in its
`models/checkpoints` (default `random_sd15_tiny.safetensors`, a random-weight tiny UNet that trains
on a CPU). The server-restart test also needs `LORA_STUDIO_TEST_COMFYUI_RESTART`, a shell command
that kills the server and starts it again (it is run while a job trains). Run with
`pytest -m real_comfyui tests/e2e/test_real_comfyui.py`; on a 2-core CPU the whole file takes
10–20 minutes (a 256 px step takes 5–20 s, a 256 px sample image about a minute).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw

from lora_studio import paths
from lora_studio.cli import main
from lora_studio.core.jobs import JobStatus, JobStore
from lora_studio.core.weights import inspect_lora, read_metadata
from tests.e2e.test_cli_train_comfyui import json_lines

URL = os.environ.get("LORA_STUDIO_TEST_COMFYUI_URL", "").rstrip("/")
CHECKPOINT = os.environ.get("LORA_STUDIO_TEST_COMFYUI_CHECKPOINT", "random_sd15_tiny.safetensors")
RESTART = os.environ.get("LORA_STUDIO_TEST_COMFYUI_RESTART", "")
REPO = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.real_comfyui,
    pytest.mark.skipif(
        not URL,
        reason="set LORA_STUDIO_TEST_COMFYUI_URL to a running ComfyUI 0.3.64+ to run",
    ),
    pytest.mark.timeout(1200),
]


def fox_dataset(folder: Path, count: int = 5) -> Path:
    """Small pictures of mixed sizes, shapes and formats, each with a caption."""
    folder.mkdir(parents=True)
    for i in range(count):
        side = (64, 96, 128)[i % 3]
        size = (side, side) if i % 2 == 0 else (side, side * 3 // 4)
        image = Image.new("RGB", size, (40 + 20 * i, 120, 60 + 10 * i))
        draw = ImageDraw.Draw(image)
        w, h = size
        draw.ellipse([w * 0.2, h * 0.3, w * 0.8, h * 0.9], fill=(200, 80 + 5 * i, 30))
        if i % 2:
            image.save(folder / f"fox_{i:02d}.jpg", quality=88)
        else:
            image.save(folder / f"fox_{i:02d}.png")
        (folder / f"fox_{i:02d}.txt").write_text(f"lsfox, a red fox, picture {i}", "utf-8")
    return folder


def train_args(dataset: Path, out: Path, *extra: str) -> list[str]:
    return [
        "train",
        str(dataset),
        "--backend",
        "comfyui",
        "--url",
        URL,
        "--preset",
        "sd15",
        "--base-model",
        CHECKPOINT,
        "--set",
        "resolution=256",  # the smallest TrainingConfig allows
        "--set",
        "rank=4",
        "--set",
        "trigger_word=lsfox",
        "--set",
        "save_every_n_epochs=none",
        "--out",
        str(out),
        "--json",
        *extra,
    ]


def submitted_graph(backend_job_id: str) -> dict[str, Any]:
    """The prompt the server ran, as its own /history records it."""
    reply = httpx.get(f"{URL}/history/{backend_job_id}", timeout=30)
    reply.raise_for_status()
    return dict(reply.json()[backend_job_id]["prompt"][2])


def node_inputs(graph: dict[str, Any], class_type: str) -> dict[str, Any]:
    [node] = [n for n in graph.values() if n["class_type"] == class_type]
    return dict(node["inputs"])


def our_prompts_running() -> list[str]:
    queue = httpx.get(f"{URL}/queue", timeout=30).json()
    return [item[1] for item in queue["queue_running"] + queue["queue_pending"]]


def spawn_train(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "lora_studio", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )


def read_until(process: subprocess.Popen[str], wanted: str, timeout: float) -> list[dict[str, Any]]:
    """JSON events from `process` up to and including the first whose `event` is `wanted`."""
    assert process.stdout is not None
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith("{"):
            events.append(json.loads(line))
            if events[-1]["event"] == wanted:
                return events
    process.kill()
    _, err = process.communicate()
    raise AssertionError(f"no {wanted!r} event; saw {[e['event'] for e in events]}; {err[-2000:]}")


def finish(process: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    """(stdout, stderr) of `process` once it ends; killed, and the test failed, after `timeout`."""
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
        raise AssertionError(f"still running after {timeout:.0f} s: {err[-2000:]}") from None


def wait_idle(timeout: float = 300) -> None:
    """Let an earlier test's prompt leave the server's queue (a cancelled step still finishes)."""
    deadline = time.monotonic() + timeout
    while our_prompts_running() and time.monotonic() < deadline:
        time.sleep(1)


@pytest.fixture
def timed(request: pytest.FixtureRequest) -> Iterator[None]:
    start = time.monotonic()
    yield
    print(f"\n{request.node.name}: {time.monotonic() - start:.1f} s")


def test_train_with_a_sample_then_render(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], timed: None
) -> None:
    wait_idle()
    out = tmp_path / "out"
    args = train_args(fox_dataset(tmp_path / "foxes"), out, "--set", "max_steps=4")
    args += ["--set", "seed=42", "--sample-prompt", "lsfox, a red fox in a field"]
    assert main(args) == 0, capsys.readouterr().err
    events = json_lines(capsys.readouterr().out)
    [submitted] = [e for e in events if e["event"] == "submitted"]
    [path] = events[-1]["outputs"]
    assert Path(path) == out / "foxes_sd15_1.safetensors"
    assert [e["step"] for e in events if e["event"] == "loss"] == [1, 2, 3, 4]

    # The file is verified and its metadata says what the server really ran.
    info = inspect_lora(path)
    metadata = read_metadata(path)
    train = node_inputs(submitted_graph(submitted["backend_job_id"]), "TrainLoraNode")
    assert info.is_lora and info.family.value == "comfyui" and info.text_encoder_module_count == 0
    assert info.rank and info.rank.most_common == train["rank"] == int(metadata["ss_network_dim"])
    assert info.alpha and info.alpha.most_common == float(metadata["ss_network_alpha"]) == 1.0
    assert set(info.dtypes) == {"BF16"} and train["lora_dtype"] == "bf16"
    assert metadata["ss_mixed_precision"] == train["training_dtype"] == "bf16"  # sd15 asks fp16
    assert train["optimizer"] == "AdamW" and metadata["ss_optimizer"].endswith(".AdamW")
    assert metadata["ss_seed"] == str(train["seed"]) and train["seed"] != 42
    assert metadata["ss_enable_bucket"] == "False"  # 0.3.64 needs one size: centre-cropped
    assert metadata["ss_resolution"] == "(256, 256)"
    assert float(metadata["ss_learning_rate"]) == train["learning_rate"]
    assert metadata["ss_batch_size_per_device"] == str(train["batch_size"])
    assert metadata["ss_steps"] == metadata["ss_max_train_steps"] == str(train["steps"]) == "4"
    assert metadata["ss_lr_scheduler"] == "constant"  # sd15 asks cosine; ComfyUI has none
    assert metadata["ss_text_encoder_lr"] == "None"  # sd15 asks 5e-05; no TE module trained
    assert metadata["ss_num_epochs"] == "1"  # 4 steps of a 50-step epoch, not the preset's 10
    assert metadata["ss_sd_model_name"] == CHECKPOINT
    assert metadata["lorastudio.job_id"] == events[-1]["job_id"]

    # The sample prompt: once without the LoRA, once with the final file, beside the LoRA.
    samples = [e for e in events if e["event"] == "sample"]
    assert sorted((e["step"], e["with_lora"]) for e in samples) == [(0, False), (4, True)]
    folder = out / "foxes_sd15_1_samples"
    assert sorted(p.name for p in folder.iterdir()) == ["reference_p01.png", "step000004_p01.png"]
    for sample in samples:
        with Image.open(sample["path"]) as image:
            assert image.size == (256, 256)
    with JobStore(paths.job_store_file()) as store:
        job = store.get(events[-1]["job_id"])
        assert job.status is JobStatus.COMPLETED and len(job.samples) == 2

    # `render` with the finished file, small and quick.
    rendered = tmp_path / "rendered"
    render = ["render", path, "--backend", "comfyui", "--url", URL, "--base-model", CHECKPOINT]
    render += ["--prompt", "a red square", "--size", "64", "--steps", "4", "--out", str(rendered)]
    code = main([*render, "--json"])
    assert code == 0, capsys.readouterr().err
    rendered_events = json_lines(capsys.readouterr().out)
    # Uploaded under a content-addressed name, never confused with another file of its name.
    assert rendered_events[0]["event"] in ("uploaded", "found")
    assert rendered_events[0]["name"].startswith("foxes_sd15_1-")
    [image_event] = [e for e in rendered_events if e["event"] == "sample"]
    with Image.open(image_event["path"]) as image:
        assert image.size == (64, 64)
    assert Path(image_event["path"]).parent == rendered


def test_ctrl_c_cancels_the_prompt_on_the_server(tmp_path: Path, timed: None) -> None:
    wait_idle()
    # One prompt of 4 steps: a longer job is chunked, and Ctrl-C then waits for the running
    # chunk to end (ComfyUI cannot stop a training node) — up to 250 steps on a CPU.
    args = train_args(fox_dataset(tmp_path / "foxes"), tmp_path / "out", "--set", "max_steps=4")
    process = spawn_train(args)
    events = read_until(process, "progress", 300)
    [submitted] = [e for e in events if e["event"] == "submitted"]
    process.send_signal(signal.SIGINT)
    _, err = finish(process, 300)
    assert process.returncode == 130, err[-2000:]
    assert "Traceback" not in err
    with JobStore(paths.job_store_file()) as store:
        job = store.get(submitted["job_id"])
    assert job.status is JobStatus.CANCELLED, job.error
    # The server stops the prompt after the running step; nothing of ours is left queued.
    deadline = time.monotonic() + 120
    while submitted["backend_job_id"] in our_prompts_running() and time.monotonic() < deadline:
        time.sleep(1)
    assert submitted["backend_job_id"] not in our_prompts_running()


def test_kill_9_then_jobs_attach_completes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], timed: None
) -> None:
    wait_idle()
    out = tmp_path / "out"
    process = spawn_train(train_args(fox_dataset(tmp_path / "foxes"), out, "--set", "max_steps=3"))
    events = read_until(process, "submitted", 300)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    job_id = events[-1]["job_id"]
    assert main(["jobs", "attach", job_id, "--out", str(out), "--json"]) == 0
    lines = json_lines(capsys.readouterr().out)
    [path] = lines[-1]["outputs"]
    assert inspect_lora(path).is_lora
    assert read_metadata(path)["lorastudio.job_id"] == job_id
    with JobStore(paths.job_store_file()) as store:
        job = store.get(job_id)
    assert job.status is JobStatus.COMPLETED and job.progress.step == 3


def test_cancel_between_chunks_keeps_the_last_checkpoint(tmp_path: Path, timed: None) -> None:
    wait_idle()
    out = tmp_path / "out"
    args = train_args(fox_dataset(tmp_path / "foxes"), out, "--set", "max_steps=6")
    process = spawn_train([*args, "--chunk-steps", "2"])
    events = read_until(process, "checkpoint", 600)
    [submitted] = [e for e in events if e["event"] == "submitted"]
    assert main(["jobs", "cancel", submitted["job_id"]]) == 0
    _, err = finish(process, 300)
    assert process.returncode != 0 and "Traceback" not in err
    with JobStore(paths.job_store_file()) as store:
        job = store.get(submitted["job_id"])
    assert job.status is JobStatus.CANCELLED, job.error
    assert 2 <= job.progress.step < 6
    kept = [Path(c.location) for c in job.checkpoints if not c.location.startswith("http")]
    assert kept and kept[-1].parent == out and kept[-1].name.startswith("foxes_sd15_1_step")
    assert inspect_lora(kept[-1]).is_lora
    assert read_metadata(kept[-1])["lorastudio.job_id"] == job.id


@pytest.mark.skipif(
    not (URL and RESTART),
    reason="set LORA_STUDIO_TEST_COMFYUI_URL and LORA_STUDIO_TEST_COMFYUI_RESTART to run",
)
def test_a_server_restart_mid_training_makes_the_job_lost_with_a_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], timed: None
) -> None:
    wait_idle()
    out = tmp_path / "out"
    process = spawn_train(train_args(fox_dataset(tmp_path / "foxes"), out, "--set", "max_steps=8"))
    events = read_until(process, "progress", 300)
    [submitted] = [e for e in events if e["event"] == "submitted"]
    job_id = submitted["job_id"]
    subprocess.run(RESTART, shell=True, check=True, timeout=300)
    out_text, err = finish(process, 900)
    assert process.returncode == 1, err[-2000:]
    assert "Traceback" not in err
    with JobStore(paths.job_store_file()) as store:
        job = store.get(job_id)
    assert job.status is JobStatus.LOST, (job.status, job.error)
    assert job.error and "restart" in job.error.lower()
    # Nothing another client ran on the restarted server is credited to this job.
    assert not any(line.get("event") == "finished" for line in json_lines(out_text))
