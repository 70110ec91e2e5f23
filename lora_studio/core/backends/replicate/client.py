"""Core/Replicate: the HTTP routes LoRA Studio uses, as typed coroutines (docs/protocols.md §3).

Thin on purpose: timeouts, retries (429 honoured for every method, 5xx only for GETs), Retry-After
and redaction come from `core.backends.http`; Replicate's error wording from `problems.py`. Routes
are relative to the base URL, which includes `/v1`. Pagination follows `next` verbatim, but only
to the API's own origin: the token must never travel to another host.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lora_studio.core.backends.http import HttpStatusError
from lora_studio.core.backends.replicate.problems import ReplicateHttp
from lora_studio.core.errors import BackendError, ConfigError

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.replicate.com/v1"
_MODEL_REF = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]{0,99})/([A-Za-z0-9][A-Za-z0-9_.-]{0,99})$")
UPLOAD_TIMEOUT_S = 600.0  # a 100 MB zip over a slow uplink


@dataclass(frozen=True)
class ModelRef:
    owner: str
    name: str

    def __str__(self) -> str:
        return f"{self.owner}/{self.name}"


def parse_model_ref(text: str, what: str = "model") -> ModelRef:
    """`owner/name` → ModelRef; ConfigError with an example when it is not one."""
    value = (text or "").strip()
    match = _MODEL_REF.match(value.split(":", 1)[0])
    if not match:
        raise ConfigError(
            f"“{value}” is not a Replicate {what}; write it as OWNER/NAME, e.g. alice/my-flux-lora."
        )
    return ModelRef(match.group(1), match.group(2))


@dataclass(frozen=True)
class UploadedFile:
    id: str
    url: str  # `urls.get`, what the trainer's `input_images` receives
    size: int
    sha256: str | None


def _object(data: Any, where: str, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BackendError(f"{where} sent {what} LoRA Studio cannot read (not a JSON object).")
    return data


class ReplicateClient:
    def __init__(self, http: ReplicateHttp) -> None:
        self.http = http
        self.where = http.where
        base = urlsplit(http.base_url)
        self._origin = (base.scheme, base.hostname, base.port)

    # -- account and models ----------------------------------------------------------------
    async def account(self) -> dict[str, Any]:
        data = await self.http.get_json("account", action="checking the API token")
        return _object(data, self.where, "account details")

    async def get_model(self, ref: ModelRef) -> dict[str, Any] | None:
        """The model object, or None when Replicate says 404."""
        try:
            data = await self.http.get_json(f"models/{ref}", action=f"looking up the model {ref}")
        except HttpStatusError as exc:
            if exc.status == 404:
                return None
            raise
        return _object(data, self.where, f"details of {ref}")

    async def latest_version(self, ref: ModelRef) -> str:
        """The id of the newest version of a (trainer) model; BackendError when it has none."""
        model = await self.get_model(ref)
        if model is None:
            raise BackendError(
                f"The trainer model {ref} does not exist on Replicate (or this token may not use "
                "it). Check the trainer name in the Replicate settings."
            )
        version = model.get("latest_version")
        version_id = version.get("id") if isinstance(version, dict) else None
        if not isinstance(version_id, str) or not version_id:
            raise BackendError(
                f"The model {ref} on Replicate has no published version to train with."
            )
        return version_id

    async def create_model(
        self,
        ref: ModelRef,
        *,
        visibility: str = "private",
        hardware: str = "gpu-t4",
        description: str = "",
    ) -> dict[str, Any]:
        body = {
            "owner": ref.owner,
            "name": ref.name,
            "visibility": visibility,
            "hardware": hardware,
            "description": description,
        }
        response = await self.http.request(
            "POST",
            "models",
            json=body,
            accept=(200, 201),
            action=f"creating the model {ref}",
        )
        return _object(
            self.http.parse_json(response, "creating a model"), self.where, "the new model"
        )

    # -- files -----------------------------------------------------------------------------
    async def upload_file(
        self,
        path: Path,
        *,
        filename: str,
        content_type: str = "application/zip",
        metadata: Mapping[str, str] | None = None,
    ) -> UploadedFile:
        """POST /files (multipart). Repeating an upload only creates another file, so a cut
        connection or a 5xx is retried like a GET."""
        handle = await asyncio.to_thread(Path(path).open, "rb")  # disk: off the event loop
        with handle:
            response = await self.http.request(
                "POST",
                "files",
                files={"content": (filename, handle, content_type)},
                data={"metadata": json.dumps(dict(metadata or {}))},
                accept=(200, 201),
                idempotent=True,
                timeout=UPLOAD_TIMEOUT_S,
                action=f"uploading {filename}",
            )
        data = _object(self.http.parse_json(response, "uploading"), self.where, "the upload")
        urls = data.get("urls")
        urls = urls if isinstance(urls, dict) else {}
        url, file_id = urls.get("get"), data.get("id")
        if not isinstance(url, str) or not isinstance(file_id, str):
            raise BackendError(f"{self.where} accepted the upload but sent no address for it.")
        checksums = data.get("checksums")
        checksums = checksums if isinstance(checksums, dict) else {}
        size = data.get("size")
        return UploadedFile(
            file_id, url, int(size) if isinstance(size, int) else 0, checksums.get("sha256")
        )

    async def delete_file(self, file_id: str) -> None:
        await self.http.request(
            "DELETE", f"files/{file_id}", accept=(200, 204, 404), action="deleting a file"
        )

    # -- trainings -------------------------------------------------------------------------
    async def create_training(
        self, trainer: ModelRef, version: str, destination: ModelRef, inputs: Mapping[str, Any]
    ) -> dict[str, Any]:
        """POST …/trainings. Never repeated here after the request went out (it may have been
        created); the caller reconciles with `list_trainings`. A 429 is repeated by the HTTP
        client because Replicate did not process the request."""
        response = await self.http.request(
            "POST",
            f"models/{trainer}/versions/{version}/trainings",
            json={"destination": str(destination), "input": dict(inputs)},
            accept=(200, 201),
            action=f"starting the training on {trainer}",
        )
        return _object(self.http.parse_json(response, "starting"), self.where, "the training")

    async def get_training(self, training_id: str) -> dict[str, Any] | None:
        try:
            data = await self.http.get_json(
                f"trainings/{training_id}", action=f"reading the training {training_id}"
            )
        except HttpStatusError as exc:
            if exc.status == 404:
                return None
            raise
        return _object(data, self.where, f"the training {training_id}")

    async def cancel_training(self, training_id: str) -> dict[str, Any]:
        response = await self.http.request(
            "POST",
            f"trainings/{training_id}/cancel",
            accept=(200,),
            idempotent=True,  # cancelling twice is harmless
            action=f"cancelling the training {training_id}",
        )
        return _object(self.http.parse_json(response, "cancelling"), self.where, "the training")

    async def list_trainings(self, max_pages: int = 5) -> AsyncIterator[dict[str, Any]]:
        """Trainings of the account, newest first, following `next` for up to `max_pages`."""
        path: str | None = "trainings"
        for _ in range(max_pages):
            if path is None:
                return
            data = _object(
                await self.http.get_json(path, action="listing trainings"),
                self.where,
                "the list of trainings",
            )
            for item in data.get("results") or ():
                if isinstance(item, dict):
                    yield item
            following = data.get("next")
            path = self._same_origin(following) if isinstance(following, str) else None

    def _same_origin(self, url: str) -> str | None:
        parts = urlsplit(url)
        if (parts.scheme, parts.hostname, parts.port) != self._origin:
            log.warning("Not following a trainings page on another host: %s", parts.hostname)
            return None
        return url
