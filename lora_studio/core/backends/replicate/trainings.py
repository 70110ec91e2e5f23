"""Core/Replicate: start a training exactly once, and find it again when the answer was lost.

`POST …/trainings` is not idempotent: when the connection breaks after the request went out, or
Replicate answers 5xx, the training may exist anyway (docs/protocols.md §3.1). So it is never sent a
second time blindly. Instead the account's trainings are listed and ours is recognised by its
marker — the uploaded dataset file's URL, unique to the job, in its `input` — and adopted. Only
when a few listings show no such training is the start reported as failed ("nothing runs").

The state goes to the job store *before* the request (`save`), so a crash between the request and
its reply leaves a `creating` record that `reconcile` resolves on re-attach.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from lora_studio.core.backends.http import HttpStatusError
from lora_studio.core.backends.replicate.client import ModelRef, ReplicateClient
from lora_studio.core.backends.replicate.problems import ServerTroubleError
from lora_studio.core.backends.replicate.state import ReplicateJobState
from lora_studio.core.errors import BackendError, BackendUnavailableError

log = logging.getLogger(__name__)

SaveFn = Callable[[], Awaitable[None]]
RECONCILE_DELAYS = (1.0, 3.0, 6.0)  # seconds between listings after a lost create reply


def is_ambiguous(exc: BaseException) -> bool:
    """True when a failed request may still have been carried out by Replicate."""
    if isinstance(exc, HttpStatusError):
        return exc.status >= 500
    cause = exc.__cause__
    if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout):
        return False  # never reached the server
    if isinstance(cause, httpx.TransportError):
        return True  # cut or timed out after sending
    return isinstance(exc, ServerTroubleError)


def is_ours(training: Mapping[str, Any], state: ReplicateJobState) -> bool:
    inputs = training.get("input")
    if not state.file_url or not isinstance(inputs, Mapping):
        return False
    if state.file_url not in (v for v in inputs.values() if isinstance(v, str)):
        return False
    destination = training.get("destination")
    return not destination or destination == state.destination  # may be absent in lists


async def find_training(
    client: ReplicateClient, state: ReplicateJobState, *, max_pages: int = 3
) -> dict[str, Any] | None:
    """Our training in the account's list (newest first), or None."""
    async for training in client.list_trainings(max_pages):
        if is_ours(training, state) and isinstance(training.get("id"), str):
            return training
    return None


async def reconcile(
    client: ReplicateClient,
    state: ReplicateJobState,
    delays: tuple[float, ...] = RECONCILE_DELAYS,
) -> dict[str, Any] | None:
    """List trainings a few times (a fresh one may take a moment to be listed)."""
    for attempt, delay in enumerate((0.0, *delays)):
        if delay:
            await asyncio.sleep(delay)
        try:
            found = await find_training(client, state)
        except BackendUnavailableError as exc:
            log.info("Listing trainings failed (attempt %d): %s", attempt + 1, exc.user_message)
            continue
        if found is not None:
            return found
    return None


async def create_training(
    client: ReplicateClient,
    state: ReplicateJobState,
    inputs: Mapping[str, Any],
    save: SaveFn,
    *,
    delays: tuple[float, ...] = RECONCILE_DELAYS,
) -> dict[str, Any]:
    """Create the training once (state saved first); adopt it if the reply was lost."""
    state.phase = "creating"
    state.create_sent_at = datetime.now(UTC).isoformat()
    await save()
    try:
        training = await client.create_training(
            ModelRef(*state.trainer.split("/", 1)),
            state.version,
            ModelRef(*state.destination.split("/", 1)),
            inputs,
        )
    except BackendError as exc:
        if not is_ambiguous(exc):
            state.phase = "uploading"  # definitely not created: nothing to find later
            await save()
            raise
        log.warning("No answer to the create request (%s); looking for the training", exc)
        found = await reconcile(client, state, delays)
        if found is None:
            state.phase = "uploading"
            state.error = "create not confirmed"
            await save()
            raise BackendError(
                f"Replicate did not answer the request that starts the training ({exc.user_message}) "
                "and no training with this job's dataset appeared in the account's list, so "
                "nothing was started and nothing is billed. Start the training again.",
                detail=exc.detail,
            ) from exc
        training = found
        log.info("Adopted training %s after a lost reply", found.get("id"))
    training_id = training.get("id")
    if not isinstance(training_id, str) or not training_id:
        raise BackendError(f"{client.where} started a training but sent no id for it.")
    state.training_id = training_id
    state.phase = "created"
    state.status = str(training.get("status") or "starting")
    await save()
    return training
