"""kohya: a checkpoint that does not fit the preset's model family is refused at review, with the
file's name, what it is, and what to choose — not minutes later as a state-dict error."""

from __future__ import annotations

from pathlib import Path

from lora_studio.core.backends.kohya.checkpoint_check import checkpoint_issues
from lora_studio.core.config.training_config import ModelFamily
from tests.fakes.tiny_checkpoint import write_checkpoint


def test_a_checkpoint_of_the_presets_family_passes(tmp_path: Path) -> None:
    for base, family in (
        ("sd1", ModelFamily.SD15),
        ("sdxl", ModelFamily.SDXL),
        ("flux", ModelFamily.FLUX_DEV),
    ):
        model = write_checkpoint(tmp_path / f"{base}.safetensors", base)
        assert checkpoint_issues(model, family) == []


def test_another_family_is_an_error_that_says_which_and_what_to_do(tmp_path: Path) -> None:
    model = write_checkpoint(tmp_path / "dreamshaper_8.safetensors", "sd1")
    (issue,) = checkpoint_issues(model, ModelFamily.SDXL)
    assert issue.is_error and issue.field == "base_model"
    assert issue.message == (
        "dreamshaper_8.safetensors is a Stable Diffusion 1.x checkpoint (cross-attention width "
        "768), but this training is set up for SDXL LoRAs. Choose an SDXL checkpoint, or a preset "
        "for Stable Diffusion 1.x."
    )


def test_sd2_trains_with_the_sd15_script_only_with_v2(tmp_path: Path) -> None:
    model = write_checkpoint(tmp_path / "sd21.safetensors", "sd2")
    (issue,) = checkpoint_issues(model, ModelFamily.SD15)
    assert "only with --v2" in issue.message and "extra trainer arguments" in issue.message
    assert checkpoint_issues(model, ModelFamily.SD15, ["--v2", "--v_parameterization"]) == []
    assert checkpoint_issues(model, ModelFamily.SD15, ["--v2_extra"]) != []


def test_a_cut_download_or_a_file_that_is_no_safetensors_is_refused(tmp_path: Path) -> None:
    model = write_checkpoint(tmp_path / "sdxl.safetensors", "sdxl")
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(model.read_bytes()[:-100])
    (issue,) = checkpoint_issues(cut, ModelFamily.SDXL)
    assert issue.is_error and "cut.safetensors" in issue.message and "truncated" in issue.message
    page = tmp_path / "page.safetensors"
    page.write_text("<html>404 Not Found</html>")
    (issue,) = checkpoint_issues(page, ModelFamily.SDXL)
    assert "is not a safetensors file" in issue.message
