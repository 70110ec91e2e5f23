"""End to end: `train --sample-prompt` renders every prompt with each checkpoint (and once
without the LoRA) on the fake ComfyUI, which runs the recorded inference graph; `render` does the
same for any LoRA file, uploading it when the server lacks it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from lora_studio import paths
from lora_studio.cli import main
from lora_studio.core.backends.comfyui.render import RenderSettings, render_graph
from lora_studio.core.jobs import JobStatus, JobStore
from tests.e2e.test_cli_train_comfyui import json_lines, make_dataset
from tests.fakes.fake_comfyui import CHECKPOINTS, FakeComfyUI
from tests.fakes.recordings import COMFYUI_FIXTURES


@pytest.fixture
def comfy(tmp_path: Path) -> Iterator[FakeComfyUI]:
    with FakeComfyUI(tmp_path / "server") as fake:
        yield fake


def test_the_graph_is_the_recorded_one() -> None:
    recorded = json.loads((COMFYUI_FIXTURES / "infer_with_lora_workflow.json").read_text())
    settings = RenderSettings("random_sd15.safetensors", 64, 64, steps=2, seed=0)
    ours = render_graph(
        settings,
        "a photo of a circle in sks style",
        "lorastudio_test_4_steps_00001_.safetensors",
        "lorastudio_infer",
    )
    assert ours == recorded
    reference = render_graph(settings, "x", None, "p")
    assert "2" not in reference and reference["6"]["inputs"]["model"] == ["1", 0]


def test_train_with_sample_prompts(
    comfy: FakeComfyUI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = make_dataset(tmp_path / "set")
    out = tmp_path / "out"
    code = main(
        [
            "train", str(dataset), "--backend", "comfyui", "--url", comfy.url,
            "--preset", "sd15", "--base-model", CHECKPOINTS[0],
            "--set", "max_steps=16", "--set", "output_name=hero", "--set", "resolution=256",
            "--set", "save_every_n_epochs=none", "--chunk-steps", "8", "--out", str(out),
            "--sample-prompt", "ohwx portrait", "--sample-prompt", "ohwx in a garden",
            "--json",
        ]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    samples = [e for e in json_lines(captured.out) if e["event"] == "sample"]
    # The reference once, then both prompts after each of the two chunks.
    assert [(e["step"], e["with_lora"]) for e in samples] == [
        (0, False), (0, False), (8, True), (8, True), (16, True), (16, True)
    ]  # fmt: skip
    assert {e["prompt"] for e in samples} == {"ohwx portrait", "ohwx in a garden"}
    folder = out / "hero_samples"
    assert sorted(p.name for p in folder.iterdir()) == [
        "reference_p01.png", "reference_p02.png", "step000008_p01.png",
        "step000008_p02.png", "step000016_p01.png", "step000016_p02.png",
    ]  # fmt: skip
    colours = {}
    for path in folder.iterdir():
        with Image.open(path) as image:
            assert image.size == (256, 256)
            colours[path.name] = image.getpixel((0, 0))
    # Different checkpoints give different images; the same prompt and seed without the LoRA
    # is its own reference.
    assert colours["step000008_p01.png"] != colours["step000016_p01.png"]
    assert colours["reference_p01.png"] != colours["step000016_p01.png"]
    with JobStore(paths.job_store_file()) as store:
        (job,) = store.list()
    assert job.status is JobStatus.COMPLETED
    assert len(job.samples) == 6 and all(Path(s.path).exists() for s in job.samples)


def test_render_uploads_a_lora_the_server_lacks(
    comfy: FakeComfyUI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lora = tmp_path / "elsewhere.safetensors"
    lora.write_bytes(b"not really a LoRA, but the fake only checks that the file exists")
    out = tmp_path / "renders"
    args = [
        "render", str(lora), "--backend", "comfyui", "--url", comfy.url,
        "--base-model", CHECKPOINTS[0], "--prompt", "a red fox", "--prompt", "a blue fox",
        "--seed", "7", "--strength", "0.8", "--out", str(out), "--json",
    ]  # fmt: skip
    assert main(args) == 0, capsys.readouterr().err
    events = json_lines(capsys.readouterr().out)
    # Named after its content (elsewhere-<sha256 12 hex>): a listed name is this very file.
    assert events[0]["event"] == "uploaded" and events[0]["name"].startswith("elsewhere-")
    assert (comfy.output_dir / "loras" / events[0]["name"]).exists()
    images = [e for e in events if e["event"] == "sample"]
    assert [e["prompt"] for e in images] == ["a red fox", "a blue fox"]
    assert all(Path(e["path"]).exists() for e in images)
    # Second time: already on the server, nothing is uploaded again.
    assert main(args) == 0
    events = json_lines(capsys.readouterr().out)
    assert events[0]["event"] != "uploaded"


def test_render_says_what_to_do_when_the_base_model_is_missing(
    comfy: FakeComfyUI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lora = tmp_path / "x.safetensors"
    lora.write_bytes(b"x")
    code = main(
        [
            "render", str(lora), "--backend", "comfyui", "--url", comfy.url,
            "--base-model", "nope.safetensors", "--prompt", "a fox", "--out", str(tmp_path / "o"),
        ]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert "nope.safetensors" in err
