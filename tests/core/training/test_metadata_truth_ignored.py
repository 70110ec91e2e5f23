"""Metadata tells the truth about the settings ComfyUI's trainer ignores.

Found against a real ComfyUI 0.3.64 (tests/e2e/test_real_comfyui.py): with the `sd15` preset the
LoRA said `ss_lr_scheduler` cosine, `ss_text_encoder_lr` 5e-05 and `ss_num_epochs` 10, while the
submitted graph has no scheduler, the file holds no text-encoder module and `max_steps=4` ended the
run inside the first epoch. The plan warns about each ignored setting; the file must not claim it.
"""

from __future__ import annotations

from pathlib import Path

from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.jobs import JobStatus
from lora_studio.core.weights import inspect_lora, read_metadata
from tests.core.backends.comfy_helpers import config
from tests.core.training.test_metadata_truth import train_on_fake_comfyui


def test_ignored_settings_are_not_claimed_by_the_metadata(tmp_path: Path) -> None:
    asked = TrainingConfig(
        **config(
            lr_scheduler="cosine",
            lr_warmup_steps=2,
            train_text_encoder=True,
            text_encoder_lr=5e-5,
            shuffle_caption=True,
            keep_tokens=1,
            epochs=10,
            repeats=5,
            max_steps=4,  # 4 images × 5 repeats = 20 steps per epoch: the run ends in epoch 1
        )
    )
    final, sent = train_on_fake_comfyui(tmp_path, asked)
    assert final.status is JobStatus.COMPLETED, final.error
    [path] = final.outputs
    metadata = read_metadata(path)
    info = inspect_lora(path)
    assert not any("schedul" in key or "warmup" in key for key in sent)  # nothing to send
    assert metadata["ss_lr_scheduler"] == "constant"
    assert metadata["ss_lr_warmup_steps"] == "0"
    assert info.text_encoder_module_count == 0
    assert metadata["ss_text_encoder_lr"] == "None"
    assert metadata["ss_shuffle_caption"] == "False" and metadata["ss_keep_tokens"] == "0"
    assert sent["steps"] == 4 and metadata["ss_steps"] == "4"
    assert metadata["ss_num_epochs"] == "1"  # max_steps ended it in the first of 10 epochs
    # What the trainer did honour is still recorded as asked.
    assert metadata["ss_learning_rate"] == str(sent["learning_rate"])
    assert metadata["ss_batch_size_per_device"] == str(sent["batch_size"])
