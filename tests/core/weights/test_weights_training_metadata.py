"""Training metadata builder: kohya-compatible ss_* values, modelspec, and our lorastudio block.

The strongest check feeds in the settings of the recorded kohya run A_rich and requires every key
both sides write to carry exactly kohya's string.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from lora_studio import __version__
from lora_studio.core.weights import (
    TensorData,
    TrainingMetadataInput,
    add_metadata_if_missing,
    build_training_metadata,
    inspect_lora,
    read_metadata,
    write_safetensors,
)
from lora_studio.core.weights.training_metadata import SAI_MODEL_SPEC_VERSION

DATA = Path(__file__).resolve().parents[2] / "data" / "weights"


def kohya_metadata() -> dict[str, str]:
    dump = json.loads((DATA / "kohya_sd15_lstok.header.json").read_text(encoding="utf-8"))
    return dump["__metadata__"]


def a_rich_inputs(**overrides: object) -> TrainingMetadataInput:
    """The settings of the recorded kohya run A_rich, as LoRA Studio would describe them."""
    recorded = kohya_metadata()
    values: dict = dict(
        output_name="lstok_test",
        family="sd15",
        base_model="/data/models/sd15_random.safetensors",
        base_model_sha256=recorded["ss_new_sd_model_hash"],
        rank=4,
        alpha=2,
        learning_rate=1e-4,
        epochs=1,
        max_steps=6,
        steps_done=6,
        batch_size=1,
        grad_accumulation=1,
        scheduler="constant",
        warmup_steps=0,
        optimizer="AdamW",
        mixed_precision="fp32",
        seed=1,
        resolution=64,
        enable_bucket=False,
        shuffle_caption=False,
        keep_tokens=0,
        dataset_dirs={"2_lstok": (2, 4)},
        tag_frequency=json.loads(recorded["ss_tag_frequency"]),
        started_at=float(recorded["ss_training_started_at"]),
        finished_at=float(recorded["ss_training_finished_at"]),
        job_id="job-0042",
        dataset_fingerprint="sha256:abc",
        backend="kohya",
    )
    values.update(overrides)
    return TrainingMetadataInput(**values)


def test_same_run_gives_kohyas_exact_strings() -> None:
    recorded = kohya_metadata()
    ours = build_training_metadata(a_rich_inputs())
    shared = set(ours) & set(recorded)
    # Intentional differences: spec version we claim, and the date (local time of each machine).
    different = {"modelspec.sai_model_spec", "modelspec.date"}
    mismatches = {
        key: (ours[key], recorded[key]) for key in shared - different if ours[key] != recorded[key]
    }
    assert mismatches == {}
    assert len(shared) >= 40
    assert ours["modelspec.sai_model_spec"] == SAI_MODEL_SPEC_VERSION
    expected_date = dt.datetime.fromtimestamp(int(float(recorded["ss_training_finished_at"])))
    assert ours["modelspec.date"] == expected_date.isoformat()


def test_all_values_are_strings_and_keys_are_known() -> None:
    ours = build_training_metadata(a_rich_inputs())
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in ours.items())
    kohya_keys = set(kohya_metadata()) | set(
        json.loads((DATA / "kohya_sd15_toml.metadata.json").read_text(encoding="utf-8"))[
            "__metadata__"
        ]
    )
    ours_only = {k for k in ours if k not in kohya_keys and not k.startswith("lorastudio.")}
    assert ours_only <= {"modelspec.trigger_phrase"}


def test_lorastudio_block() -> None:
    ours = build_training_metadata(a_rich_inputs())
    assert {k: v for k, v in ours.items() if k.startswith("lorastudio.")} == {
        "lorastudio.version": __version__,
        "lorastudio.job_id": "job-0042",
        "lorastudio.dataset_fingerprint": "sha256:abc",
        "lorastudio.backend": "kohya",
    }


@pytest.mark.parametrize(
    ("family", "version", "architecture", "module", "implementation"),
    [
        ("sd15", "sd_v1", "stable-diffusion-v1/lora", "networks.lora", "diffusers"),
        (
            "sdxl",
            "sdxl_base_v1-0",
            "stable-diffusion-xl-v1-base/lora",
            "networks.lora",
            "https://github.com/Stability-AI/generative-models",
        ),
        (
            "flux_dev",
            "flux1",
            "flux-1-dev/lora",
            "networks.lora_flux",
            "https://github.com/black-forest-labs/flux",
        ),
    ],
)
def test_family_specific_keys(
    family: str, version: str, architecture: str, module: str, implementation: str
) -> None:
    ours = build_training_metadata(a_rich_inputs(family=family, resolution=(1024, 768)))
    assert ours["ss_base_model_version"] == version
    assert ours["modelspec.architecture"] == architecture
    assert ours["ss_network_module"] == module
    assert ours["modelspec.implementation"] == implementation
    assert ours["modelspec.resolution"] == "1024x768"
    assert ours["ss_resolution"] == "(1024, 768)"
    assert ours["ss_v2"] == "False"
    # Flux is not an epsilon-prediction model; sd-scripts omits the key for it.
    assert ("modelspec.prediction_type" in ours) == (family != "flux_dev")


def test_optional_values_and_formats() -> None:
    ours = build_training_metadata(
        a_rich_inputs(
            unet_lr=5e-5,
            text_encoder_lr=None,
            enable_bucket=True,
            min_bucket_reso=256,
            max_bucket_reso=2048,
            shuffle_caption=True,
            keep_tokens=1,
            optimizer="Prodigy",
            mixed_precision="BF16",
            seed=None,
            trigger_word="lstok",
            title="Lstok v1",
            grad_accumulation=4,
            batch_size=2,
            dataset_dirs={"10_cat": (10, 20), "5_dog": (5, 12)},
            num_train_images=None,
            started_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            finished_at=None,
        )
    )
    assert ours["ss_unet_lr"] == "5e-05"
    assert ours["ss_text_encoder_lr"] == "None"
    assert (ours["ss_enable_bucket"], ours["ss_min_bucket_reso"], ours["ss_max_bucket_reso"]) == (
        "True",
        "256",
        "2048",
    )
    assert (ours["ss_shuffle_caption"], ours["ss_keep_tokens"]) == ("True", "1")
    assert ours["ss_optimizer"] == "prodigyopt.prodigy.Prodigy"
    assert ours["ss_mixed_precision"] == "bf16"
    assert ours["ss_seed"] == "None"
    assert ours["modelspec.trigger_phrase"] == "lstok"
    assert ours["modelspec.title"] == "Lstok v1"
    assert (ours["ss_batch_size_per_device"], ours["ss_total_batch_size"]) == ("2", "8")
    assert ours["ss_num_train_images"] == str(10 * 20 + 5 * 12)
    assert json.loads(ours["ss_dataset_dirs"]) == {
        "10_cat": {"n_repeats": 10, "img_count": 20},
        "5_dog": {"n_repeats": 5, "img_count": 12},
    }
    started = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC).timestamp()
    assert ours["ss_training_started_at"] == str(started)
    assert ours["ss_training_finished_at"] == "None"
    assert ours["modelspec.date"] == dt.datetime.fromtimestamp(int(started)).isoformat()


def test_non_ascii_tags_are_escaped_like_kohya() -> None:
    ours = build_training_metadata(a_rich_inputs(tag_frequency={"2_x": {"café": 2}}))
    assert ours["ss_tag_frequency"] == '{"2_x": {"caf\\u00e9": 2}}'


def test_metadata_lands_in_a_comfyui_file(tmp_path: Path) -> None:
    # What ComfyUI's SaveLoRA writes: diffusion_model.* keys, alpha 1.0, no __metadata__.
    path = tmp_path / "lorastudio_job42_600_steps_00001_.safetensors"
    module = "diffusion_model.input_blocks.4.1.transformer_blocks.0.attn1.to_q"
    write_safetensors(
        path,
        {
            f"{module}.lora_down.weight": TensorData("BF16", (8, 640), bytes(2 * 8 * 640)),
            f"{module}.lora_up.weight": TensorData("BF16", (640, 8), bytes(2 * 640 * 8)),
            f"{module}.alpha": TensorData("BF16", (), b"\x80\x3f"),
        },
    )
    metadata = build_training_metadata(a_rich_inputs(family="sdxl", backend="comfyui"))
    assert add_metadata_if_missing(path, metadata) == metadata
    assert read_metadata(path) == metadata
    info = inspect_lora(path)
    assert info.base_model.value == "sdxl" and info.base_model_source == "metadata"
