"""Core/ComfyUI: the HTTP routes LoRA Studio uses, as typed coroutines (docs/protocols.md §1).

Thin on purpose: transport rules (timeouts, retries, error wording, redaction) live in
`core.backends.http`; turning replies into job events lives in `follow.py`. Routes are used
without the `/api` prefix — ComfyUI registers both and proxies pass both.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lora_studio.core.backends.comfyui.nodes import NodeSpec, parse_node
from lora_studio.core.backends.comfyui.prompt_errors import rejection_from_body
from lora_studio.core.backends.http import HttpClient, HttpStatusError
from lora_studio.core.errors import BackendError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueueSnapshot:
    running: tuple[str, ...]
    pending: tuple[str, ...]  # in run order (the server's list is an unsorted heap)

    def position(self, prompt_id: str) -> int | None:
        """0 when running, n when n prompts run or wait before it, None when absent."""
        if prompt_id in self.running:
            return 0
        if prompt_id in self.pending:
            return len(self.running) + self.pending.index(prompt_id)
        return None


def _queue_ids(items: Any) -> list[tuple[float, str]]:
    found = []
    for item in items or ():
        if isinstance(item, list | tuple) and len(item) >= 2:
            number = item[0] if isinstance(item[0], int | float) else 0
            found.append((float(number), str(item[1])))
    return sorted(found)


class ComfyClient:
    def __init__(self, http: HttpClient) -> None:
        self.http = http
        self.where = http.where

    async def system_stats(self) -> dict[str, Any]:
        data = await self.http.get_json("system_stats", action="reading its system information")
        if not isinstance(data, dict):
            raise BackendError(f"{self.where} sent system information LoRA Studio cannot read.")
        return data

    async def node_specs(self, names: Iterable[str]) -> dict[str, NodeSpec]:
        """`/object_info/{name}` for each name (unknown nodes are simply absent).

        Per-node requests instead of the full `/object_info`, which is megabytes on servers
        with many custom nodes.
        """

        async def one(name: str) -> tuple[str, Any]:
            data = await self.http.get_json(f"object_info/{name}", action="listing its nodes")
            return name, data.get(name) if isinstance(data, dict) else None

        results = await asyncio.gather(*(one(n) for n in names))
        return {name: parse_node(name, info) for name, info in results if isinstance(info, dict)}

    async def upload(self, subfolder: str, filename: str, data: bytes, content_type: str) -> str:
        """Upload one file into `input/<subfolder>`; returns the name the server stored."""
        response = await self.http.request(
            "POST",
            "upload/image",
            files={"image": (filename, data, content_type)},
            data={"type": "input", "subfolder": subfolder, "overwrite": "true"},
            action=f"the upload of {filename}",
        )
        body = self.http.parse_json(response, "an upload")
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str):
            raise BackendError(f"{self.where} did not confirm the upload of {filename}.")
        return name

    async def queue_prompt(self, graph: Mapping[str, Any], client_id: str, prompt_id: str) -> str:
        """Queue a graph under our own `prompt_id`; raise PromptRejectedError with per-node messages."""
        response = await self.http.request(
            "POST",
            "prompt",
            json={"prompt": graph, "client_id": client_id, "prompt_id": prompt_id},
            accept=(200, 400, 500),
            action="queueing the training",
        )
        if response.status_code == 500:
            raise BackendError(
                f"{self.where} crashed while reading the training graph (HTTP 500).",
                detail=self.http.redact(response.text[:300]),
            )
        body = self.http.parse_json(response, "queueing the training")
        if response.status_code == 400:
            raise rejection_from_body(body, self.where, 400)
        if not isinstance(body, dict):
            raise BackendError(f"{self.where} answered the training request with no prompt id.")
        if body.get("node_errors"):
            # Part of the graph was queued anyway: take it back before reporting.
            await self.withdraw(str(body.get("prompt_id") or prompt_id))
            raise rejection_from_body(body, self.where, 200)
        return str(body.get("prompt_id") or prompt_id)

    async def withdraw(self, prompt_id: str) -> None:
        """Best effort: remove a prompt from the queue and interrupt it if it runs."""
        try:
            await self.delete_pending([prompt_id])
            await self.interrupt(prompt_id)
        except BackendError as exc:
            log.warning("Could not withdraw prompt %s: %s", prompt_id, exc)

    async def queue(self) -> QueueSnapshot:
        data = await self.http.get_json("queue", action="reading its queue")
        if not isinstance(data, dict):
            raise BackendError(f"{self.where} sent a queue LoRA Studio cannot read.")
        return QueueSnapshot(
            running=tuple(pid for _, pid in _queue_ids(data.get("queue_running"))),
            pending=tuple(pid for _, pid in _queue_ids(data.get("queue_pending"))),
        )

    async def history(self, prompt_id: str) -> dict[str, Any] | None:
        """The history entry of a finished prompt, or None while queued/running/unknown."""
        data = await self.http.get_json(f"history/{prompt_id}", action="reading its history")
        entry = data.get(prompt_id) if isinstance(data, dict) else None
        return entry if isinstance(entry, dict) else None

    async def delete_pending(self, prompt_ids: list[str]) -> None:
        await self.http.request(
            "POST", "queue", json={"delete": prompt_ids}, action="removing the job from its queue"
        )

    async def interrupt(self, prompt_id: str) -> None:
        await self.http.request(
            "POST", "interrupt", json={"prompt_id": prompt_id}, action="interrupting the job"
        )

    async def subscribe_logs(self, client_id: str) -> bool:
        """Ask for console output over the websocket; False when the server has no such route."""
        response = await self.http.request(
            "PATCH",
            "internal/logs/subscribe",
            json={"clientId": client_id, "enabled": True},
            accept=(200, 404, 405),
            idempotent=True,
            action="subscribing to its console log",
        )
        return response.status_code == 200

    async def recent_logs(self) -> list[str]:
        response = await self.http.request(
            "GET", "internal/logs/raw", accept=(200, 404), action="reading its console log"
        )
        if response.status_code != 200:
            return []
        data = self.http.parse_json(response, "reading its console log")
        entries = data.get("entries") if isinstance(data, dict) else None
        return [str(e.get("m", "")) for e in entries or () if isinstance(e, dict)]

    def view_params(self, filename: str, subfolder: str, type_: str = "output") -> dict[str, str]:
        return {"filename": filename, "subfolder": subfolder, "type": type_}

    def view_url(self, filename: str, subfolder: str, type_: str = "output") -> str:
        return self.http.public_url("view", self.view_params(filename, subfolder, type_))

    async def output_exists(self, filename: str, subfolder: str, type_: str = "output") -> bool:
        response = await self.http.request(
            "HEAD",
            "view",
            params=self.view_params(filename, subfolder, type_),
            accept=(200, 206, 404, 405),
            action=f"looking for {filename}",
        )
        if response.status_code == 405:  # a proxy without HEAD: ask for one byte instead
            response = await self.http.request(
                "GET",
                "view",
                params=self.view_params(filename, subfolder, type_),
                headers={"Range": "bytes=0-0"},
                accept=(200, 206, 404),
                action=f"looking for {filename}",
            )
        return response.status_code in (200, 206)

    async def download_output(
        self, filename: str, subfolder: str, dest: Path, type_: str = "output"
    ) -> Path:
        try:
            return await self.http.download(
                "view", dest, params=self.view_params(filename, subfolder, type_)
            )
        except HttpStatusError as exc:
            if exc.status == 404:
                raise BackendError(
                    f"{self.where} no longer has {filename} in output/{subfolder}; it may have "
                    "been deleted or moved on the server."
                ) from exc
            raise
