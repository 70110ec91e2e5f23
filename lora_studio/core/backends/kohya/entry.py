"""Core/kohya: the registry entry — where sd-scripts lives, which Python runs it, extra arguments.

`python` empty means the interpreter of sd-scripts' own `venv`/`.venv` when there is one, else
`python3` on PATH. `use_accelerate` starts the trainer as `accelerate launch …` (the launcher
next to that Python). `trainer_args` are raw arguments appended to every run (e.g.
`--tokenizer_cache_dir=/models/tokenizers` on an offline machine).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lora_studio.core.backends.base import TrainingBackend
from lora_studio.core.backends.registry import BackendKind, BackendSettings, SecretGetter


class KohyaSettings(BackendSettings):
    kind: Literal["kohya"] = "kohya"
    sd_scripts: str = ""  # the sd-scripts checkout (holds train_network.py)
    python: str = ""  # its Python; "" → its venv's, else python3
    use_accelerate: bool = False
    trainer_args: list[str] = Field(default_factory=list)
    work_dir: str = (
        ""  # where runs keep their files; "" → the app's data folder (set by the caller)
    )
    cancel_grace_seconds: float = Field(default=10.0, ge=0.0, le=600.0)

    def identity(self) -> str:
        return self.sd_scripts


def build(settings: KohyaSettings, secrets: SecretGetter) -> TrainingBackend:
    from lora_studio.core.backends.kohya.backend import KohyaBackend

    return KohyaBackend(settings)


ENTRY = BackendKind(
    kind="kohya",
    title="kohya sd-scripts (local)",
    description=(
        "Trains SD 1.5, SDXL and Flux LoRAs with kohya's sd-scripts on this computer (its folder "
        "and Python are set in Settings → Backends)."
    ),
    settings_model=KohyaSettings,
    factory=build,
    local=True,
)
