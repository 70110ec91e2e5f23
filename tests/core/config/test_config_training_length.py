"""Training length: kohya's step arithmetic, bucket-aware, max_steps, and steps → epochs."""

from __future__ import annotations

import pytest

from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.config.training_length import (
    DatasetShape,
    batches_per_epoch,
    epochs_for_steps,
    training_length,
)


def config(**fields: object) -> TrainingConfig:
    return TrainingConfig(**fields)  # type: ignore[arg-type]


def test_images_times_repeats_times_epochs_over_batch_and_accumulation() -> None:
    length = training_length(
        config(repeats=10, epochs=8, batch_size=2, gradient_accumulation=2), 40
    )
    assert length.samples_per_epoch == 400
    assert length.batches_per_epoch == 200
    assert length.steps_per_epoch == 100
    assert length.total_steps == 800
    assert length.epochs == 8
    assert length.effective_batch_size == 4
    assert not length.limited_by_max_steps


def test_banner_numbers_from_a_real_kohya_run() -> None:
    # docs/protocols.md §4.5 banner: 200 images×repeats, 100 batches per epoch, 16 epochs, batch 2,
    # accumulation 1 → 1600 total optimization steps.
    length = training_length(config(repeats=10, epochs=16, batch_size=2), 20)
    assert (length.samples_per_epoch, length.batches_per_epoch, length.total_steps) == (
        200,
        100,
        1600,
    )


def test_partial_batches_and_accumulation_round_up() -> None:
    length = training_length(config(repeats=1, epochs=3, batch_size=4, gradient_accumulation=3), 9)
    assert length.batches_per_epoch == 3  # ceil(9 / 4)
    assert length.steps_per_epoch == 1  # ceil(3 / 3)
    assert length.total_steps == 3


def test_each_bucket_is_batched_on_its_own() -> None:
    # 3 + 3 + 1 images, batch 2, 1 repeat: one bucket would be ceil(7/2) = 4 batches, but
    # kohya makes ceil(3/2) + ceil(3/2) + ceil(1/2) = 5.
    shape = DatasetShape.from_buckets({(1024, 1024): 3, (832, 1216): 3, (1216, 832): 1}, repeats=1)
    length = training_length(config(batch_size=2, epochs=1), shape)
    assert length.images == 7
    assert length.batches_per_epoch == 5
    assert training_length(config(batch_size=2, epochs=1, repeats=1), 7).batches_per_epoch == 4


def test_repeats_apply_inside_each_bucket() -> None:
    shape = DatasetShape.from_buckets([3, 1], repeats=3)  # 9 and 3 samples
    assert shape.bucket_samples == (9, 3)
    assert batches_per_epoch(shape.bucket_samples, 4) == 3 + 1


def test_without_bucketing_everything_is_one_bucket() -> None:
    shape = DatasetShape.from_buckets([3, 3, 1], repeats=1)
    assert (
        training_length(config(batch_size=2, epochs=1, bucketing=False), shape).batches_per_epoch
        == 4
    )


def test_concept_folder_groups_add_their_own_repeats() -> None:
    shape = DatasetShape.from_groups([(30, 10), (10, 5), (0, 3)])
    assert shape.images == 40
    assert shape.samples_per_epoch == 350
    assert training_length(config(epochs=2, batch_size=1), shape).total_steps == 700


def test_max_steps_overrides_epochs() -> None:
    length = training_length(config(repeats=1, epochs=50, max_steps=1000), 20)
    assert length.total_steps == 1000
    assert length.epochs == 50  # ceil(1000 / 20)
    assert length.limited_by_max_steps
    assert training_length(config(repeats=1, max_steps=1001), 20).epochs == 51


def test_steps_to_epochs_and_back() -> None:
    cfg = config(repeats=5, batch_size=2)
    assert epochs_for_steps(cfg, 40, 2000) == 20  # 100 steps per epoch
    assert epochs_for_steps(cfg, 40, 2001) == 21
    back = training_length(cfg.model_copy(update={"epochs": 20}), 40)
    assert back.total_steps == 2000
    # max_steps does not influence the per-epoch count used for the reverse
    assert epochs_for_steps(cfg.model_copy(update={"max_steps": 7}), 40, 2000) == 20


def test_empty_dataset_gives_zero_steps() -> None:
    length = training_length(config(), 0)
    assert (length.total_steps, length.steps_per_epoch, length.epochs) == (0, 0, 0)
    assert epochs_for_steps(config(), 0, 100) == 0


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        DatasetShape.uniform(-1, 1)
    with pytest.raises(ValueError):
        DatasetShape.from_groups([(3, 0)])
    with pytest.raises(ValueError):
        batches_per_epoch([3], 0)
    with pytest.raises(ValueError):
        epochs_for_steps(config(), 10, 0)
