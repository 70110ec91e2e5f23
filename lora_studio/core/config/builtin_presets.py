"""Core: the built-in presets, defined in code so they can never go missing or be edited on disk.

Each is a complete `TrainingConfig` chosen to validate without warnings. Values follow the
trainers' own guidance: kohya sd-scripts for SD 1.5/SDXL (AdamW8bit, U-Net only for SDXL,
gradient checkpointing), and the Replicate Flux trainer's defaults for Flux dev (docs/protocols.md §3.6:
rank 16 with alpha = rank, learning rate 4e-4, 1000 steps, adamw8bit, 1024 px buckets).
"""

from __future__ import annotations

from dataclasses import dataclass

from lora_studio.core.config.training_config import (
    LrScheduler,
    MixedPrecision,
    ModelFamily,
    Optimizer,
    TrainingConfig,
)


@dataclass(frozen=True)
class BuiltinPreset:
    name: str
    title: str
    description: str
    config: TrainingConfig


BUILTIN_PRESETS: tuple[BuiltinPreset, ...] = (
    BuiltinPreset(
        name="sdxl",
        title="SDXL",
        description="Balanced SDXL LoRA at 1024 px, rank 32; needs a GPU with 12 GB or more.",
        config=TrainingConfig(
            base_model_family=ModelFamily.SDXL,
            rank=32,
            learning_rate=1e-4,
            batch_size=1,
            epochs=10,
            repeats=5,
            resolution=1024,
            min_bucket_reso=512,
            max_bucket_reso=2048,
            mixed_precision=MixedPrecision.BF16,
            lr_scheduler=LrScheduler.COSINE,
            optimizer=Optimizer.ADAMW8BIT,
            save_every_n_epochs=2,
            gradient_checkpointing=True,
            train_text_encoder=False,
        ),
    ),
    BuiltinPreset(
        name="sd15",
        title="SD 1.5",
        description="Classic SD 1.5 LoRA at 512 px, rank 16, training the text encoder too.",
        config=TrainingConfig(
            base_model_family=ModelFamily.SD15,
            rank=16,
            learning_rate=1e-4,
            text_encoder_lr=5e-5,
            batch_size=1,
            epochs=10,
            repeats=10,
            resolution=512,
            min_bucket_reso=256,
            max_bucket_reso=1024,
            mixed_precision=MixedPrecision.FP16,
            lr_scheduler=LrScheduler.COSINE,
            optimizer=Optimizer.ADAMW8BIT,
            save_every_n_epochs=2,
            gradient_checkpointing=False,
            train_text_encoder=True,
        ),
    ),
    BuiltinPreset(
        name="fast",
        title="Fast",
        description="Quick SD 1.5 test run: 512 px, rank 8, 5 epochs. Checks a dataset in minutes.",
        config=TrainingConfig(
            base_model_family=ModelFamily.SD15,
            rank=8,
            learning_rate=2e-4,
            batch_size=2,
            epochs=5,
            repeats=5,
            resolution=512,
            min_bucket_reso=256,
            max_bucket_reso=1024,
            mixed_precision=MixedPrecision.FP16,
            lr_scheduler=LrScheduler.CONSTANT,
            optimizer=Optimizer.ADAMW8BIT,
            gradient_checkpointing=True,
            train_text_encoder=False,
        ),
    ),
    BuiltinPreset(
        name="high_quality",
        title="High quality",
        description="Slow, detailed SDXL LoRA: 768 px, rank 64, 20 epochs, full-precision AdamW.",
        config=TrainingConfig(
            base_model_family=ModelFamily.SDXL,
            rank=64,
            learning_rate=5e-5,
            batch_size=1,
            epochs=20,
            repeats=3,
            resolution=768,
            min_bucket_reso=384,
            max_bucket_reso=1536,
            mixed_precision=MixedPrecision.BF16,
            lr_scheduler=LrScheduler.COSINE,
            lr_warmup_steps=100,
            optimizer=Optimizer.ADAMW,
            save_every_n_epochs=4,
            gradient_checkpointing=True,
            train_text_encoder=False,
        ),
    ),
    BuiltinPreset(
        name="flux_dev",
        title="Flux dev",
        description="Flux dev LoRA for Replicate's trainer: 1024 px, rank 16, 1000 steps.",
        config=TrainingConfig(
            base_model_family=ModelFamily.FLUX_DEV,
            base_model="black-forest-labs/FLUX.1-dev",
            rank=16,
            alpha=16,  # the Replicate trainer fixes alpha = rank
            learning_rate=4e-4,
            batch_size=1,
            epochs=1,
            max_steps=1000,
            repeats=1,
            resolution=1024,
            min_bucket_reso=512,
            max_bucket_reso=1024,
            mixed_precision=MixedPrecision.BF16,
            lr_scheduler=LrScheduler.CONSTANT,
            optimizer=Optimizer.ADAMW8BIT,
            gradient_checkpointing=True,
            train_text_encoder=False,
        ),
    ),
)
