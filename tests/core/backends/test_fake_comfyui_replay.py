"""The fake ComfyUI behaves like the recorded 0.3.64 server (so the backend tests mean something):
event order and routing, caching of an identical graph, error bodies, the plain-text 500."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from websockets.asyncio.client import connect

from lora_studio.core.backends.comfyui.client import ComfyClient
from lora_studio.core.backends.http import HttpClient
from lora_studio.core.errors import BackendError
from tests.core.backends.comfy_helpers import run
from tests.fakes.fake_comfyui import FakeComfyUI
from tests.fakes.fake_comfyui_engine import FIXTURES, fixture_lines


def recorded_graph(fake: FakeComfyUI, seed: int = 7) -> dict[str, Any]:
    graph = json.loads((FIXTURES / "train_workflow_sd15.json").read_text())
    graph["4"]["inputs"]["seed"] = seed
    # Same-size images with captions in input/lora_test, as in the recorded run.
    folder = fake.input_dir / "lora_test"
    folder.mkdir(exist_ok=True)
    for i in range(2):
        Image.new("RGB", (64, 64), (i * 90, 10, 10)).save(folder / f"{i}.png")
        (folder / f"{i}.txt").write_text(f"caption {i}")
    return graph


async def run_prompts(
    fake: FakeComfyUI, graphs: list[dict[str, Any]]
) -> list[list[dict[str, Any]]]:
    """Queue graphs one after another on client "rec"; return each run's websocket messages."""
    runs: list[list[dict[str, Any]]] = []
    url = fake.url.replace("http", "ws") + "/ws?clientId=rec"
    async with connect(url) as ws, httpx.AsyncClient(base_url=fake.url) as http:
        await http.patch("/internal/logs/subscribe", json={"clientId": "rec", "enabled": True})
        for graph in graphs:
            reply = await http.post("/prompt", json={"prompt": graph, "client_id": "rec"})
            pid = reply.json()["prompt_id"]
            messages = []
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                messages.append(message)
                data = message["data"]
                if message["type"] == "executing" and data.get("node") is None:
                    assert data["prompt_id"] == pid
                    break
            runs.append(messages)
    return runs


def shape(messages: list[dict[str, Any]]) -> list[str]:
    """Message types without logs/status, consecutive repeats collapsed."""
    kinds: list[str] = []
    for message in messages:
        kind = message["type"]
        if message["type"] == "executing" and message["data"]["node"] is None:
            kind = "executing:null"
        if kind not in ("logs", "status") and (not kinds or kinds[-1] != kind):
            kinds.append(kind)
    return kinds


def test_event_order_matches_the_recording(fake: FakeComfyUI) -> None:
    recorded = [
        line["msg"] for line in fixture_lines("ws_train_success.jsonl") if line["dir"] == "ws"
    ]
    (ours,) = run(run_prompts(fake, [recorded_graph(fake)]))
    assert (
        shape(ours)[:3]
        == shape(recorded)[:3]
        == ["execution_start", "execution_cached", "progress_state"]
    )
    assert shape(ours)[-2:] == shape(recorded)[-2:] == ["execution_success", "executing:null"]
    executed = {m["data"]["node"]: m["data"]["output"] for m in ours if m["type"] == "executed"}
    assert set(executed) == {"6", "7"} and "loss" in json.loads(executed["7"]["text"][0])
    logs = "".join(e["m"] for m in ours if m["type"] == "logs" for e in m["data"]["entries"])
    assert "Training LoRA: 100%|██████████| 4/4" in logs
    assert fake.lora_files() == ["lorastudio_final_4_steps_00001_.safetensors"]


def test_an_identical_graph_is_fully_cached_like_the_recording(fake: FakeComfyUI) -> None:
    graph = recorded_graph(fake)
    _, second = run(run_prompts(fake, [graph, graph]))
    cached = next(m["data"]["nodes"] for m in second if m["type"] == "execution_cached")
    assert sorted(cached) == sorted(graph)
    assert not any(m["type"] == "executing" and m["data"]["node"] for m in second)
    assert fake.lora_files() == ["lorastudio_final_4_steps_00001_.safetensors"]  # no new file
    save = next(m for m in second if m["type"] == "executed" and m["data"]["node"] == "5")
    assert save["data"]["output"] is None


def test_events_go_only_to_the_prompts_client(fake: FakeComfyUI) -> None:
    async def go() -> list[str]:
        other_url = fake.url.replace("http", "ws") + "/ws?clientId=someone-else"
        async with connect(other_url) as other:
            await run_prompts(fake, [recorded_graph(fake, seed=9)])
            kinds = []
            with pytest.raises(TimeoutError):
                while True:
                    kinds.append(json.loads(await asyncio.wait_for(other.recv(), 0.3))["type"])
            return kinds

    assert set(run(go())) <= {"status"}


def test_save_counter_quirk_is_reproduced(fake: FakeComfyUI) -> None:
    """A second save under the same prefix reads '4' from '..._4_steps_00001_' as the counter."""
    graph = recorded_graph(fake)
    other = json.loads(json.dumps(graph))
    other["4"]["inputs"]["seed"] = 8
    run(run_prompts(fake, [graph, other]))
    assert fake.lora_files() == [
        "lorastudio_final_4_steps_00001_.safetensors",
        "lorastudio_final_4_steps_00005_.safetensors",
    ]


def test_error_bodies_have_the_recorded_shape(fake: FakeComfyUI) -> None:
    recorded = (FIXTURES / "prompt_error_bodies.txt").read_text()
    expected = json.loads(recorded.split("### unknown_ckpt_name -> 400\n")[1].split("\n")[0])
    graph = recorded_graph(fake)
    graph["1"]["inputs"]["ckpt_name"] = "does_not_exist.safetensors"

    async def go() -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(base_url=fake.url) as http:
            bad = await http.post("/prompt", json={"prompt": graph})
            broken = await http.post("/prompt", content=b"{not json")
            return bad, broken

    bad, broken = run(go())
    body = bad.json()
    assert bad.status_code == 400 and body["error"] == expected["error"]
    ours, theirs = body["node_errors"]["1"], expected["node_errors"]["1"]
    assert ours["class_type"] == theirs["class_type"]
    assert ours["errors"][0]["type"] == theirs["errors"][0]["type"] == "value_not_in_list"
    assert ours["errors"][0]["details"].startswith("ckpt_name: 'does_not_exist.safetensors' not in")
    assert broken.status_code == 500 and broken.text.startswith("500 Internal Server Error")


def test_a_plain_text_500_from_prompt_is_reported_as_a_crash(tmp_path: Path) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text="500 Internal Server Error\n\nServer got itself in trouble")

    http = HttpClient("ComfyUI", "http://127.0.0.1:8188", transport=httpx.MockTransport(server))
    client = ComfyClient(http)

    async def go() -> str:
        try:
            return await client.queue_prompt({}, "c", "p")
        finally:
            await http.aclose()

    with pytest.raises(BackendError, match="crashed while reading the training graph") as caught:
        run(go())
    assert "Server got itself in trouble" in (caught.value.detail or "")
