"""Core/ComfyUI: what a job keeps in `job.backend_state` so any process can re-attach to it.

Plain JSON-able data only — client id, prompt ids, the chunk plan and computed file names; never
a token. The backend writes it before each prompt is queued (so a crash right after queueing
still leaves the prompt id on record) and updates it as chunks finish.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from lora_studio.core.backends.comfyui.graph import lora_file_name
from lora_studio.core.errors import JobError

STATE_VERSION = 1


@dataclass
class ChunkRecord:
    index: int  # 1-based
    prompt_id: str
    steps: int  # steps trained by this prompt
    end_step: int  # total steps done once it finishes
    file: str  # the file SaveLoRA will write (in output/loras)
    train_node: str = ""  # node ids in this prompt's graph, to read its events
    save_node: str = ""
    preview_node: str | None = None
    loss_graph_node: str | None = None
    done: bool = False


@dataclass
class ComfyJobState:
    client_id: str
    # The job id reduced to [A-Za-z0-9] for folder and file names. (Not called "token": the job
    # store drops keys that sound like credentials.)
    job_key: str
    folder: str  # dataset subfolder in ComfyUI's input dir
    node_set: str
    plan: list[int]  # steps per prompt
    grad_accumulation: int
    steps_per_epoch: int
    seed: int
    names_with_steps: bool = True
    chunks: list[ChunkRecord] = field(default_factory=list)
    cancel_requested: bool = False
    finished: bool = False
    version: int = STATE_VERSION
    # Where the job runs, so it can be re-attached after a restart even when the app's settings
    # point elsewhere by then. Never carries credentials (those come from the keychain).
    server: str = ""
    # What ComfyUI really trains with (alpha, precision, optimizer, seed, cropping), for the
    # metadata stamped into the LoRA: `EffectiveSettings` fields by name.
    effective: dict[str, Any] = field(default_factory=dict)
    # "uploading" while the dataset goes up (no prompt queued yet), "" once a prompt is recorded.
    phase: str = ""

    @property
    def total_steps(self) -> int:
        return sum(self.plan)

    @property
    def chunked(self) -> bool:
        return len(self.plan) > 1

    @property
    def current(self) -> ChunkRecord:
        if not self.chunks:
            raise JobError("This ComfyUI job was never queued; there is nothing to follow.")
        return self.chunks[-1]

    @property
    def last_done(self) -> ChunkRecord | None:
        done = [c for c in self.chunks if c.done]
        return done[-1] if done else None

    def prefix(self, index: int) -> str:
        base = f"loras/lorastudio_{self.job_key}"
        return f"{base}_c{index}" if self.chunked else base

    def next_chunk(self, prompt_id: str) -> ChunkRecord:
        """Record the next prompt of the plan (before it is queued)."""
        index = len(self.chunks) + 1
        steps = self.plan[index - 1]
        end = sum(self.plan[:index])
        name = lora_file_name(self.prefix(index), end if self.names_with_steps else None)
        record = ChunkRecord(index, prompt_id, steps, end, name)
        self.chunks.append(record)
        return record

    def epoch_at(self, step: int) -> int | None:
        if self.steps_per_epoch and step % self.steps_per_epoch == 0:
            return step // self.steps_per_epoch
        return None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ComfyJobState:
        try:
            values = dict(data)
            values["chunks"] = [ChunkRecord(**c) for c in values.get("chunks", [])]
            return cls(**values)
        except (TypeError, KeyError) as exc:
            raise JobError(
                "This job's ComfyUI record is unreadable (it may come from another LoRA Studio "
                "version); it cannot be re-attached."
            ) from exc
