"""Opt-in: `lora-studio train --backend kohya` against a real kohya-ss/sd-scripts install.

Skipped unless `LORA_STUDIO_REAL_KOHYA` names the sd-scripts folder. Also read:
`LORA_STUDIO_REAL_KOHYA_PYTHON` (its Python; default: its venv), `LORA_STUDIO_REAL_KOHYA_MODEL`
(a full-size SD 1.5 checkpoint file, required) and `LORA_STUDIO_REAL_KOHYA_TOKENIZERS` (a
`--tokenizer_cache_dir` for an offline machine). On a shared 2-core CPU the 2-step run at 256 px
took 64 s (up to a minute a step when the machine is busy) and about 7 GB of memory.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from lora_studio import paths
from lora_studio.cli import main
from lora_studio.core.jobs import JobStatus, JobStore
from lora_studio.core.weights import inspect_lora, read_metadata
from tests.e2e.test_cli_train_comfyui import json_lines

SD_SCRIPTS = os.environ.get("LORA_STUDIO_REAL_KOHYA", "")
pytestmark = pytest.mark.skipif(
    not SD_SCRIPTS, reason="set LORA_STUDIO_REAL_KOHYA to an sd-scripts folder to run"
)


@pytest.mark.timeout(1800)  # a CPU takes about a minute a step
def test_a_real_kohya_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = os.environ["LORA_STUDIO_REAL_KOHYA_MODEL"]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    dataset = tmp_path / "lstok"
    dataset.mkdir()
    for i in range(4):
        Image.new("RGB", (256, 256), (60 * i, 90, 160)).save(dataset / f"img{i}.png")
        (dataset / f"img{i}.txt").write_text(f"lstok, a square {i}", encoding="utf-8")
    args = ["train", str(dataset), "--backend", "kohya", "--sd-scripts", SD_SCRIPTS]
    if os.environ.get("LORA_STUDIO_REAL_KOHYA_PYTHON"):
        args += ["--python", os.environ["LORA_STUDIO_REAL_KOHYA_PYTHON"]]
    if os.environ.get("LORA_STUDIO_REAL_KOHYA_TOKENIZERS"):
        tokenizers = os.environ["LORA_STUDIO_REAL_KOHYA_TOKENIZERS"]
        args.append(f"--trainer-arg=--tokenizer_cache_dir={tokenizers}")
    args += ["--preset", "sd15", "--base-model", model, "--set", "optimizer=AdamW"]
    args += ["--set", "mixed_precision=no", "--set", "max_steps=2", "--set", "resolution=256"]
    args += ["--set", "rank=4", "--set", "alpha=2", "--set", "output_name=realhero"]
    args += ["--set", "trigger_word=lstok", "--out", str(tmp_path / "out"), "--json"]
    code = main(args)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    lines = json_lines(captured.out)
    assert [line["step"] for line in lines if line["event"] == "loss"][-1] == 2
    [output] = lines[-1]["outputs"]
    metadata = read_metadata(output)
    info = inspect_lora(output)
    # kohya's own keys (what it ran) are kept; ours are added.
    assert metadata["ss_network_dim"] == "4" and info.rank and info.rank.most_common == 4
    assert info.alpha and float(metadata["ss_network_alpha"]) == info.alpha.most_common == 2.0
    assert metadata["ss_steps"] == "2" and metadata["ss_seed"]
    assert metadata["lorastudio.job_id"] == lines[-1]["job_id"]
    assert "sshs_model_hash" in metadata  # written by kohya, not by us
    with JobStore(paths.job_store_file()) as store:
        assert store.get(lines[-1]["job_id"]).status is JobStatus.COMPLETED
