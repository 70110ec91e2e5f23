"""validate_config: every cross-field rule, as an error or a warning with a readable sentence."""

from __future__ import annotations

from typing import Any

import pytest

from lora_studio.core.config.issues import Issue
from lora_studio.core.config.presets import builtin_presets
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.config.validation import validate_config

BASE: dict[str, Any] = {
    "base_model_family": "sdxl",
    "resolution": 1024,
    "min_bucket_reso": 512,
    "max_bucket_reso": 2048,
    "learning_rate": 1e-4,
    "optimizer": "AdamW8bit",
}


def issues_for(**changes: Any) -> list[Issue]:
    return validate_config(TrainingConfig(**{**BASE, **changes}))


def find(issues: list[Issue], field: str, severity: str) -> Issue:
    matches = [i for i in issues if i.field == field and i.severity == severity]
    assert matches, f"no {severity} for {field} in {[str(i) for i in issues]}"
    return matches[0]


def test_the_base_config_is_clean() -> None:
    assert issues_for() == []


@pytest.mark.parametrize("preset", builtin_presets(), ids=lambda p: p.name)
def test_every_builtin_preset_validates_without_errors_or_warnings(preset: Any) -> None:
    assert validate_config(preset.config) == []


def test_max_bucket_below_resolution_is_an_error() -> None:
    issue = find(issues_for(max_bucket_reso=768), "max_bucket_reso", "error")
    assert "at least the resolution (1024), got 768" in issue.message


def test_min_bucket_above_resolution_is_an_error() -> None:
    issues = issues_for(resolution=768, min_bucket_reso=1024, max_bucket_reso=2048)
    assert "at most the resolution (768)" in find(issues, "min_bucket_reso", "error").message


def test_bucket_limits_must_be_multiples_of_the_step() -> None:
    issue = find(issues_for(min_bucket_reso=520), "min_bucket_reso", "error")
    assert issue.message == "must be a multiple of bucket_reso_steps (64), got 520."


def test_sdxl_needs_bucket_steps_of_at_least_32() -> None:
    issues = issues_for(bucket_reso_steps=16, min_bucket_reso=512, max_bucket_reso=2048)
    assert find(issues, "bucket_reso_steps", "error")
    assert not [i for i in issues_for(bucket_reso_steps=32) if i.field == "bucket_reso_steps"]


def test_bucket_rules_only_apply_with_bucketing() -> None:
    assert issues_for(bucketing=False, max_bucket_reso=512) == []


def test_errors_come_before_warnings() -> None:
    issues = issues_for(max_bucket_reso=768, optimizer="Prodigy")
    assert [i.severity for i in issues] == ["error", "warning"]


def test_resolution_not_multiple_of_64_warns() -> None:
    assert find(issues_for(resolution=1000, min_bucket_reso=512), "resolution", "warning")


def test_sdxl_below_768_warns() -> None:
    issue = find(issues_for(resolution=512, min_bucket_reso=256), "resolution", "warning")
    assert "SDXL was trained at 1024 px" in issue.message
    assert not [i for i in issues_for(resolution=768) if i.field == "resolution"]


def test_sd15_above_768_warns() -> None:
    issue = find(issues_for(base_model_family="sd15", resolution=1024), "resolution", "warning")
    assert "SD 1.5" in issue.message
    assert issues_for(base_model_family="sd15", resolution=768, min_bucket_reso=256) == []


def test_flux_below_512_warns() -> None:
    issues = issues_for(base_model_family="flux_dev", resolution=384, min_bucket_reso=256)
    assert find(issues, "resolution", "warning")


def test_fp16_with_flux_warns() -> None:
    issue = find(
        issues_for(base_model_family="flux_dev", mixed_precision="fp16"),
        "mixed_precision",
        "warning",
    )
    assert "bf16" in issue.message


def test_no_mixed_precision_on_big_models_warns() -> None:
    assert find(issues_for(mixed_precision="no"), "mixed_precision", "warning")
    sd15 = issues_for(
        base_model_family="sd15", resolution=512, min_bucket_reso=256, mixed_precision="no"
    )
    assert sd15 == []


