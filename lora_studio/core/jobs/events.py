"""Core: typed events that training backends yield while a job runs.

Backends produce them from an async generator; the job store records them and view-models turn
them into signals. All are immutable plain data, safe to send across threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lora_studio.core.jobs.status import JobStatus


@dataclass(frozen=True)
class Progress:
    """`step` of `total` done (total None when unknown); `rate` in steps per second and `eta` in
    seconds left, both as the backend measured them on its own clock (None when it did not say).
    """

    step: int
    total: int | None = None
    rate: float | None = None
    eta: float | None = None


@dataclass(frozen=True)
class Loss:
    step: int
    value: float


# A log line the artist must see even without --verbose: the server stopped answering, a download
# stalls. Recorded like any log line; the CLI prints it at once, the GUI shows it as the status.
NOTICE_STREAM = "notice"


@dataclass(frozen=True)
class Log:
    text: str
    stream: str = "log"  # "stdout", "stderr", "server", "log", NOTICE_STREAM


@dataclass(frozen=True)
class Checkpoint:
    """An intermediate or final weights file: a local path or a URL the backend can download."""

    location: str
    step: int | None = None
    epoch: int | None = None


@dataclass(frozen=True)
class Sample:
    """A test image rendered with the checkpoint of `step` (0 and `with_lora` False: the same
    prompt without the LoRA, the reference) from `prompt`; `path` is the local PNG."""

    step: int
    prompt: str
    path: str
    with_lora: bool = True


@dataclass(frozen=True)
class StatusChanged:
    status: JobStatus
    message: str = ""


@dataclass(frozen=True)
class Finished:
    outputs: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Failed:
    """`message` is what the artist reads; `detail` (e.g. a stderr tail) goes to the log view."""

    message: str
    detail: str = ""


JobEvent = Progress | Loss | Log | Checkpoint | Sample | StatusChanged | Finished | Failed
