"""End to end: `lora-studio train` and `lora-studio estimate` on a dataset holding a truncated JPEG
and a PNG with a damaged IDAT (headers fine, pixels not): both are left out — of the plan's image
count, the steps and the folder staged for kohya — and named with what to do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lora_studio import paths
from lora_studio.cli import main
from lora_studio.core.jobs import JobStore
from tests.dataset_fixtures import damage_png_idat, truncate_to_half, write_picture
from tests.e2e.test_cli_train_comfyui import json_lines, make_dataset
from tests.e2e.test_cli_train_kohya import FAKE, fake_kohya_train
from tests.fakes.tiny_checkpoint import write_checkpoint


def _damaged_dataset(folder: Path) -> Path:
    make_dataset(folder)
    truncate_to_half(write_picture(folder / "cut.jpg", 7, (640, 480), caption="ohwx, cut"))
    damage_png_idat(write_picture(folder / "bad.png", 8, (640, 480), caption="ohwx, bad"))
    return folder


def test_train_leaves_undecodable_pictures_out_and_names_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(FAKE / "site"))
    dataset = _damaged_dataset(tmp_path / "set")
    model = write_checkpoint(tmp_path / "sd15.safetensors")
    args = fake_kohya_train(dataset, model)
    args += ["--set", "max_steps=4", "--set", "optimizer=AdamW", "--out", str(tmp_path / "out")]
    code = main([*args, "--trainer-arg=--max_data_loader_n_workers=0", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "2 of 6 pictures cannot be decoded and are left out: bad.png, cut.jpg." in captured.err
    assert f"lora-studio doctor {dataset}" in captured.err
    assert "cut.jpg is truncated" in captured.err and "bad.png is damaged" in captured.err
    lines = json_lines(captured.out)
    plan = next(line for line in lines if line["event"] == "plan")
    assert plan["images"] == 4
    with JobStore(paths.job_store_file()) as store:
        job = store.get(lines[-1]["job_id"])
    staged = Path(job.backend_state["run_dir"]) / "dataset"
    names = sorted(p.name for p in staged.rglob("*") if p.suffix in (".png", ".jpg"))
    assert len(names) == 4 and not any("cut" in n or "bad" in n for n in names)


def test_estimate_counts_only_pictures_that_decode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = _damaged_dataset(tmp_path / "set")
    code = main(["estimate", str(dataset), "--preset", "sd15", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    report = json.loads(captured.out)
    assert report["dataset"]["images"] == 4
    assert sorted(report["dataset"]["left_out"]) == ["bad.png", "cut.jpg"]
    assert "2 of 6 pictures cannot be decoded and are left out" in captured.err
    code = main(["estimate", str(dataset), "--preset", "sd15"])
    assert code == 0 and "Dataset      4 images" in capsys.readouterr().out


def test_doctor_names_them_and_quick_remembers_what_was_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = _damaged_dataset(tmp_path / "set")
    assert main(["doctor", str(dataset), "--quick", "--json"]) == 0
    found = {(Path(f["path"]).name, f["kind"]) for f in json.loads(capsys.readouterr().out)}
    assert ("cut.jpg", "truncated") not in found  # headers only, nothing known yet
    assert main(["estimate", str(dataset), "--preset", "sd15"]) == 0  # a training's check
    capsys.readouterr()
    assert main(["doctor", str(dataset), "--quick", "--json"]) == 0
    found = {(Path(f["path"]).name, f["kind"]) for f in json.loads(capsys.readouterr().out)}
    assert {("cut.jpg", "truncated"), ("bad.png", "damaged")} <= found
    assert main(["doctor", str(dataset)]) == 0
    full = capsys.readouterr().out
    assert "cut.jpg is truncated" in full and "bad.png is damaged" in full
