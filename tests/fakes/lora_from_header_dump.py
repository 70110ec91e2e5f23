"""Test fake: a LoRA file rebuilt from a real file's header dump (`*.safetensors.header.json`).

The dumps in `tests/fixtures/kohya-sd-scripts/` hold a real kohya file's metadata and every tensor
name/dtype/shape. The rebuilt file has that exact header and zero data except the real alpha
values — everything inspection and header validation read — at a cost of a few bytes on disk
(the data section is a sparse hole), instead of 9.5 MB of real weights in the repository.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from lora_studio.core.weights.header import TensorInfo
from lora_studio.core.weights.writer import encode_header


def load_header_dump(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def build_from_header_dump(dump: dict[str, Any], path: Path) -> Path:
    """Write `path` with the dump's layout (names/shapes + metadata), zero data, real alpha."""
    metadata = dump["__metadata__"]
    alpha = np.array(float(metadata["ss_network_alpha"]), dtype="<f4").tobytes()
    infos, position = [], 0
    for name in sorted(dump["tensors"]):  # one dtype: the reference library orders by name
        spec = dump["tensors"][name]
        assert spec["dtype"] == "F32"
        size = 4 * int(np.prod(spec["shape"]))
        infos.append(TensorInfo(name, "F32", tuple(spec["shape"]), position, position + size))
        position += size
    head = encode_header(infos, metadata)
    with open(path, "wb") as handle:
        handle.write(head)
        handle.truncate(len(head) + position)
        for info in infos:
            if info.name.endswith(".alpha"):
                handle.seek(len(head) + info.begin)
                handle.write(alpha)
    return path
