"""`render` never uses a different LoRA that merely has the same file name on the server.

Found against a real ComfyUI 0.3.64: rendering `out1/ds_fast_1.safetensors` uploaded it, and a
later `render other/ds_fast_1.safetensors` (another LoRA, same name) printed "found" and rendered
the first file — the server lists LoRAs by name only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lora_studio.cli import main
from tests.e2e.test_cli_train_comfyui import json_lines
from tests.fakes.fake_comfyui import CHECKPOINTS, FakeComfyUI


@pytest.fixture
def comfy(tmp_path: Path) -> Iterator[FakeComfyUI]:
    with FakeComfyUI(tmp_path / "server") as fake:
        yield fake


def render(comfy: FakeComfyUI, lora: Path, out: Path) -> list[str]:
    return [
        "render", str(lora), "--backend", "comfyui", "--url", comfy.url,
        "--base-model", CHECKPOINTS[0], "--prompt", "a red fox", "--out", str(out), "--json",
    ]  # fmt: skip


def test_a_different_file_of_the_same_name_is_uploaded_not_reused(
    comfy: FakeComfyUI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a" / "hero.safetensors", tmp_path / "b" / "hero.safetensors"
    for path, content in ((first, b"the first LoRA"), (second, b"another LoRA, same name")):
        path.parent.mkdir()
        path.write_bytes(content)
    assert main(render(comfy, first, tmp_path / "r1")) == 0
    [uploaded_first, _] = json_lines(capsys.readouterr().out)
    assert main(render(comfy, second, tmp_path / "r2")) == 0
    [uploaded_second, _] = json_lines(capsys.readouterr().out)
    assert uploaded_second["event"] == "uploaded"  # not "found" by its name
    assert uploaded_second["name"] != uploaded_first["name"]
    on_server = comfy.output_dir / "loras"
    assert (on_server / uploaded_first["name"]).read_bytes() == b"the first LoRA"
    assert (on_server / uploaded_second["name"]).read_bytes() == b"another LoRA, same name"
    # The same file again is recognised and not uploaded twice.
    assert main(render(comfy, first, tmp_path / "r3")) == 0
    [again, _] = json_lines(capsys.readouterr().out)
    assert again == {"event": "found", "name": uploaded_first["name"]}
