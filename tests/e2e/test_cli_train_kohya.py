"""End to end: `lora-studio train --backend kohya` with the fake `train_network.py` (replaying a real
sd-scripts run) as the trainer — progress and loss stream, the LoRA lands verified in --out with
kohya's metadata plus ours, raw --trainer-arg reach the trainer, `jobs` lists the job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lora_studio import paths
from lora_studio.cli import main
from lora_studio.core.jobs import JobStatus, JobStore
from lora_studio.core.weights import read_metadata
from tests.e2e.test_cli_train_comfyui import json_lines, make_dataset
from tests.fakes.tiny_checkpoint import write_checkpoint

FAKE = Path(__file__).resolve().parents[1] / "fakes" / "fake_kohya"


def fake_kohya_train(dataset: Path, model: Path) -> list[str]:
    """`train DATASET` with the SD 1.5 preset on the fake sd-scripts, run by this Python."""
    args = ["train", str(dataset), "--backend", "kohya", "--sd-scripts", str(FAKE)]
    return [*args, "--python", sys.executable, "--preset", "sd15", "--base-model", str(model)]


def test_train_with_kohya_to_a_verified_lora(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The trainer inherits the environment: the probe finds the fake torch, the fake trainer
    # writes the arguments it got.
    monkeypatch.setenv("PYTHONPATH", str(FAKE / "site"))
    argv_file = tmp_path / "argv.json"
    monkeypatch.setenv("FAKE_KOHYA_ARGV", str(argv_file))
    dataset = make_dataset(tmp_path / "my dataset")
    model = write_checkpoint(tmp_path / "sd15.safetensors")
    out = tmp_path / "out"
    code = main(
        [
            "train",
            str(dataset),
            "--backend",
            "kohya",
            "--sd-scripts",
            str(FAKE),
            "--python",
            sys.executable,
            "--trainer-arg=--tokenizer_cache_dir=/models/tokenizers",
            "--trainer-arg=--max_data_loader_n_workers=0",
            "--preset",
            "sd15",
            "--base-model",
            str(model),
            "--set",
            "max_steps=6",
            "--set",
            "trigger_word=ohwx",
            "--set",
            "output_name=hero",
            "--set",
            "optimizer=AdamW",
            "--out",
            str(out),
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    lines = json_lines(captured.out)
    kinds = [line["event"] for line in lines]
    assert "progress" in kinds and "loss" in kinds and kinds[-1] == "done"
    assert "No CUDA GPU" in captured.err  # the probe's warning, as a sentence
    assert "cannot be known yet" not in captured.out  # a CPU run is timed as one
    [output] = lines[-1]["outputs"]
    path = Path(output)
    assert path.parent == out and path.name == "hero.safetensors"
    metadata = read_metadata(path)
    assert metadata["ss_network_dim"] == "16"  # kohya's own key, from the arguments it ran
    assert metadata["lorastudio.job_id"] == lines[-1]["job_id"]
    argv = json.loads(argv_file.read_text())
    assert argv[-2:] == [
        "--tokenizer_cache_dir=/models/tokenizers",
        "--max_data_loader_n_workers=0",
    ]
    with JobStore(paths.job_store_file()) as store:
        job = store.get(lines[-1]["job_id"])
    assert job.status is JobStatus.COMPLETED and job.backend == "kohya"
    toml = (Path(job.backend_state["run_dir"]) / "dataset.toml").read_text()
    assert "min_bucket_reso = 256" in toml and "num_repeats = " in toml

    assert main(["jobs"]) == 0
    listing = capsys.readouterr().out
    assert job.id in listing and "kohya" in listing


def test_kohya_without_a_folder_says_what_to_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = make_dataset(tmp_path / "d")
    code = main(["train", str(dataset), "--backend", "kohya", "--preset", "sd15"])
    assert code == 1
    assert "--sd-scripts DIR" in capsys.readouterr().err


def test_an_8bit_optimizer_without_bitsandbytes_is_refused_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(FAKE / "site"))
    dataset = make_dataset(tmp_path / "d")
    model = write_checkpoint(tmp_path / "sd15.safetensors")
    args = fake_kohya_train(dataset, model)
    code = main([*args, "--set", "optimizer=AdamW8bit"])
    assert code == 2
    assert "pip install bitsandbytes" in capsys.readouterr().err


def test_a_checkpoint_of_another_model_is_refused_before_kohya_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(FAKE / "site"))
    dataset = make_dataset(tmp_path / "d")
    model = write_checkpoint(tmp_path / "juggernaut_xl.safetensors", base="sdxl")
    args = fake_kohya_train(dataset, model)
    code = main([*args, "--set", "optimizer=AdamW", "--out", str(tmp_path / "out")])
    assert code == 2
    err = capsys.readouterr().err
    assert "juggernaut_xl.safetensors is an SDXL checkpoint (cross-attention width 2048)" in err
    assert "set up for SD 1.5 LoRAs. Choose an SD 1.5 checkpoint, or a preset for SDXL." in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_relative_paths_are_where_the_command_runs_not_where_kohya_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(FAKE / "site"))
    make_dataset(tmp_path / "d")
    write_checkpoint(tmp_path / "models" / "sd15.safetensors")
    monkeypatch.chdir(tmp_path)
    args = ["train", "d", "--backend", "kohya", "--sd-scripts", os.path.relpath(FAKE)]
    args += ["--python", os.path.relpath(sys.executable), "--preset", "sd15"]
    args += ["--base-model", "models/sd15.safetensors", "--set", "optimizer=AdamW"]
    code = main([*args, "--set", "max_steps=6", "--set", "output_name=hero", "--out", "out"])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "out" / "hero.safetensors").is_file()


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGINT to a process")
def test_ctrl_c_cancels_the_trainer_and_keeps_its_checkpoint(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    dataset = make_dataset(tmp_path / "d")
    model = write_checkpoint(tmp_path / "sd15.safetensors")
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{FAKE / 'site'}"}
    env["FAKE_KOHYA_FAULT"] = "hang"  # the fake stops at step 4 and waits to be stopped
    args = fake_kohya_train(dataset, model)
    args += ["--set", "optimizer=AdamW", "--set", "max_steps=6", "--set", "output_name=hero"]
    process = subprocess.Popen(
        [sys.executable, "-m", "lora_studio.cli", *args, "--out", str(tmp_path / "out"), "--json"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    for line in process.stdout:
        if '"step": 4' in line:
            break
        assert time.monotonic() < deadline
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Stopped the kohya trainer" in err
    assert (tmp_path / "out" / "hero_step3.safetensors").is_file()
    with JobStore(paths.job_store_file()) as store:
        [job] = store.list()
    assert job.status is JobStatus.CANCELLED


def test_jobs_attach_collects_a_run_that_finished_while_nobody_followed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The app was closed during the run; kohya finished alone. `jobs attach` (no kohya
    settings needed) reads its logs and exit status, and delivers the LoRA."""
    from lora_studio.core.config.training_config import TrainingConfig
    from lora_studio.core.jobs import Job, StatusChanged
    from tests.fakes.lora_from_header_dump import build_from_header_dump, load_header_dump
    from tests.fakes.recordings import KOHYA_FIXTURES

    run_dir = tmp_path / "run"
    (run_dir / "output").mkdir(parents=True)
    dump = load_header_dump(KOHYA_FIXTURES / "A_rich" / "lstok_test.safetensors.header.json")
    build_from_header_dump(dump, run_dir / "output" / "hero.safetensors")
    (run_dir / "stdout.log").write_text(
        "running training / 学習開始\n  total optimization steps / 学習ステップ数: 6\n"
        f"saving checkpoint: {run_dir}/output/hero.safetensors\n"
    )
    (run_dir / "stderr.log").write_text(
        "\rsteps: 100%|██████████| 6/6 [00:10<00:00,  1.77s/it, avr_loss=1.09]\n"
        "INFO     model saved.\n"
    )
    (run_dir / "exit_status").write_text("0\n")
    with JobStore(paths.job_store_file()) as store:
        job = store.add(
            Job(
                name="hero",
                backend="kohya",
                dataset_path=str(tmp_path),
                config=TrainingConfig(output_name="hero", max_steps=6),
                backend_state={"run_dir": str(run_dir), "pid": 2**22 + 4242, "output_name": "hero"},
            )
        )
        store.record_event(job.id, StatusChanged(JobStatus.RUNNING))
    code = main(["jobs", "attach", job.id, "--out", str(tmp_path / "out")])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "out" / "hero.safetensors").is_file()
    with JobStore(paths.job_store_file()) as store:
        assert store.get(job.id).status is JobStatus.COMPLETED


def test_backend_name_picks_one_of_several_configured_backends(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lora_studio import paths
    from lora_studio.core.config.settings import Settings, save_settings

    save_settings(
        paths.config_dir(),
        Settings(
            backends=[
                {"kind": "kohya", "name": "old", "sd_scripts": str(tmp_path / "gone")},
                {"kind": "kohya", "name": "fake", "sd_scripts": str(FAKE)},
            ]
        ),
    )
    dataset = make_dataset(tmp_path / "d")
    base = ["train", str(dataset), "--backend", "kohya", "--preset", "sd15"]
    assert main(base) == 1  # the first one: its folder is gone
    assert f"{tmp_path / 'gone'} does not exist" in capsys.readouterr().err
    assert main([*base, "--backend-name", "nope"]) == 2
    assert "configured: old, fake" in capsys.readouterr().err
    assert main([*base, "--backend-name", "fake", "--python", "/no/such/python"]) == 1
    assert "/no/such/python" in capsys.readouterr().err  # the named one was used
