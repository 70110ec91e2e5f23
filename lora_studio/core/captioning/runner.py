"""Core/captioning: the batch auto-caption runner — bounded, retrying, cancellable, resumable.

Pipeline: a couple of *preparers* decide per image whether it is skipped (overwrite policy,
resume) and encode the upload on worker threads (`provider.prepare`), feeding a small queue;
`concurrency` *workers* send requests. Encoding therefore overlaps the network wait, and at most
`concurrency` requests are in flight.

- Each finished caption is post-processed and written through `CaptionStore.write(group=…)` at
  once, so a crash or cancel keeps it; all captions of one run form ONE undo step.
- Retries: `RetryableCaptionError` (429, 5xx, loading, bad JSON, unreachable) is retried up to
  `options.retries` times, waiting the server's `Retry-After` or an exponential back-off with
  jitter. `StopRunError` (model missing, bad key, no credits) and an unreachable server that
  stays unreachable stop the run: the rest are reported as skipped with that sentence.
- Cancel (a `CancelToken`, polled every 50 ms) cancels the in-flight requests; captions being
  written finish writing and count as done; everything else is "skipped: cancelled".
- Resume: `.lorastudio/autocaption-resume.jsonl` lists the images finished by a run with the same
  settings; a rerun skips them (this matters in overwrite and append modes), so rerunning after a
  cancel, a stop or failures does only what is left. A run with nothing left over deletes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from lora_studio.core.captioning.estimate import AutoCaptionEstimate, estimate_auto_caption
from lora_studio.core.captioning.postprocess import postprocess
from lora_studio.core.captioning.prompts import DEFAULT_PROMPT
from lora_studio.core.captioning.providers.base import (
    CaptionProvider,
    ProviderUnreachableError,
    RetryableCaptionError,
    StopRunError,
)
from lora_studio.core.dataset.caption_store import CaptionStore
from lora_studio.core.dataset.concurrency import CancelToken, wait_cancelled
from lora_studio.core.errors import LoraStudioError

log = logging.getLogger(__name__)

RESUME_NAME = "autocaption-resume.jsonl"

__all__ = [
    "AutoCaptionEstimate",
    "AutoCaptionOptions",
    "CaptionOutcome",
    "OverwriteMode",
    "estimate_auto_caption",
    "run_auto_caption",
]


class OverwriteMode(StrEnum):
    MISSING = "missing"  # only pictures without a caption
    OVERWRITE = "overwrite"  # replace every caption
    APPEND = "append"  # add the model's text after the existing caption


@dataclass(frozen=True)
class CaptionOutcome:
    image: Path
    status: Literal["ok", "failed", "skipped"]
    caption: str | None = None
    reason: str | None = None
    attempts: int = 0


@dataclass
class AutoCaptionOptions:
    prompt: str = DEFAULT_PROMPT
    mode: OverwriteMode = OverwriteMode.MISSING
    concurrency: int = 4
    trigger: str | None = None
    max_tokens: int | None = None
    max_chars: int | None = None
    max_side: int = 1024
    retries: int = 3
    retry_base_delay: float = 1.0  # first back-off; doubles per retry, with jitter
    max_retry_delay: float = 60.0  # never wait longer than this, whatever Retry-After says
    cleanup: bool = True
    style_tags: str | None = None  # e.g. "watercolor, flat colors": right after the trigger
    resume: bool = True
    label: str = "Auto-caption"
    extra_key: dict[str, Any] = field(default_factory=dict)  # more settings that define "same run"


async def run_auto_caption(
    provider: CaptionProvider,
    store: CaptionStore,
    images: Sequence[Path],
    options: AutoCaptionOptions,
    *,
    cancel: CancelToken | None = None,
    on_outcome: Callable[[CaptionOutcome], None] | None = None,
) -> list[CaptionOutcome]:
    """Caption `images` (see the module docstring); one outcome per image, in input order."""
    run = _Run(provider, store, [Path(p) for p in dict.fromkeys(images)], options, on_outcome)
    return await run.execute(cancel)


class _ResumeLog:
    """Images finished by an unfinished run with the same settings (append-only, no fsync)."""

    def __init__(self, store: CaptionStore, key: str) -> None:
        self.store = store
        self.key = key
        self.path = store.sidecar.directory / RESUME_NAME
        self.done: set[str] = set()
        self._started = False

    def load(self) -> None:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return
        try:
            if not lines or json.loads(lines[0]).get("key") != self.key:
                return
        except (ValueError, AttributeError):
            return
        for line in lines[1:]:
            with contextlib.suppress(ValueError, AttributeError):
                self.done.add(str(json.loads(line)["done"]))

    def mark(self, image: Path) -> None:
        key = self.store.relative(image)
        try:
            self.store.sidecar.ensure()
            mode = "a" if self._started or self.done else "w"
            with open(self.path, mode, encoding="utf-8") as handle:
                if mode == "w":
                    handle.write(json.dumps({"key": self.key, "ts": time.time()}) + "\n")
                handle.write(json.dumps({"done": key}, ensure_ascii=False) + "\n")
            self._started = True
        except (OSError, LoraStudioError) as exc:  # resuming is a convenience; never fail a run
            log.info("Could not record auto-caption progress: %s", exc)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()


def _run_key(provider: CaptionProvider, options: AutoCaptionOptions) -> str:
    facts = {
        "kind": getattr(provider, "kind", "?"),
        "model": getattr(provider, "model", None),
        "url": getattr(provider, "url", None),
        "template": getattr(provider, "template", None),
        "prompt": options.prompt,
        "mode": str(options.mode),
        "trigger": options.trigger,
        "max_tokens": options.max_tokens,
        "max_chars": options.max_chars,
        "style_tags": options.style_tags,
        **options.extra_key,
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()


_Item = tuple[int, Path, str, Any]  # index, image, existing caption, prepared upload (or None)


class _Run:
    def __init__(
        self,
        provider: CaptionProvider,
        store: CaptionStore,
        images: list[Path],
        options: AutoCaptionOptions,
        on_outcome: Callable[[CaptionOutcome], None] | None,
    ) -> None:
        self.provider = provider
        self.store = store
        self.images = images
        self.options = options
        self.on_outcome = on_outcome
        self.outcomes: list[CaptionOutcome | None] = [None] * len(images)
        self.group = store.new_group()
        self.resume = _ResumeLog(store, _run_key(provider, options))
        self.stop_reason: str | None = None
        self.cancelled = False
        self.concurrency = max(1, int(options.concurrency))
        self.queue: asyncio.Queue[_Item | None] = asyncio.Queue(maxsize=self.concurrency)
        self.next_index = 0
        self.tasks: list[asyncio.Task[None]] = []
        if hasattr(provider, "max_side"):
            provider.max_side = options.max_side

    # -- orchestration ---------------------------------------------------------------------
    async def execute(self, cancel: CancelToken | None) -> list[CaptionOutcome]:
        if self.options.resume:
            await asyncio.to_thread(self.resume.load)
        preparers = [
            asyncio.create_task(self._prepare_loop())
            for _ in range(min(len(self.images) or 1, max(2, min(4, os.cpu_count() or 2))))
        ]
        workers = [asyncio.create_task(self._work_loop()) for _ in range(self.concurrency)]
        closer = asyncio.create_task(self._close_queue(preparers))
        self.tasks = [*preparers, *workers, closer]
        watcher = asyncio.create_task(self._watch(cancel))
        try:
            await asyncio.wait(self.tasks)
        except asyncio.CancelledError:  # the caller was cancelled: stop like a cancel
            self.cancelled = True
            self._halt()
            await asyncio.wait(self.tasks)
            raise
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        for task in self.tasks:  # a bug in here must not pass silently
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        reason = self.stop_reason or "Cancelled before this picture was captioned."
        for index, image in enumerate(self.images):
            if self.outcomes[index] is None:
                self._record(index, CaptionOutcome(image, "skipped", None, reason))
        failed = any(o is not None and o.status == "failed" for o in self.outcomes)
        if not self.cancelled and self.stop_reason is None and not failed:
            await asyncio.to_thread(self.resume.finish)
        return [o for o in self.outcomes if o is not None]

    async def _watch(self, cancel: CancelToken | None) -> None:
        if cancel is None:
            return
        await wait_cancelled(cancel)
        self.cancelled = True
        self._halt()

    def _halt(self) -> None:
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()

    async def _close_queue(self, preparers: list[asyncio.Task[None]]) -> None:
        await asyncio.gather(*preparers)
        for _ in range(self.concurrency):
            await self.queue.put(None)

    def _record(self, index: int, outcome: CaptionOutcome) -> None:
        self.outcomes[index] = outcome
        if self.on_outcome is not None:
            try:
                self.on_outcome(outcome)
            except Exception:  # a listener's bug must not lose the run
                log.exception("on_outcome callback failed")

    # -- stage 1: skip or prepare ----------------------------------------------------------
    async def _prepare_loop(self) -> None:
        while self.next_index < len(self.images):
            index = self.next_index
            self.next_index += 1
            image = self.images[index]
            try:
                key = self.store.relative(image)
                existing = await asyncio.to_thread(self.store.read, image)
            except LoraStudioError as exc:
                self._record(index, CaptionOutcome(image, "failed", None, exc.user_message))
                continue
            if key in self.resume.done:
                self._record(
                    index,
                    CaptionOutcome(
                        image, "skipped", existing, "Captioned by the interrupted run (resumed)."
                    ),
                )
                continue
            if self.options.mode == OverwriteMode.MISSING and existing.strip():
                self._record(
                    index,
                    CaptionOutcome(image, "skipped", existing, "Already has a caption."),
                )
                continue
            prepared: Any = None
            prepare = getattr(self.provider, "prepare", None)
            if prepare is not None:
                try:
                    prepared = await prepare(image)
                except LoraStudioError as exc:
                    self._record(index, CaptionOutcome(image, "failed", None, exc.user_message))
                    continue
            await self.queue.put((index, image, existing, prepared))

    # -- stage 2: request, post-process, write ---------------------------------------------
    async def _work_loop(self) -> None:
        while self.stop_reason is None and not self.cancelled:
            item = await self.queue.get()
            if item is None:
                return
            await self._caption_one(*item)

    async def _caption_one(self, index: int, image: Path, existing: str, prepared: Any) -> None:
        attempts = 0
        while True:
            attempts += 1
            try:
                if prepared is not None:
                    raw = await self.provider.caption(  # type: ignore[call-arg]
                        image, self.options.prompt, prepared=prepared
                    )
                else:
                    raw = await self.provider.caption(image, self.options.prompt)
                break
            except StopRunError as exc:
                self._fail(index, image, exc.user_message, attempts)
                self._stop(exc.user_message)
                return
            except RetryableCaptionError as exc:
                if attempts > self.options.retries:
                    self._fail(index, image, exc.user_message, attempts)
                    if isinstance(exc, ProviderUnreachableError):
                        self._stop(exc.user_message)
                    return
                await asyncio.sleep(self._delay(attempts, exc.retry_after))
            except LoraStudioError as exc:
                self._fail(index, image, exc.user_message, attempts)
                return
        text = postprocess(
            raw,
            existing=existing if self.options.mode == OverwriteMode.APPEND else None,
            trigger=self.options.trigger,
            max_tokens=self.options.max_tokens,
            max_chars=self.options.max_chars,
            cleanup=self.options.cleanup,
            style_tags=self.options.style_tags,
        )
        if not text.strip():
            self._fail(index, image, "The service returned an empty caption.", attempts)
            return
        write = asyncio.ensure_future(asyncio.to_thread(self._write, image, text))
        try:
            await asyncio.shield(write)
        except asyncio.CancelledError:
            # Cancelled while the caption was being written: the write finishes regardless,
            # so report it as done, then stop.
            with contextlib.suppress(Exception):
                await write
                self._record(index, CaptionOutcome(image, "ok", text, None, attempts))
            raise
        except LoraStudioError as exc:
            self._fail(index, image, exc.user_message, attempts)
            return
        self._record(index, CaptionOutcome(image, "ok", text, None, attempts))

    def _write(self, image: Path, text: str) -> None:
        self.store.write(image, text, label=self.options.label, group=self.group)
        self.resume.mark(image)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.options.max_retry_delay)
        ceiling = min(
            self.options.max_retry_delay, self.options.retry_base_delay * 2 ** (attempt - 1)
        )
        return random.uniform(ceiling / 2, ceiling)

    def _fail(self, index: int, image: Path, reason: str, attempts: int) -> None:
        self._record(index, CaptionOutcome(image, "failed", None, reason, attempts))

    def _stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = f"Not captioned: {reason}"
        self._halt()
