"""Core/weights: safetensors headers, LoRA inspection and training metadata (pure Python, no Qt).

- `read_header` validates a file from its first 8+N bytes (truncated downloads included).
- `inspect_lora` reports family, rank, alpha, scale, base model, sizes and metadata.
- `write_metadata` / `add_metadata_if_missing` rewrite only the header; tensor bytes stay identical.
- `build_training_metadata` makes the kohya `ss_*` + `modelspec.*` + `lorastudio.*` keys.
"""

from lora_studio.core.weights.families import BaseModel, KeyFamily
from lora_studio.core.weights.header import (
    SafetensorsHeader,
    TensorInfo,
    read_header,
    read_tensor_bytes,
)
from lora_studio.core.weights.lora_info import LoraInfo, Spread, inspect_lora
from lora_studio.core.weights.summary import summarize_metadata_value
from lora_studio.core.weights.training_metadata import (
    TrainingMetadataInput,
    build_training_metadata,
)
from lora_studio.core.weights.writer import (
    TensorData,
    add_metadata_if_missing,
    read_metadata,
    write_metadata,
    write_safetensors,
)

__all__ = [
    "BaseModel",
    "KeyFamily",
    "LoraInfo",
    "SafetensorsHeader",
    "Spread",
    "TensorData",
    "TensorInfo",
    "TrainingMetadataInput",
    "add_metadata_if_missing",
    "build_training_metadata",
    "inspect_lora",
    "read_header",
    "read_metadata",
    "read_tensor_bytes",
    "summarize_metadata_value",
    "write_metadata",
    "write_safetensors",
]
