"""Failure modes of docs/protocols.md §1.9/§7 injected into the fake ComfyUI: refused graphs,
malformed replies, node errors, websocket drops, a dying or restarting server, broken files."""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import pytest

from lora_studio.core.backends.base import DatasetSummary
from lora_studio.core.backends.comfyui import ComfyUIBackend
from lora_studio.core.backends.comfyui.prompt_errors import PromptRejectedError
from lora_studio.core.errors import (
    BackendError,
    BackendUnavailableError,
    LoraStudioError,
    WeightsError,
)
from lora_studio.core.jobs.events import Checkpoint, Failed, Finished, Log, Loss
from lora_studio.core.jobs.status import JobStatus
from lora_studio.core.training.runner import typed_config
from tests.core.backends.comfy_helpers import (
    FAST,
    StandInJob,
    backend_for,
    call,
    collect,
    config,
    keep_state,
    run,
)
from tests.fakes.fake_comfyui import FakeComfyUI


async def submit_and_follow(backend: ComfyUIBackend, job: StandInJob, dataset: DatasetSummary):  # type: ignore[no-untyped-def]
    try:
        await backend.submit(job, typed_config(job), dataset, keep_state(job))
        return await collect(backend, job)
    finally:
        await backend.aclose()


def wait_idle(fake: FakeComfyUI, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while (fake.pending or fake.running) and time.monotonic() < deadline:
        time.sleep(0.02)


# -- POST /prompt refusals -------------------------------------------------------------------
def test_node_errors_are_surfaced_per_node(fake: FakeComfyUI, dataset: DatasetSummary) -> None:
    fake.faults.reject_inputs = {("TrainLoraNode", "learning_rate"): "too spicy"}
    job = StandInJob("job-rej", config())
    with pytest.raises(PromptRejectedError) as caught:
        call(backend_for(fake), "submit", job, typed_config(job), dataset, keep_state(job))
    problem = caught.value.problems[0]
    assert (problem.node_id, problem.class_type) == ("4", "TrainLoraNode")
    assert "refused the training graph — node 4 (TrainLoraNode)" in caught.value.user_message
    assert "learning_rate - too spicy" in caught.value.user_message
    assert job.backend_state["chunks"] == [] and not fake.history


def test_unknown_checkpoint_is_named(fake: FakeComfyUI) -> None:
    backend = backend_for(fake)
    graph = {
        "1": {
            "class_type": "CheckpointLoaderSimple",
            "inputs": {"ckpt_name": "does_not_exist.safetensors"},
        },
        "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}},
    }
    with pytest.raises(
        PromptRejectedError, match=r"the checkpoint 'does_not_exist\.safetensors' is not on"
    ):
        run(_queue(backend, graph))


async def _queue(backend: ComfyUIBackend, graph: dict) -> str:  # type: ignore[type-arg]
    try:
        return await backend.client.queue_prompt(graph, backend.client_id, "p-1")
    finally:
        await backend.aclose()


def test_200_with_node_errors_is_an_error_and_the_partial_job_is_withdrawn(
    fake: FakeComfyUI, dataset: DatasetSummary
) -> None:
    fake.faults.reject_inputs = {("LossGraphNode", "filename_prefix"): "no such folder"}
    job = StandInJob("job-partial", config(max_steps=20))
    with pytest.raises(
        PromptRejectedError,
        match=r"accepted only part of the training graph — node 6 \(LossGraphNode\)",
    ):
        call(backend_for(fake), "submit", job, typed_config(job), dataset, keep_state(job))
    wait_idle(fake)
    posts = [p for m, p, _ in fake.requests if m == "POST"]
    assert "/queue" in posts and "/interrupt" in posts
    assert fake.lora_files() == []  # the queued remainder never saved a LoRA


def test_malformed_json_reply_to_prompt_withdraws_and_explains(
    fake: FakeComfyUI, dataset: DatasetSummary
) -> None:
    fake.faults.malformed_json_paths = {"/prompt"}
    job = StandInJob("job-mal", config(max_steps=20))
    with pytest.raises(BackendError, match="not valid JSON"):
        call(backend_for(fake), "submit", job, typed_config(job), dataset, keep_state(job))
    assert job.backend_state["chunks"] == []
    assert {"/queue", "/interrupt"} <= {p for m, p, _ in fake.requests if m == "POST"}
    fake.faults.malformed_json_paths = {"/system_stats"}
    result = call(backend_for(fake), "check")
    assert not result.available and "not valid JSON" in result.diagnosis


# -- execution ----------------------------------------------------------------------------
def test_out_of_memory_in_the_trainer_fails_with_advice(
    fake: FakeComfyUI, dataset: DatasetSummary
) -> None:
    fake.faults.raise_in_node = {
        "TrainLoraNode": ("OutOfMemoryError", "CUDA out of memory. Tried to allocate 2.00 GiB")
    }
    job = StandInJob("job-oom", config())
    events = run(submit_and_follow(backend_for(fake), job, dataset))
    failed = events[-1]
    assert isinstance(failed, Failed)
    assert failed.message.startswith("ComfyUI ran out of GPU memory in TrainLoraNode")
    assert "execution.py" in failed.detail


def test_a_node_error_names_node_and_exception(fake: FakeComfyUI, dataset: DatasetSummary) -> None:
    fake.faults.raise_in_node = {"VAEEncode": ("ValueError", "bad pixels")}
    events = run(submit_and_follow(backend_for(fake), StandInJob("job-err", config()), dataset))
    assert events[-1] == Failed(
        "ComfyUI failed in node 3 (VAEEncode): ValueError: bad pixels", events[-1].detail
    )  # type: ignore[union-attr]


# -- connection trouble -----------------------------------------------------------------------
def test_websocket_drop_reconnects_with_the_same_client_id_and_resyncs(
    fake_factory,
    dataset: DatasetSummary,  # type: ignore[no-untyped-def]
) -> None:
    fake = fake_factory(steps_per_second=200)
    fake.faults.drop_ws_at_step = 8
    job = StandInJob("job-drop", config(max_steps=30))
    backend = backend_for(fake)
    events = run(submit_and_follow(backend, job, dataset))
    assert isinstance(events[-1], Finished)
    assert [cid for cid, _ in fake.ws_connects].count(backend.client_id) >= 2
    subscribes = [p for m, p, _ in fake.requests if p == "/internal/logs/subscribe"]
    assert len(subscribes) >= 2  # the log subscription is renewed on the new socket
    # Losses missed while disconnected arrive at the end from PreviewAny, each step once.
    assert sorted(e.step for e in events if isinstance(e, Loss)) == list(range(1, 31))


def test_missed_terminal_events_are_recovered_from_history(
    fake_factory,
    dataset: DatasetSummary,  # type: ignore[no-untyped-def]
) -> None:
    fake = fake_factory(steps_per_second=200)
    fake.faults.drop_ws_at_step = 12  # the last step: success is sent while we reconnect
    events = run(submit_and_follow(backend_for(fake), StandInJob("job-miss", config()), dataset))
    assert isinstance(events[-1], Finished)


def test_proxy_hiccups_during_a_job_are_ridden_out(fake_factory, dataset: DatasetSummary) -> None:  # type: ignore[no-untyped-def]
    fake = fake_factory(steps_per_second=100)
    job = StandInJob("job-hiccup", config(max_steps=30))

    async def go():  # type: ignore[no-untyped-def]
        backend = backend_for(fake)
        try:
            await backend.submit(job, typed_config(job), dataset, keep_state(job))
            fake.faults.proxy_502 = 2
            await backend.client.http.get_json("queue")  # retried through both 502s
            return await collect(backend, job)
        finally:
            await backend.aclose()

    assert isinstance(run(go())[-1], Finished)


def test_server_dying_mid_job_raises_backend_unavailable(
    fake_factory,
    dataset: DatasetSummary,  # type: ignore[no-untyped-def]
) -> None:
    fake = fake_factory(steps_per_second=200)
    fake.faults.die_at_step = 5
    job = StandInJob("job-die", config(max_steps=30))
    with pytest.raises(BackendUnavailableError) as caught:
        run(submit_and_follow(backend_for(fake), job, dataset))
    assert caught.value.user_message == (
        f"ComfyUI at 127.0.0.1:{fake.port} is not answering — is it running?"
    )
    assert job.status is JobStatus.RUNNING and job.backend_state["chunks"]  # record kept


def test_restart_mid_job_marks_it_lost_after_the_grace_period(
    fake_factory,
    dataset: DatasetSummary,  # type: ignore[no-untyped-def]
) -> None:
    fake = fake_factory(steps_per_second=200)
    fake.faults.restart_at_step = 5
    job = StandInJob("job-lost", config(max_steps=30))
    began = time.monotonic()
    events = run(submit_and_follow(backend_for(fake), job, dataset))
    assert events[-1].status is JobStatus.LOST  # type: ignore[union-attr]
    assert "no longer knows this training" in events[-1].message  # type: ignore[union-attr]
    assert time.monotonic() - began >= FAST.timings.lost_grace


def test_restart_in_a_later_chunk_keeps_the_earlier_checkpoint(
    fake_factory,
    dataset: DatasetSummary,  # type: ignore[no-untyped-def]
) -> None:
    fake = fake_factory(steps_per_second=200)
    fake.faults.restart_at_step = 15
    job = StandInJob("job-lost2", config(max_steps=30))
    options = dataclasses.replace(FAST, chunked=True, chunk_steps=10)
    events = run(submit_and_follow(backend_for(fake, options), job, dataset))
    assert [e.step for e in events if isinstance(e, Checkpoint)] == [10]
    assert events[-1].status is JobStatus.LOST  # type: ignore[union-attr]
    assert events[-1].message.endswith("The checkpoint from chunk 1 (step 10) is kept.")  # type: ignore[union-attr]


def test_restart_after_the_job_finished_still_finds_the_file(
    fake: FakeComfyUI, dataset: DatasetSummary, tmp_path: Path
) -> None:
    job = StandInJob("job-after", config(max_steps=4))
    call(backend_for(fake), "submit", job, typed_config(job), dataset, keep_state(job))
    wait_idle(fake)
    fake.restart()  # history forgotten, output/loras kept
    job.status = JobStatus.RUNNING

    async def reattach():  # type: ignore[no-untyped-def]
        backend = backend_for(fake)
        try:
            return await collect(backend, job), await backend.download(
                job, typed_config(job), tmp_path
            )
        finally:
            await backend.aclose()

    events, files = run(reattach())
    assert any(isinstance(e, Log) and "restarted" in e.text for e in events)
    assert isinstance(events[-1], Finished) and files


# -- downloads ------------------------------------------------------------------------------
def test_a_truncated_lora_on_the_server_is_rejected(
    fake: FakeComfyUI, dataset: DatasetSummary, tmp_path: Path
) -> None:
    fake.faults.corrupt_saved_files = True
    job = StandInJob("job-trunc", config(max_steps=4))

    async def go():  # type: ignore[no-untyped-def]
        backend = backend_for(fake)
        try:
            await backend.submit(job, typed_config(job), dataset, keep_state(job))
            await collect(backend, job)
            return await backend.download(job, typed_config(job), tmp_path / "out")
        finally:
            await backend.aclose()

    with pytest.raises(WeightsError, match="incomplete"):
        run(go())
    assert os.listdir(tmp_path / "out") == []


def test_a_tampered_output_name_cannot_escape_the_destination(
    fake: FakeComfyUI, dataset: DatasetSummary, tmp_path: Path
) -> None:
    """A job record edited on disk (`output_name: ../../evil`) writes nothing outside `out`."""
    job = StandInJob("job-esc", config(max_steps=2))

    async def go():  # type: ignore[no-untyped-def]
        backend = backend_for(fake)
        try:
            await backend.submit(job, typed_config(job), dataset, keep_state(job))
            await collect(backend, job)
            job.config["output_name"] = "../../evil"
            return await backend.download(job, typed_config(job), tmp_path / "out")
        finally:
            await backend.aclose()

    with pytest.raises(LoraStudioError, match="cannot be a file name"):
        run(go())
    assert not list(tmp_path.glob("**/evil*"))


def test_a_job_without_any_finished_chunk_has_nothing_to_download(
    fake: FakeComfyUI, dataset: DatasetSummary, tmp_path: Path
) -> None:
    job = StandInJob("job-none", config(max_steps=200))
    fake.steps_per_second = 50
    call(backend_for(fake), "submit", job, typed_config(job), dataset, keep_state(job))
    with pytest.raises(BackendError, match="no finished LoRA"):
        call(backend_for(fake), "download", job, typed_config(job), tmp_path)
