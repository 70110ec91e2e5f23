"""Core/ComfyUI: turn `POST /prompt` refusals into per-node messages an artist can act on.

Shapes (exact bodies in `fixtures/comfyui-0.3.64/prompt_error_bodies.txt`): a 400 with
`{"error": {type, message, details}, "node_errors": {id: {errors: [...], class_type}}}`; a 200
that still carries non-empty `node_errors` (some outputs were silently dropped — for a training
job that is an error too); a plain-text 500 for a body that is not JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lora_studio.core.errors import BackendError


@dataclass(frozen=True)
class NodeProblem:
    node_id: str
    class_type: str
    message: str


class PromptRejectedError(BackendError):
    """ComfyUI refused the training graph; `problems` has one entry per failing node input."""

    def __init__(self, user_message: str, problems: list[NodeProblem], detail: str | None = None):
        super().__init__(user_message, detail=detail)
        self.problems = problems


def _input_message(class_type: str, error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    extra = error.get("extra_info") or {}
    name = str(extra.get("input_name") or error.get("details") or "")
    received = extra.get("received_value")
    if kind == "value_not_in_list":
        if name == "ckpt_name":
            return (
                f"the checkpoint {received!r} is not on this ComfyUI server; choose one of "
                "the checkpoints it lists"
            )
        if name == "folder":
            return (
                f"the uploaded dataset folder {received!r} is not visible to ComfyUI; the "
                "upload may have failed or its input folder is not writable"
            )
        if name == "existing_lora":
            return (
                f"the previous chunk's file {received!r} is not in ComfyUI's LoRA folders; "
                "output/loras must be registered as a LoRA folder"
            )
        return f"{name} = {received!r} is not one of the values this ComfyUI accepts"
    if kind in ("value_smaller_than_min", "value_bigger_than_max"):
        return f"{name}: {error.get('message', kind)}"
    if kind == "required_input_missing":
        return (
            f"{class_type} needs the input “{name}”, which LoRA Studio did not send; this "
            "ComfyUI's training nodes differ from the ones LoRA Studio knows"
        )
    details = error.get("details") or ""
    message = error.get("message") or kind or "invalid input"
    return f"{message}{': ' + str(details) if details else ''}"


def node_problems(node_errors: Mapping[str, Any]) -> list[NodeProblem]:
    problems: list[NodeProblem] = []
    for node_id, entry in node_errors.items():
        if not isinstance(entry, Mapping):
            continue
        class_type = str(entry.get("class_type", "?"))
        for error in entry.get("errors") or [{}]:
            problems.append(
                NodeProblem(str(node_id), class_type, _input_message(class_type, error))
            )
    return problems


def rejection_from_body(body: Any, where: str, status: int) -> PromptRejectedError:
    """Build the error for a refusal with a JSON body (400, or 200 with node_errors)."""
    body = body if isinstance(body, Mapping) else {}
    error = body.get("error") if isinstance(body.get("error"), Mapping) else {}
    problems = node_problems(body.get("node_errors") or {})
    kind = str(error.get("type", ""))
    if kind == "invalid_prompt":
        summary = (
            f"{where} cannot run the training graph: {error.get('message', '')} It is "
            "probably too old for LoRA training or lacks a node."
        )
    elif kind in ("prompt_no_outputs", "no_prompt"):
        summary = f"{where} refused the training graph: {error.get('message', kind)}."
    elif problems:
        lines = "; ".join(f"node {p.node_id} ({p.class_type}): {p.message}" for p in problems)
        prefix = "accepted only part of" if status == 200 else "refused"
        summary = f"{where} {prefix} the training graph — {lines}."
    else:
        summary = f"{where} refused the training graph (HTTP {status})."
    detail = str(error.get("details") or "") or None
    return PromptRejectedError(summary.replace("  ", " "), problems, detail=detail)