@pytest.mark.parametrize("optimizer", ["Prodigy", "DAdaptation"])
def test_adaptive_optimizer_with_small_lr_warns(optimizer: str) -> None:
    issue = find(issues_for(optimizer=optimizer, learning_rate=1e-4), "learning_rate", "warning")
    assert "near 1.0" in issue.message
    assert issues_for(optimizer=optimizer, learning_rate=1.0) == []


def test_adam_with_a_huge_lr_warns() -> None:
    assert find(issues_for(learning_rate=0.05), "learning_rate", "warning")
    assert find(issues_for(optimizer="Lion", learning_rate=3e-3), "learning_rate", "warning")
    assert issues_for(optimizer="Lion", learning_rate=1e-4) == []


def test_warmup_with_constant_scheduler_warns() -> None:
    issue = find(
        issues_for(lr_scheduler="constant", lr_warmup_steps=100), "lr_warmup_steps", "warning"
    )
    assert "constant_with_warmup" in issue.message
    assert issues_for(lr_scheduler="cosine", lr_warmup_steps=100) == []


def test_constant_with_warmup_but_no_warmup_warns() -> None:
    assert find(issues_for(lr_scheduler="constant_with_warmup"), "lr_warmup_steps", "warning")


def test_warmup_longer_than_training_warns() -> None:
    by_max_steps = issues_for(lr_scheduler="cosine", lr_warmup_steps=500, max_steps=400)
    assert find(by_max_steps, "lr_warmup_steps", "warning")
    config = TrainingConfig(**{**BASE, "lr_scheduler": "cosine", "lr_warmup_steps": 500})
    assert validate_config(config, total_steps=1000) == []
    assert find(validate_config(config, total_steps=300), "lr_warmup_steps", "warning")


def test_keep_tokens_without_shuffle_is_noted() -> None:
    issue = find(issues_for(keep_tokens=1), "keep_tokens", "warning")
    assert "shuffle_caption" in issue.message
    assert issues_for(keep_tokens=1, shuffle_caption=True) == []


def test_shuffled_trigger_word_without_keep_tokens_warns() -> None:
    issue = find(issues_for(shuffle_caption=True, trigger_word="sks"), "keep_tokens", "warning")
    assert "trigger word" in issue.message


def test_trigger_word_with_commas_warns() -> None:
    issue = find(issues_for(trigger_word="sks, person"), "trigger_word", "warning")
    assert "comma" in issue.message


def test_alpha_above_rank_warns() -> None:
    assert find(issues_for(rank=16, alpha=32), "alpha", "warning")
    assert issues_for(rank=16, alpha=16) == []


def test_text_encoder_lr_without_training_it_warns() -> None:
    assert find(issues_for(text_encoder_lr=5e-5), "text_encoder_lr", "warning")


def test_training_text_encoders_of_sdxl_or_flux_warns() -> None:
    assert find(issues_for(train_text_encoder=True), "train_text_encoder", "warning")
    flux = issues_for(base_model_family="flux_dev", train_text_encoder=True)
    assert find(flux, "train_text_encoder", "warning")
    sd15 = issues_for(
        base_model_family="sd15", resolution=512, min_bucket_reso=256, train_text_encoder=True
    )
    assert sd15 == []


def test_saving_less_often_than_the_training_length_warns() -> None:
    assert find(issues_for(epochs=10, save_every_n_epochs=10), "save_every_n_epochs", "warning")
    assert issues_for(epochs=10, save_every_n_epochs=2) == []


def test_every_message_is_a_sentence_without_the_field_name_prefix() -> None:
    issues = issues_for(
        max_bucket_reso=768, optimizer="Prodigy", trigger_word="a,b", keep_tokens=2, alpha=64
    )
    assert len(issues) >= 4
    for issue in issues:
        assert not issue.message.startswith(issue.field + ":")
        assert issue.message.rstrip().endswith(".")
