"""Training inputs: dataset → summary/shape/metadata facts, and metadata stamped into a LoRA."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from lora_studio.core.config.presets import get_preset
from lora_studio.core.config.training_length import training_length
from lora_studio.core.errors import DatasetError
from lora_studio.core.jobs import Job
from lora_studio.core.training.dataset_input import load_training_dataset, split_tags
from lora_studio.core.training.metadata import stamp_metadata
from lora_studio.core.weights import TensorData, read_header, read_metadata, write_safetensors


def make_image(path: Path, size: tuple[int, int], caption: str | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (120, 80, 200)).save(path)
    if caption is not None:
        path.with_suffix(".txt").write_text(caption, encoding="utf-8")


def test_kohya_folders_give_repeats_tags_and_bucket_aware_steps(tmp_path: Path) -> None:
    for i in range(3):
        make_image(tmp_path / "10_ohwx" / f"a{i}.png", (512, 512), "ohwx, red hair, smile")
    make_image(tmp_path / "10_ohwx" / "wide.png", (768, 384), "ohwx, landscape")
    make_image(tmp_path / "2_style" / "b.png", (512, 512), None)
    config = get_preset("sd15", tmp_path / "cfg").config.model_copy(update={"batch_size": 2})
    dataset = load_training_dataset(tmp_path, config)
    assert dataset.image_count == 5
    assert dataset.dataset_dirs == {"10_ohwx": (10, 4), "2_style": (2, 1)}
    assert dataset.tag_frequency["10_ohwx"]["ohwx"] == 4
    assert dataset.tag_frequency["10_ohwx"]["red hair"] == 3
    # Square bucket: 3×10 + 1×2 = 32 samples; wide bucket: 10 samples → ceil(32/2)+ceil(10/2).
    assert sorted(dataset.shape.bucket_samples) == [10, 32]
    length = training_length(config, dataset.shape)
    assert length.total_steps == (16 + 5) * config.epochs
    captions = {item.image.name: item.caption for item in dataset.summary.items}
    assert captions["b.png"] == "" and captions["wide.png"] == "ohwx, landscape"


def test_flat_folder_uses_config_repeats(tmp_path: Path) -> None:
    for i in range(4):
        make_image(tmp_path / f"{i}.jpg", (640, 640), "x")
    config = get_preset("fast", tmp_path / "cfg").config
    dataset = load_training_dataset(tmp_path, config)
    assert dataset.dataset_dirs == {tmp_path.name: (config.repeats, 4)}


def test_folder_without_readable_images_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.png").write_bytes(b"not an image")
    config = get_preset("fast", tmp_path / "cfg").config
    with pytest.raises(DatasetError) as info:
        load_training_dataset(tmp_path, config)
    assert str(tmp_path) in info.value.user_message


def test_split_tags() -> None:
    assert split_tags(" a, b ,, c ") == ["a", "b", "c"]


def test_stamp_metadata_keeps_backend_keys_and_tensor_bytes(tmp_path: Path) -> None:
    lora = tmp_path / "out.safetensors"
    tensor = TensorData("F32", [4, 2], bytes(range(32)))
    write_safetensors(
        lora,
        {"lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight": tensor},
        metadata={"ss_network_dim": "4"},
    )
    before = read_header(lora)
    data_before = lora.read_bytes()[before.data_start :]
    make_image(tmp_path / "ds" / "a.png", (512, 512), "ohwx, cat")
    config = get_preset("sd15", tmp_path / "cfg").config.model_copy(update={"trigger_word": "ohwx"})
    dataset = load_training_dataset(tmp_path / "ds", config)
    job = Job(
        name="cat", backend="comfyui", dataset_path=str(tmp_path / "ds"), dataset_fingerprint="abc"
    )
    added = stamp_metadata(lora, job, config, dataset)
    metadata = read_metadata(lora)
    assert metadata["ss_network_dim"] == "4"  # the backend's own value wins
    assert "ss_network_dim" not in added
    assert metadata["lorastudio.job_id"] == job.id
    assert metadata["modelspec.trigger_phrase"] == "ohwx"
    assert '"cat": 1' in metadata["ss_tag_frequency"]
    after = read_header(lora)
    assert lora.read_bytes()[after.data_start :] == data_before
