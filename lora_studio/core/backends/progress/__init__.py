"""Core/progress: progress and loss from every engine's console output — one package, a parser
per engine on top of the shared tqdm reading.

- `tqdm`: segments (`\\r`/`\\n`), one bar, tqdm's clock and rate — shared by all parsers.
- `comfyui`: the native trainer's `Training LoRA:` bar → steps and losses (docs/protocols.md §2.4).
- `replicate`: the Flux trainer's `flux_train_replicate:` bar in a growing log (§3.7).
- `kohya`: sd-scripts' banner, epochs, `steps:` bar, checkpoint saves and errors (§4.5).
"""

from __future__ import annotations

from lora_studio.core.backends.progress.kohya import KohyaOutput
from lora_studio.core.backends.progress.tqdm import Bar, SegmentSplitter, parse_bar

__all__ = ["Bar", "KohyaOutput", "SegmentSplitter", "parse_bar"]
