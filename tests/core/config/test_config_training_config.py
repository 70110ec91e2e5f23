"""TrainingConfig: field-level limits, readable error sentences, defaults and derived values."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lora_studio.core.config.issues import (
    InvalidConfigError,
    Issue,
    errors_only,
    issues_from_validation_error,
    warnings_only,
)
from lora_studio.core.config.training_config import (
    ModelFamily,
    Optimizer,
    TrainingConfig,
    config_from_dict,
    settable_fields,
)
from lora_studio.core.errors import ConfigError

CONTRACT_FIELDS = [
    "base_model_family", "base_model", "rank", "alpha", "learning_rate", "unet_lr",
    "text_encoder_lr", "batch_size", "gradient_accumulation", "epochs", "max_steps", "repeats",
    "resolution", "bucketing", "min_bucket_reso", "max_bucket_reso", "bucket_reso_steps",
    "mixed_precision", "lr_scheduler", "lr_warmup_steps", "optimizer", "seed", "trigger_word",
    "shuffle_caption", "keep_tokens", "save_every_n_epochs", "output_name",
    "gradient_checkpointing", "train_text_encoder", "sample_prompts", "schema_version",
]  # fmt: skip


def sentences(**fields: object) -> list[str]:
    with pytest.raises(InvalidConfigError) as info:
        config_from_dict(fields)
    return [str(issue) for issue in info.value.issues]


def test_field_names_are_the_agreed_contract() -> None:
    assert set(TrainingConfig.model_fields) == set(CONTRACT_FIELDS)
    assert "schema_version" not in settable_fields()


def test_every_field_has_a_one_line_explanation() -> None:
    for name, info in TrainingConfig.model_fields.items():
        assert info.description, name
        assert "\n" not in info.description


def test_defaults_are_valid_and_json_round_trips() -> None:
    config = TrainingConfig()
    again = TrainingConfig.model_validate_json(config.model_dump_json())
    assert again == config
    assert config.model_dump(mode="json")["base_model_family"] == "sdxl"


def test_rank_limits_with_the_sentence_from_the_brief() -> None:
    assert sentences(rank=256) == ["rank: must be between 4 and 128, got 256"]
    assert sentences(rank=3) == ["rank: must be between 4 and 128, got 3"]
    assert TrainingConfig(rank=4).rank == 4
    assert TrainingConfig(rank=128).rank == 128


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"rank": "abc"}, "rank: must be a whole number, got 'abc'"),
        ({"rank": 3.5}, "rank: must be a whole number, got 3.5"),
        ({"alpha": "x"}, "alpha: must be a number (for example 0.0001), got 'x'"),
        ({"learning_rate": 0}, "learning_rate: must be greater than 0 and at most 10, got 0"),
        ({"batch_size": 0}, "batch_size: must be between 1 and 64, got 0"),
        ({"epochs": 5000}, "epochs: must be between 1 and 1000, got 5000"),
        ({"bucketing": "maybe"}, "bucketing: must be true or false, got 'maybe'"),
        ({"resolution": 1020}, "resolution: must be a multiple of 8, got 1020 (try 1016 or 1024)"),
        ({"resolution": 128}, "resolution: must be between 256 and 4096, got 128"),
        ({"colour": "red"}, "colour: is not a setting LoRA Studio knows"),
    ],
)
def test_bad_values_give_readable_sentences(fields: dict[str, object], expected: str) -> None:
    assert sentences(**fields) == [expected]


def test_choice_errors_list_the_valid_values() -> None:
    (message,) = sentences(optimizer="sgd")
    assert message.startswith("optimizer: must be one of 'AdamW', 'AdamW8bit'")
    assert message.endswith("got 'sgd'")
    (family,) = sentences(base_model_family="sd3")
    assert "'sd15', 'sdxl' or 'flux_dev'" in family


def test_choices_are_case_insensitive_like_kohya() -> None:
    config = config_from_dict(
        {"optimizer": "adamw8BIT", "base_model_family": "SDXL", "mixed_precision": "BF16"}
    )
    assert config.optimizer is Optimizer.ADAMW8BIT
    assert config.base_model_family is ModelFamily.SDXL
    assert config.optimizer == "AdamW8bit"  # StrEnum: plain strings compare equal


def test_several_errors_are_reported_together() -> None:
    assert sentences(rank=0, epochs=0) == [
        "rank: must be between 4 and 128, got 0",
        "epochs: must be between 1 and 1000, got 0",
    ]


def test_effective_alpha_defaults_to_half_the_rank() -> None:
    assert TrainingConfig(rank=32).effective_alpha == 16
    assert TrainingConfig(rank=16, alpha=16).effective_alpha == 16
    assert TrainingConfig(rank=5).effective_alpha == 2.5


def test_effective_batch_size() -> None:
    assert TrainingConfig(batch_size=2, gradient_accumulation=4).effective_batch_size == 8


def test_assignment_is_validated_too() -> None:
    config = TrainingConfig()
    with pytest.raises(ValidationError) as info:
        config.rank = 500
    assert [str(i) for i in issues_from_validation_error(info.value)] == [
        "rank: must be between 4 and 128, got 500"
    ]


@pytest.mark.parametrize("name", ["a/b", "..", "x:y", "", "   ", ".hidden", "a" * 121])
def test_output_name_must_be_a_file_name(name: str) -> None:
    (message,) = sentences(output_name=name)
    assert message.startswith("output_name: ")


def test_text_fields_are_trimmed() -> None:
    config = TrainingConfig(trigger_word="  sks  ", base_model=" model.safetensors ")
    assert config.trigger_word == "sks"
    assert config.base_model == "model.safetensors"


def test_invalid_config_error_is_a_config_error_with_context() -> None:
    with pytest.raises(ConfigError) as info:
        config_from_dict({"rank": 1}, context="preset.json")
    assert info.value.user_message == "preset.json: rank: must be between 4 and 128, got 1"


def test_issue_helpers() -> None:
    issues = [Issue("rank", "error", "bad."), Issue("alpha", "warning", "odd.")]
    assert errors_only(issues) == issues[:1]
    assert warnings_only(issues) == issues[1:]
    assert str(issues[0]) == "rank: bad."
    assert issues[1].to_dict() == {"field": "alpha", "severity": "warning", "message": "odd."}
