"""Core/Replicate: "can I train there right now?" — token, trainer, destination, one sentence each.

`GET /account` proves the token (a 401 becomes the sentence to show), the trainer's model must
have a published version, and the destination model must exist — or the artist must have allowed
LoRA Studio to create it. The GPU line and memory come from the hardware SKU the job is priced on.
"""

from __future__ import annotations

from dataclasses import dataclass

from lora_studio.core.backends.base import BackendCheck
from lora_studio.core.backends.replicate.client import ModelRef, ReplicateClient
from lora_studio.core.errors import BackendError

# What each hardware SKU runs on (Replicate's hardware list), for the GPU line and VRAM verdict.
SKU_GPUS: dict[str, tuple[str, float]] = {
    "gpu-h100": ("NVIDIA H100", 80.0),
    "gpu-a100-large": ("NVIDIA A100", 80.0),
    "gpu-l40s": ("NVIDIA L40S", 48.0),
    "gpu-a40-large": ("NVIDIA A40", 48.0),
    "gpu-a40-small": ("NVIDIA A40", 48.0),
    "gpu-t4": ("NVIDIA T4", 16.0),
}


@dataclass(frozen=True)
class DiagnoseInput:
    url: str
    trainer: ModelRef
    trainer_version: str
    destination: ModelRef | None
    create_destination: bool
    visibility: str
    sku: str


def missing_destination(ref: ModelRef | None) -> str:
    return (
        f"The destination model {ref} does not exist on Replicate. Create it at "
        "https://replicate.com/create, or let LoRA Studio create it (private): "
        "--create-destination on the command line, or “Create it (private) if it does not "
        "exist” in Settings → Replicate."
    )


async def diagnose(client: ReplicateClient, what: DiagnoseInput) -> BackendCheck:
    problems: list[str] = []
    warnings: list[str] = []
    facts: dict[str, str] = {"url": what.url, "trainer": str(what.trainer)}
    try:
        account = await client.account()
    except BackendError as exc:
        return BackendCheck(False, exc.user_message)
    username = str(account.get("username") or "")
    facts["account"] = username
    version = ""
    try:
        version = what.trainer_version or await client.latest_version(what.trainer)
        facts["trainer_version"] = version
    except BackendError as exc:
        problems.append(exc.user_message)
    if what.destination is None:
        warnings.append("No destination model is set yet; give one as OWNER/NAME before training.")
    else:
        facts["destination"] = str(what.destination)
        try:
            exists = await client.get_model(what.destination) is not None
        except BackendError as exc:
            problems.append(exc.user_message)
        else:
            if not exists and what.create_destination:
                warnings.append(
                    f"The destination model {what.destination} does not exist yet; it will be "
                    f"created ({what.visibility}) when the training starts."
                )
            elif not exists:
                problems.append(missing_destination(what.destination))
    if problems:
        return BackendCheck(False, " ".join(problems), tuple(warnings), facts=facts)
    diagnosis = (
        f"Replicate account {username or '(unnamed)'} · {what.trainer}"
        + (f" ({version[:12]})" if version else "")
        + (f" → {what.destination}" if what.destination else "")
    )
    gpu, vram = SKU_GPUS.get(what.sku, (what.sku, 0.0))
    return BackendCheck(
        True,
        diagnosis,
        tuple(warnings),
        gpu_name=f"{gpu} (Replicate {what.sku})",
        vram_gb=vram or None,
        facts=facts,
    )
