"""The auto-caption runner against the fake servers: concurrency bound, retries, cancel, resume,
one undo step, post-processing, and the estimate."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lora_studio.core.captioning.estimate import estimate_auto_caption
from lora_studio.core.captioning.providers import build_provider
from lora_studio.core.captioning.runner import (
    AutoCaptionOptions,
    CaptionOutcome,
    OverwriteMode,
    run_auto_caption,
)
from lora_studio.core.dataset.caption_store import CaptionStore
from lora_studio.core.dataset.concurrency import CancelToken
from tests.fakes.fake_caption_servers import DEFAULT_CAPTION, FakeCaptionServer

Make = Callable[..., FakeCaptionServer]
Photos = Callable[..., list[Path]]


def caption_run(
    fake: FakeCaptionServer,
    images: list[Path],
    *,
    kind: str = "ollama",
    cancel: CancelToken | None = None,
    seen: list[CaptionOutcome] | None = None,
    **opts: Any,
) -> list[CaptionOutcome]:
    root = images[0].parent.parent
    url = {"ollama": fake.ollama_url, "openai": fake.openai_url, "huggingface": fake.hf_url}[kind]
    model = {"ollama": "llava:7b", "openai": "local-vlm", "huggingface": None}[kind]
    options = AutoCaptionOptions(retry_base_delay=0.01, **opts)

    async def go() -> list[CaptionOutcome]:
        provider = build_provider(kind, url=url, model=model, api_key="k", read_timeout=2.0)
        try:
            return await run_auto_caption(
                provider,
                CaptionStore(root),
                images,
                options,
                cancel=cancel,
                on_outcome=seen.append if seen is not None else None,
            )
        finally:
            await provider.aclose()

    return asyncio.run(go())


def test_run_captions_all_with_bounded_concurrency(fake_server: Make, photos: Photos) -> None:
    fake = fake_server(latency=0.1)
    images = photos(12)
    seen: list[CaptionOutcome] = []
    outcomes = caption_run(fake, images, concurrency=3, trigger="ohwx", seen=seen)
    assert [o.status for o in outcomes] == ["ok"] * 12
    assert [o.image for o in outcomes] == images  # input order
    assert len(seen) == 12
    assert fake.max_in_flight == 3
    for image in images:
        assert image.with_suffix(".txt").read_text() == f"ohwx, {DEFAULT_CAPTION}"
    store = CaptionStore(images[0].parent.parent)
    assert store.undo_label == "Auto-caption"
    assert len(store.undo()) == 12  # the whole run is one undo step
    assert not images[0].with_suffix(".txt").exists()


def test_modes_missing_overwrite_append(fake_server: Make, photos: Photos) -> None:
    fake = fake_server()
    images = photos(3)
    images[0].with_suffix(".txt").write_text("hand written")
    out = caption_run(fake, images, mode=OverwriteMode.MISSING)
    assert [o.status for o in out] == ["skipped", "ok", "ok"]
    assert out[0].reason == "Already has a caption."
    assert images[0].with_suffix(".txt").read_text() == "hand written"
    out = caption_run(fake, images[:1], mode=OverwriteMode.APPEND)
    assert images[0].with_suffix(".txt").read_text() == f"hand written, {DEFAULT_CAPTION}"
    fake.caption_text = "Sure! Here is the caption:\n- red hair\n- smiling\n- outdoors"
    caption_run(fake, images[:1], mode=OverwriteMode.OVERWRITE, max_tokens=5)
    assert images[0].with_suffix(".txt").read_text() == "red hair, smiling"


def test_retries_honour_retry_after(fake_server: Make, photos: Photos) -> None:
    fake = fake_server()
    images = photos(2)
    fake.fail_next(status=429, retry_after="1")
    fake.fail_next(status=502, body="<html>bad gateway</html>")
    started = time.monotonic()
    out = caption_run(fake, images, concurrency=1)
    elapsed = time.monotonic() - started
    assert [o.status for o in out] == ["ok", "ok"]
    assert sorted(o.attempts for o in out) == [1, 3]  # pictures are prepared in parallel
    assert elapsed >= 1.0  # waited the server's Retry-After of one second


def test_retries_run_out_per_image(fake_server: Make, photos: Photos) -> None:
    fake = fake_server()
    images = photos(2)
    fake.fail_next(3, status=500, body={"error": "out of memory"})
    out = caption_run(fake, images, concurrency=1, retries=2, mode=OverwriteMode.OVERWRITE)
    failed = [o for o in out if o.status == "failed"]
    assert len(failed) == 1 and "out of memory" in (failed[0].reason or "")
    assert failed[0].attempts == 3
    assert [o.status for o in out].count("ok") == 1
    # "Run again to retry the failed ones" — also in overwrite mode, only the failed one is redone.
    again = caption_run(fake, images, concurrency=1, mode=OverwriteMode.OVERWRITE)
    assert {o.image: o.status for o in again} == {
        failed[0].image: "ok",
        next(o.image for o in out if o.status == "ok"): "skipped",
    }


def test_model_not_found_stops_the_run(fake_server: Make, photos: Photos) -> None:
    fake = fake_server(models=("qwen2.5vl:7b",))
    images = photos(5)
    out = caption_run(fake, images, concurrency=2)
    assert {o.status for o in out} <= {"failed", "skipped"}
    assert any("ollama pull llava:7b" in (o.reason or "") for o in out)
    assert all(not i.with_suffix(".txt").exists() for i in images)
    assert len(fake.caption_requests()) <= 2


def test_unreachable_server_stops_after_retries(photos: Photos) -> None:
    fake = FakeCaptionServer()
    fake.start()
    url = fake.ollama_url
    fake.stop()  # nothing listens on that port any more
    images = photos(4)

    async def go() -> list[CaptionOutcome]:
        provider = build_provider("ollama", url=url, model="llava:7b")
        options = AutoCaptionOptions(retries=1, retry_base_delay=0.01, concurrency=2)
        try:
            return await run_auto_caption(
                provider, CaptionStore(images[0].parent.parent), images, options
            )
        finally:
            await provider.aclose()

    out = asyncio.run(go())
    assert all(o.status in ("failed", "skipped") for o in out)
    assert any("is not answering" in (o.reason or "") for o in out)


def test_cancel_is_prompt_keeps_finished_and_resume_skips_them(
    fake_server: Make, photos: Photos
) -> None:
    fake = fake_server(latency=0.6)  # the whole run would take 12 / 2 x 0.6 = 3.6 s
    images = photos(12)
    cancel = CancelToken()
    seen: list[CaptionOutcome] = []
    timer = threading.Timer(1.0, cancel.cancel)
    timer.start()
    started = time.monotonic()
    out = caption_run(
        fake, images, concurrency=2, cancel=cancel, seen=seen, mode=OverwriteMode.OVERWRITE
    )
    stopped = time.monotonic() - started
    done = [o for o in out if o.status == "ok"]
    assert 1 <= len(done) <= 8
    assert stopped < 3.0  # in-flight requests were abandoned, not waited for
    assert all(
        o.reason == "Cancelled before this picture was captioned."
        for o in out
        if o.status == "skipped"
    )
    for outcome in done:
        assert outcome.image.with_suffix(".txt").read_text() == DEFAULT_CAPTION
    # Rerun with the same settings (overwrite!): finished ones are skipped, the rest captioned.
    fake.latency = 0.0
    again = caption_run(fake, images, concurrency=2, mode=OverwriteMode.OVERWRITE)
    resumed = [o for o in again if o.status == "skipped"]
    assert {o.image for o in resumed} == {o.image for o in done}
    assert all("resumed" in (o.reason or "") for o in resumed)
    assert [o.status for o in again].count("ok") == 12 - len(done)
    # The completed run forgets its progress: a third run overwrites everything again.
    third = caption_run(fake, images, concurrency=2, mode=OverwriteMode.OVERWRITE)
    assert [o.status for o in third] == ["ok"] * 12


def test_openai_and_huggingface_through_the_runner(fake_server: Make, photos: Photos) -> None:
    fake = fake_server(hf_loading=1, hf_estimated_time=0.2)
    images = photos(3)
    out = caption_run(fake, images, kind="huggingface", mode=OverwriteMode.OVERWRITE, max_chars=12)
    assert [o.status for o in out] == ["ok"] * 3
    assert all(len(i.with_suffix(".txt").read_text()) <= 12 for i in images)
    out = caption_run(fake, images, kind="openai", mode=OverwriteMode.OVERWRITE, trigger="ohwx")
    assert [o.caption for o in out] == [f"ohwx, {DEFAULT_CAPTION}"] * 3


def test_broken_picture_fails_alone(fake_server: Make, photos: Photos) -> None:
    fake = fake_server()
    images = photos(2)
    broken = images[0].parent / "zz_broken.jpg"
    broken.write_bytes(b"not a jpeg")
    out = caption_run(fake, [*images, broken])
    assert [o.status for o in out] == ["ok", "ok", "failed"]
    assert "zz_broken.jpg" in (out[2].reason or "")


def test_estimate() -> None:
    local = estimate_auto_caption("ollama", 100, 4)
    assert local.seconds == pytest.approx(400) and local.cost_usd == 0.0
    paid = estimate_auto_caption("openai", 1000, 4, model="gpt-4o-mini")
    assert paid.seconds == pytest.approx(625)
    assert paid.cost_usd == pytest.approx(0.47, abs=0.01) and "list prices" in paid.basis
    lm_studio = estimate_auto_caption("openai", 10, 2, url="http://localhost:1234/v1")
    assert lm_studio.cost_usd == 0.0
    unknown = estimate_auto_caption("openai", 10, 2, model="gpt-4.1-mini")
    assert unknown.cost_usd is None and "gpt-4.1-mini" in unknown.basis
    assert estimate_auto_caption("huggingface", 10, 2).cost_usd is None
    measured = estimate_auto_caption(
        "openai", 10, 2, url="https://x.example/v1", seconds_per_image=1.0
    )
    assert measured.seconds == 5.0 and "measured" in measured.basis
    assert "About" in paid.describe()
