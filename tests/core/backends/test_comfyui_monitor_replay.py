"""What the job monitor shows for a ComfyUI run, from the real 0.3.64 recordings: step, loss,
speed and ETA come from the server's own counter and clock, step and loss stay in step, and
console output after a reconnect is never credited to a job the server may have forgotten."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from lora_studio.core.backends.comfyui.follow import FollowTimings, PromptFollower, StepTracker
from lora_studio.core.backends.comfyui.state import ChunkRecord, ComfyJobState
from lora_studio.core.backends.comfyui.ws import WsSession
from lora_studio.core.jobs import Loss, Progress, ProgressTracker
from lora_studio.core.jobs.events import JobEvent
from tests.core.backends.comfy_helpers import run
from tests.fakes.fake_comfyui import FakeComfyUI
from tests.fakes.fake_comfyui_engine import fixture_lines

RECORDING = "ws_train_success_with_logs.jsonl"


def _recorded_prompt_id() -> str:
    for line in fixture_lines(RECORDING):
        if line["dir"] == "http" and line["request"] == "POST /prompt":
            return str(line["body"]["prompt_id"])
    raise AssertionError("no POST /prompt in the recording")


def _final_losses() -> list[float]:
    for line in fixture_lines(RECORDING):
        msg = line.get("msg") or {}
        if msg.get("type") == "executed" and "text" in (msg["data"]["output"] or {}):
            return [float(v) for v in json.loads(msg["data"]["output"]["text"][0])["loss"]]
    raise AssertionError("no PreviewAny output in the recording")


def _follower(session: WsSession, pid: str, total: int) -> PromptFollower:
    state = ComfyJobState(
        client_id="lorastudio-rec",
        job_key="rec",
        folder="lora_test",
        node_set="v0364",
        plan=[total],
        grad_accumulation=1,
        steps_per_epoch=total,
        seed=1,
    )
    chunk = ChunkRecord(1, pid, total, total, "x.safetensors", train_node="4", save_node="5")
    chunk.preview_node, chunk.loss_graph_node = "7", "6"
    return PromptFollower(
        None,  # type: ignore[arg-type]  # _handle never talks to the server
        session,
        state,
        chunk,
        StepTracker(total),
        FollowTimings(),
        cancel_requested=lambda: False,
        on_log=lambda _line: None,
    )


def _replay() -> list[tuple[float, list[JobEvent]]]:
    """Feed every recorded websocket frame through the session's router and the follower, as
    the backend does; return (recorded time, events) per frame that produced any."""
    pid = _recorded_prompt_id()
    session = WsSession("http://127.0.0.1:1", "lorastudio-rec")
    feed = session.watch(pid)
    follower = _follower(session, pid, 6)
    out: list[tuple[float, list[JobEvent]]] = []
    for line in fixture_lines(RECORDING):
        if line["dir"] != "ws":
            continue
        session._dispatch(line["msg"])
        while len(feed):
            message = run(feed.get(0))
            assert message is not None
            events = follower._handle(message)
            if events:
                out.append((line["t"], events))
    return out


def test_every_step_and_its_loss_arrive_together_and_match_previewany() -> None:
    replay = _replay()
    steps = [e.step for _, events in replay for e in events if isinstance(e, Progress)]
    losses = [(e.step, e.value) for _, events in replay for e in events if isinstance(e, Loss)]
    assert steps == [0, 1, 2, 3, 4, 5, 6]
    assert [s for s, _ in losses] == [1, 2, 3, 4, 5, 6]
    assert [v for _, v in losses] == pytest.approx(_final_losses(), abs=1e-4)
    # The step counter never lags the loss: a batch carrying Loss(n) carries Progress(n) too.
    for _, events in replay:
        loss_steps = {e.step for e in events if isinstance(e, Loss)}
        progress_steps = {e.step for e in events if isinstance(e, Progress)}
        assert loss_steps <= progress_steps


def test_speed_and_eta_are_the_servers_own_figures() -> None:
    replay = _replay()
    tracker = ProgressTracker(clock=lambda: 0.0)
    seen = []
    for at, events in replay:
        tracker.feed_many(events, at=at)
        for event in events:
            if isinstance(event, Progress) and event.step:
                seen.append((event.step, tracker.speed, tracker.eta_seconds(now=at)))
    # tqdm measured 2.19–2.26 it/s on the server (one step every ~0.44 s in the recording).
    for step, speed, eta in seen:
        assert speed == pytest.approx(2.23, abs=0.05), step
        if step < 6:
            assert eta is not None
            # Never 0:00 with steps left; within a step of the recording's real remaining time.
            assert eta >= 1.0
            assert eta == pytest.approx(max(1.0, (6 - step) * 0.44), abs=0.1)
    assert seen[-1][0] == 6 and seen[-1][2] == 0.0


def test_console_output_after_a_reconnect_is_not_credited_to_the_old_prompt(
    fake: FakeComfyUI,
) -> None:
    """ComfyUI restarts mid-run; another client's training then fills the shared console. None
    of it may reach the job the server forgot (it once showed 100 %, another run's loss)."""

    async def scenario() -> tuple[list[str], list[str]]:
        client_id = "lorastudio-ours"

        async def subscribe() -> None:
            async with httpx.AsyncClient(base_url=fake.url) as http:
                await http.patch(
                    "/internal/logs/subscribe", json={"clientId": client_id, "enabled": True}
                )

        session = WsSession(fake.url, client_id, on_connect=subscribe, backoff=(0.05, 0.2))
        assert await session.wait_connected(3.0)
        await asyncio.sleep(0.2)  # the on-connect log subscription has gone through
        feed = session.watch("ours")
        bar = "\rTraining LoRA:  50%|█████     | 2/4 [00:44<00:44, 22.05s/it, loss=0.5]"
        await asyncio.wrap_future(
            asyncio.run_coroutine_threadsafe(
                fake.send(client_id, "execution_start", {"prompt_id": "ours"}), fake._loop
            )
        )
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(fake.console(bar), fake._loop))
        before = await _drain(feed)
        await asyncio.to_thread(fake.restart)
        for _ in range(100):
            if session.connections >= 2 and session.connected:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # the on-connect log subscription has gone through
        other = "\rTraining LoRA: 100%|██████████| 4/4 [00:08<00:00, 2.0s/it, loss=9.9]"
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(fake.console(other), fake._loop))
        await asyncio.sleep(0.2)
        after = await _drain(feed)
        await session.close()
        return before, after

    before, after = run(scenario())
    assert any("2/4" in text for text in before)
    assert after == []


async def _drain(feed: Any) -> list[str]:
    texts: list[str] = []
    while (message := await feed.get(0.3)) is not None:
        if message.get("type") == "logs":
            texts.extend(entry["m"] for entry in message["data"]["entries"])
    return texts
