"""`lora-studio presets` and `lora-studio estimate`: output, JSON shape and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lora_studio import paths
from lora_studio.cli import main
from lora_studio.core.config.presets import Preset, presets_dir, save_user_preset
from lora_studio.core.config.training_config import TrainingConfig


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(args)
    except SystemExit as exit_info:  # argparse usage errors
        code = int(exit_info.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- presets -------------------------------------------------------------------------------------


def test_presets_table_lists_every_preset_and_every_setting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(["presets"], capsys)
    assert code == 0
    header = out.splitlines()[0].split()
    assert header == ["setting", "sdxl", "sd15", "fast", "high_quality", "flux_dev"]
    for field in TrainingConfig.model_fields:
        if field != "schema_version":
            assert any(line.startswith(field + " ") for line in out.splitlines()), field
    assert "black-forest-labs/FLUX.1-dev" in out


def test_presets_json_has_full_configs_and_user_presets(capsys: pytest.CaptureFixture[str]) -> None:
    save_user_preset(
        Preset(name="mine", title="Mine", config=TrainingConfig(rank=12)), paths.config_dir()
    )
    code, out, _ = run(["presets", "--json"], capsys)
    assert code == 0
    items = json.loads(out)
    assert [item["name"] for item in items] == [
        "sdxl",
        "sd15",
        "fast",
        "high_quality",
        "flux_dev",
        "mine",
    ]
    mine = items[-1]
    assert mine["builtin"] is False and mine["config"]["rank"] == 12
    assert set(items[0]["config"]) == set(TrainingConfig.model_fields)
    assert items[0]["effective_alpha"] == 16


def test_presets_reports_a_broken_file_but_lists_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = presets_dir(paths.config_dir())
    folder.mkdir(parents=True)
    (folder / "broken.json").write_text("{nope", encoding="utf-8")
    code, out, err = run(["presets", "--json"], capsys)
    assert code == 0
    assert len(json.loads(out)) == 5
    assert "broken.json" in err and "not valid JSON" in err


# --- estimate ------------------------------------------------------------------------------------


def test_the_acceptance_check_sdxl_on_12_gb(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        ["estimate", "--images", "40", "--preset", "sdxl", "--gpu-vram-gb", "12", "--json"], capsys
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["preset"] == "sdxl"
    assert data["length"]["total_steps"] == 40 * 5 * 10
    vram = data["vram"]
    # kohya sd-scripts README: SDXL LoRA at 1024 px, batch 1, checkpointing "can be done with
    # 12GB" (later: "10GB recommended").
    assert vram["low"] <= 12 <= vram["high"] and vram["low"] <= 10 <= vram["high"]
    assert vram["unit"] == "GB" and vram["assumptions"]
    assert data["verdict"]["verdict"] == "tight" and data["verdict"]["gpu_vram_gb"] == 12
    assert data["duration"]["unit"] == "s" and data["duration"]["value"] > 0
    assert data["cost"] is None
    assert data["issues"] == []
    assert data["config"]["rank"] == 32


def test_estimate_human_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["estimate", "--images", "40", "--preset", "sdxl", "--gpu-vram-gb", "24"], capsys
    )
    assert code == 0
    for label in ("Preset", "Dataset", "Steps", "VRAM", "Duration", "Cost", "Assumptions"):
        assert label in out
    assert "2000 = 10 epochs × 200 steps" in out
    assert "fits" in out


def test_replicate_backend_prices_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["estimate", "--images", "20", "--preset", "flux-dev", "--backend", "replicate", "--json"],
        capsys,
    )
    assert code == 0
    data = json.loads(out)
    assert data["length"]["total_steps"] == 1000
    assert data["gpu_class"] == "h100"
    assert data["cost"]["unit"] == "USD" and 0 < data["cost"]["low"] < data["cost"]["high"]
    assert data["verdict"]["verdict"] == "fits"


def test_set_overrides_apply(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["estimate", "--images", "10", "--preset", "sdxl", "--set", "rank=8", "--set",
         "epochs=2", "--json"],
        capsys,
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert data["overrides"] == {"rank": "8", "epochs": "2"}
    assert data["config"]["rank"] == 8
    assert data["length"]["total_steps"] == 10 * 5 * 2


def test_invalid_set_values_exit_2_with_sentences(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        ["estimate", "--images", "10", "--preset", "sdxl", "--set", "rank=256", "--set", "rnak=3",
         "--set", "oops"],
        capsys,
    )  # fmt: skip
    assert code == 2 and out == ""
    assert "oops: must look like key=value" in err
    code, _, err = run(
        ["estimate", "--images", "10", "--preset", "sdxl", "--set", "rank=256", "--set", "rnak=3"],
        capsys,
    )
    assert code == 2
    assert "rank: must be between 4 and 128, got 256" in err
    assert "rnak: is not a training setting. Did you mean 'rank'?" in err


def test_unknown_preset_exits_2_listing_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["estimate", "--images", "10", "--preset", "sdxxl"], capsys)
    assert code == 2
    assert "sdxl, sd15, fast, high_quality, flux_dev" in err


def test_cross_field_errors_exit_2_and_warnings_continue(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(
        ["estimate", "--images", "10", "--preset", "sdxl", "--set", "max_bucket_reso=512"], capsys
    )
    assert code == 2 and out == ""
    assert "max_bucket_reso: must be at least the resolution (1024)" in err
    code, out, err = run(
        ["estimate", "--images", "10", "--preset", "sdxl", "--set", "optimizer=Prodigy", "--json"],
        capsys,
    )
    assert code == 0
    assert "warning: learning_rate:" in err
    assert json.loads(out)["issues"][0]["severity"] == "warning"
    code, out, _ = run(
        ["estimate", "--images", "10", "--preset", "sdxl", "--set", "optimizer=Prodigy"], capsys
    )
    assert code == 0 and "Warnings" in out and "Prodigy" in out


@pytest.mark.parametrize(
    "args",
    [
        ["estimate", "--preset", "sdxl"],  # neither DIR nor --images
        ["estimate", "somewhere", "--images", "3", "--preset", "sdxl"],  # both
        ["estimate", "--images", "0", "--preset", "sdxl"],
        ["estimate", "--images", "3"],  # no preset
        ["estimate", "--images", "3", "--preset", "sdxl", "--gpu-vram-gb", "-4"],
        ["estimate", "--images", "3", "--preset", "sdxl", "--backend", "colab"],
    ],
)
def test_usage_errors_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(args, capsys)
    assert code == 2


def make_dataset(root: Path) -> Path:
    files = [
        "10_alice/a.png", "10_alice/b.JPG", "10_alice/c.webp", "10_alice/a.txt",
        "3_bg/x.jpeg", "3_bg/deeper/y.tiff", "loose.gif", "notes.txt",
        ".lora_studio/thumbs/t.png", "10_alice/.hidden.png", "2024_trip/nested/5_no/z.bmp",
    ]  # fmt: skip
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    return root


def test_estimate_counts_a_folder_with_kohya_repeats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = make_dataset(tmp_path / "ds")
    code, out, _ = run(["estimate", str(dataset), "--preset", "fast", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    folders = data["dataset"]["concept_folders"]
    # "2024_trip" is a kohya-style name too (2024 repeats), exactly as kohya would read it.
    assert folders == {
        "10_alice": {"images": 3, "repeats": 10},
        "2024_trip": {"images": 1, "repeats": 2024},
        "3_bg": {"images": 2, "repeats": 3},
    }
    assert data["dataset"]["images"] == 7  # + loose.gif; hidden files and folders skipped
    assert data["length"]["samples_per_epoch"] == 30 + 2024 + 6 + 1 * 5
    notes = data["dataset"]["notes"]
    assert any("outside N_concept folders" in note for note in notes)
    assert any("'2024_trip' counts as 2024 repeats" in note for note in notes)


def test_estimate_plain_folder_uses_preset_repeats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("a.png", "b.png", "sub/c.jpg"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    code, out, _ = run(["estimate", str(tmp_path), "--preset", "sdxl", "--json"], capsys)
    assert code == 0
    assert json.loads(out)["length"]["samples_per_epoch"] == 3 * 5


def test_estimate_empty_or_missing_folder_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["estimate", str(tmp_path), "--preset", "sdxl"], capsys)
    assert code == 2 and "no images" in err
    code, _, err = run(["estimate", str(tmp_path / "missing"), "--preset", "sdxl"], capsys)
    assert code == 2 and "not a folder" in err


def test_estimate_as_a_real_process(tmp_path: Path) -> None:
    env = dict(os.environ, LORA_STUDIO_HOME=str(tmp_path / "home"))
    result = subprocess.run(
        [sys.executable, "-m", "lora_studio", "estimate", "--images", "40", "--preset", "sdxl",
         "--gpu-vram-gb", "12", "--json"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["verdict"]["verdict"] == "tight"
