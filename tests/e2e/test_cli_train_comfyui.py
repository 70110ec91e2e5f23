"""End to end: `lora-studio train` on a generated dataset against the fake ComfyUI server, to a
verified .safetensors file with our metadata, a completed job record with its loss series, then
`jobs`, `jobs show` and `inspect` on the result."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from lora_studio import paths
from lora_studio.cli import main
from lora_studio.core.jobs import JobStatus, JobStore
from lora_studio.core.weights import inspect_lora, read_header, read_metadata
from tests.fakes.fake_comfyui import CHECKPOINTS, FakeComfyUI


@pytest.fixture
def comfy(tmp_path: Path) -> Iterator[FakeComfyUI]:
    with FakeComfyUI(tmp_path / "server") as fake:
        yield fake


def make_dataset(folder: Path, count: int = 4) -> Path:
    folder.mkdir(parents=True)
    for i in range(count):
        Image.new("RGB", (96 + 8 * i, 96), (40 * i, 90, 160)).save(folder / f"img {i}.png")
        (folder / f"img {i}.txt").write_text(f"ohwx, portrait, colour {i}", encoding="utf-8")
    return folder


def json_lines(text: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_train_to_a_verified_lora_with_metadata(
    comfy: FakeComfyUI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = make_dataset(tmp_path / "my dataset")
    out = tmp_path / "out"
    code = main(
        [
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
            "max_steps=24",
            "--set",
            "trigger_word=ohwx",
            "--set",
            "output_name=hero",
            "--set",
            "save_every_n_epochs=none",
            "--chunk-steps",
            "8",
            "--out",
            str(out),
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    events = json_lines(captured.out)
    kinds = [event["event"] for event in events]
    assert kinds[0] == "plan" and "submitted" in kinds and kinds[-1] == "done"
    assert kinds.count("checkpoint") >= 2  # chunked: one checkpoint per chunk
    assert any(e["event"] == "progress" and e["step"] == 24 for e in events)
    losses = [e for e in events if e["event"] == "loss"]
    assert losses and all(e["value"] is None or e["value"] > 0 for e in losses)

    lora = out / "hero.safetensors"
    assert lora.is_file()
    header = read_header(lora)  # full validation: offsets, sizes, truncation
    assert header.tensors
    metadata = read_metadata(lora)
    job_id = next(e["job_id"] for e in events if e["event"] == "submitted")
    assert metadata["lorastudio.job_id"] == job_id
    assert metadata["lorastudio.backend"] == "comfyui"
    assert metadata["ss_output_name"] == "hero"
    assert metadata["modelspec.trigger_phrase"] == "ohwx"
    assert json.loads(metadata["ss_tag_frequency"])["my dataset"]["ohwx"] == 4
    assert inspect_lora(lora).rank is not None

    with JobStore(paths.job_store_file()) as store:
        job = store.get(job_id)
        assert job.status is JobStatus.COMPLETED
        assert job.outputs == [str(lora)]
        assert job.progress.step == 24
        assert len(store.loss_series(job_id)) >= 20
        assert [t.to_status for t in job.history][-1] is JobStatus.COMPLETED

    assert main(["jobs", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["id"] == job_id and listed[0]["status"] == "completed"
    assert main(["jobs", "show", job_id]) == 0
    assert "completed" in capsys.readouterr().out
    assert main(["inspect", str(lora), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["metadata"]["lorastudio.job_id"] == job_id


def test_train_against_a_dead_server_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = make_dataset(tmp_path / "ds", count=2)
    code = main(
        [
            "train",
            str(dataset),
            "--backend",
            "comfyui",
            "--url",
            "http://127.0.0.1:9",
            "--preset",
            "sd15",
            "--set",
            "max_steps=4",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "127.0.0.1:9" in err and "Traceback" not in err
    with JobStore(paths.job_store_file()) as store:
        assert store.list() == []  # nothing was submitted, so nothing is recorded


def test_train_refuses_bad_settings_before_contacting_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = make_dataset(tmp_path / "ds", count=1)
    code = main(
        [
            "train",
            str(dataset),
            "--backend",
            "comfyui",
            "--url",
            "http://127.0.0.1:9",
            "--preset",
            "sd15",
            "--set",
            "rank=512",
        ]
    )
    assert code == 2
    assert "rank" in capsys.readouterr().err


def test_unknown_base_model_is_reported_per_node(
    comfy: FakeComfyUI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = make_dataset(tmp_path / "ds", count=2)
    code = main(
        [
            "train",
            str(dataset),
            "--backend",
            "comfyui",
            "--url",
            comfy.url,
            "--preset",
            "sd15",
            "--base-model",
            "missing.safetensors",
            "--set",
            "max_steps=4",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err
    assert code in (1, 2)
    assert "missing.safetensors" in err and "Traceback" not in err


def test_ctrl_c_cancels_the_job_and_says_what_stopped(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    with FakeComfyUI(tmp_path / "server", steps_per_second=20.0) as slow:
        dataset = make_dataset(tmp_path / "ds", count=2)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lora_studio",
                "train",
                str(dataset),
                "--backend",
                "comfyui",
                "--url",
                slow.url,
                "--preset",
                "sd15",
                "--base-model",
                CHECKPOINTS[0],
                "--set",
                "max_steps=400",
                "--set",
                "save_every_n_epochs=none",
                "--chunk-steps",
                "100",
                "--out",
                str(tmp_path / "out"),
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        seen_progress = False
        while time.monotonic() < deadline and not seen_progress:
            line = process.stdout.readline()
            if not line:
                break
            seen_progress = '"event": "progress"' in line
        assert seen_progress, process.stderr.read() if process.stderr else ""
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 130, (process.returncode, err[-2000:], out[-2000:])
    assert "Cancelling job" in err and "Traceback" not in err
    assert "chunk" in err.lower() or "queue" in err.lower()
    with JobStore(paths.job_store_file()) as store:
        job = store.list()[0]
        assert job.status is JobStatus.CANCELLED, (err, job.error)
        assert job.progress.step < 400
        # What the finished chunks learned is kept: the last checkpoint, verified and stamped.
        kept = [c.location for c in job.checkpoints if not c.location.startswith("http")]
        assert kept and Path(kept[-1]).parent == tmp_path / "out"
        assert read_metadata(Path(kept[-1]))["lorastudio.job_id"] == job.id


def test_estimate_learns_the_speed_of_finished_jobs(
    comfy: FakeComfyUI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = make_dataset(tmp_path / "ds", count=2)
    args = ["--preset", "sd15", "--set", "max_steps=24", "--backend", "comfyui", "--json"]
    assert main(["estimate", str(dataset), *args]) == 0
    before = json.loads(capsys.readouterr().out)["duration"]
    code = main(
        [
            "train",
            str(dataset),
            "--url",
            comfy.url,
            "--base-model",
            CHECKPOINTS[0],
            "--out",
            str(tmp_path / "out"),
            *args,
        ]
    )
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["estimate", str(dataset), *args]) == 0
    after = json.loads(capsys.readouterr().out)["duration"]
    # The fake trains in well under a second: the measured speed replaces the table's guess,
    # and a measured speed gives a narrower range.
    assert after["value"] < before["value"]
    assert after["high"] - after["low"] < before["high"] - before["low"]
    assert any("measured step time" in text for text in after["assumptions"])
