"""Core: the metadata LoRA Studio stamps into every LoRA it collects — kohya `ss_*` keys,
`modelspec.*` and our own `lorastudio.*` block — built from the job, its config and its dataset.

Keys the backend already wrote (kohya writes its own `ss_*`) are kept; ours only fill the gaps.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lora_studio import __version__
from lora_studio.core.backends.base import EffectiveSettings
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.config.training_length import training_length
from lora_studio.core.jobs import Job
from lora_studio.core.training.dataset_input import TrainingDataset
from lora_studio.core.weights import (
    TrainingMetadataInput,
    add_metadata_if_missing,
    build_training_metadata,
)


def metadata_input(
    job: Job,
    config: TrainingConfig,
    dataset: TrainingDataset | None,
    effective: EffectiveSettings | None = None,
) -> TrainingMetadataInput:
    """Our metadata for `job`; what the engine really ran (`effective`) wins over the config."""
    real = effective or EffectiveSettings()
    enable_bucket = config.bucketing if real.enable_bucket is None else real.enable_bucket
    return TrainingMetadataInput(
        output_name=config.output_name,
        family=config.base_model_family.value,
        base_model=config.base_model,
        rank=config.rank,
        alpha=config.effective_alpha if real.alpha is None else real.alpha,
        learning_rate=config.learning_rate,
        job_id=job.id,
        dataset_fingerprint=job.dataset_fingerprint,
        backend=job.backend,
        unet_lr=config.unet_lr,
        text_encoder_lr=config.text_encoder_lr,
        epochs=_epochs(config, dataset),
        max_steps=job.progress.total or (config.max_steps or 0),
        steps_done=job.progress.step or None,
        batch_size=config.batch_size,
        grad_accumulation=config.gradient_accumulation,
        scheduler=config.lr_scheduler.value,
        warmup_steps=config.lr_warmup_steps,
        optimizer=real.optimizer or config.optimizer.value,
        mixed_precision=real.mixed_precision or config.mixed_precision.value,
        seed=config.seed if real.seed is None else real.seed,
        resolution=real.resolution or config.resolution,
        enable_bucket=enable_bucket,
        min_bucket_reso=config.min_bucket_reso if enable_bucket else None,
        max_bucket_reso=config.max_bucket_reso if enable_bucket else None,
        shuffle_caption=config.shuffle_caption,
        keep_tokens=config.keep_tokens,
        trigger_word=config.trigger_word or None,
        dataset_dirs=dataset.dataset_dirs if dataset else {},
        tag_frequency=dataset.tag_frequency if dataset else {},
        started_at=job.started_at or job.created_at,
        finished_at=job.finished_at or datetime.now(UTC),
        title=job.name,
        comment=f"Trained with LoRA Studio {__version__}",
    )


def _epochs(config: TrainingConfig, dataset: TrainingDataset | None) -> int:
    """Epochs the run really made: with `max_steps` set that is ceil(steps / steps per epoch), as
    kohya records it — not the config's `epochs`, which max_steps overrides."""
    if dataset is None or config.max_steps is None:
        return config.epochs
    return training_length(config, dataset.shape).epochs or config.epochs


def stamp_metadata(
    path: Path,
    job: Job,
    config: TrainingConfig,
    dataset: TrainingDataset | None,
    effective: EffectiveSettings | None = None,
) -> dict[str, str]:
    """Add our metadata to a downloaded LoRA without touching keys it already has."""
    metadata = build_training_metadata(metadata_input(job, config, dataset, effective))
    if effective is not None:
        metadata.update(effective.extra)
    return add_metadata_if_missing(path, metadata)
