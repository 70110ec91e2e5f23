"""apply_overrides / parse_assignments: `--set key=value` text into a validated config."""

from __future__ import annotations

import pytest

from lora_studio.core.config.issues import InvalidConfigError
from lora_studio.core.config.overrides import apply_overrides, parse_assignments
from lora_studio.core.config.training_config import LrScheduler, Optimizer, TrainingConfig


def issue_texts(overrides: dict[str, str]) -> list[str]:
    with pytest.raises(InvalidConfigError) as info:
        apply_overrides(TrainingConfig(), overrides)
    return [str(issue) for issue in info.value.issues]


def test_strings_are_parsed_to_each_fields_type() -> None:
    config = apply_overrides(
        TrainingConfig(),
        {
            "rank": "16",
            "learning_rate": "1e-3",
            "bucketing": "no",
            "gradient_checkpointing": "on",
            "optimizer": "prodigy",
            "lr_scheduler": "COSINE",
            "trigger_word": "sks",
            "max_steps": "500",
        },
    )
    assert config.rank == 16
    assert config.learning_rate == pytest.approx(0.001)
    assert config.bucketing is False
    assert config.gradient_checkpointing is True
    assert config.optimizer is Optimizer.PRODIGY
    assert config.lr_scheduler is LrScheduler.COSINE
    assert config.trigger_word == "sks"
    assert config.max_steps == 500


@pytest.mark.parametrize("word", ["none", "None", "null", "", "default"])
def test_empty_words_clear_optional_fields(word: str) -> None:
    start = TrainingConfig(alpha=8, max_steps=100)
    config = apply_overrides(start, {"alpha": word, "max_steps": word})
    assert config.alpha is None
    assert config.max_steps is None


def test_an_empty_trigger_word_is_allowed() -> None:
    assert (
        apply_overrides(TrainingConfig(trigger_word="x"), {"trigger_word": ""}).trigger_word == ""
    )


def test_the_original_is_not_changed() -> None:
    start = TrainingConfig(rank=32)
    apply_overrides(start, {"rank": "8"})
    assert start.rank == 32


def test_unknown_key_lists_valid_keys_and_suggests_one() -> None:
    (message,) = issue_texts({"rnak": "16"})
    assert message.startswith("rnak: is not a training setting. Did you mean 'rank'?")
    assert "Valid settings: base_model_family, base_model, rank," in message
    assert "schema_version" not in message


def test_bad_values_and_unknown_keys_are_all_reported() -> None:
    assert issue_texts({"rank": "256", "epochs": "x", "colour": "red"}) == [
        "colour: is not a training setting. Valid settings: "
        + ", ".join(name for name in TrainingConfig.model_fields if name != "schema_version")
        + ".",
        "rank: must be between 4 and 128, got 256",
        "epochs: must be a whole number, got 'x'",
    ]


def test_schema_version_cannot_be_set() -> None:
    (message,) = issue_texts({"schema_version": "2"})
    assert message.startswith("schema_version: is not a training setting")


def test_bad_boolean_and_choice() -> None:
    assert issue_texts({"bucketing": "maybe"}) == ["bucketing: must be true or false, got 'maybe'"]
    (message,) = issue_texts({"mixed_precision": "fp8"})
    assert message.startswith("mixed_precision: must be one of 'no', 'fp16' or 'bf16'")


def test_parse_assignments() -> None:
    assert parse_assignments(["rank=16", " alpha = 8 ", "trigger_word=a=b"]) == {
        "rank": "16",
        "alpha": "8",
        "trigger_word": "a=b",
    }
    with pytest.raises(InvalidConfigError) as info:
        parse_assignments(["rank16", "=3"])
    assert [issue.field for issue in info.value.issues] == ["rank16", "=3"]
    assert "key=value" in info.value.issues[0].message
