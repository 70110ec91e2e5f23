"""Chunked training (checkpoint per chunk, continuing via existing_lora) and honest cancel:
between chunks, of a queued prompt, and of a running single prompt ComfyUI cannot stop."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from lora_studio.core.backends.base import CancelOutcome, DatasetSummary
from lora_studio.core.backends.comfyui import ComfyUIBackend
from lora_studio.core.jobs.events import Checkpoint, Finished, Loss, Progress, StatusChanged
from lora_studio.core.jobs.status import JobStatus
from lora_studio.core.training.runner import typed_config
from tests.core.backends.comfy_helpers import (
    FAST,
    StandInJob,
    backend_for,
    collect,
    config,
    keep_state,
    run,
)
from tests.fakes.fake_comfyui import FakeComfyUI

CHUNKED = dataclasses.replace(FAST, chunked=True, chunk_steps=10)


def test_chunked_training_checkpoints_every_chunk_and_chains_existing_lora(
    fake: FakeComfyUI, dataset: DatasetSummary, tmp_path: Path
) -> None:
    # 4 images, 1 repeat, batch 1 → 4 steps per epoch; a checkpoint every epoch.
    job = StandInJob("job-chunks", config(max_steps=None, epochs=3, save_every_n_epochs=1))

    async def go():  # type: ignore[no-untyped-def]
        backend = backend_for(fake, CHUNKED)
        try:
            await backend.submit(job, typed_config(job), dataset, keep_state(job))
            return await collect(backend, job), await backend.download(
                job, typed_config(job), tmp_path
            )
        finally:
            await backend.aclose()

    events, files = run(go())
    checkpoints = [e for e in events if isinstance(e, Checkpoint)]
    assert [(c.step, c.epoch) for c in checkpoints] == [(4, 1), (8, 2), (12, 3)]
    assert "lorastudio_jobchunks_c2_8_steps_00001_.safetensors" in checkpoints[1].location
    assert fake.lora_files() == [
        "lorastudio_jobchunks_c1_4_steps_00001_.safetensors",
        "lorastudio_jobchunks_c2_8_steps_00001_.safetensors",
        "lorastudio_jobchunks_c3_12_steps_00001_.safetensors",
    ]
    graphs = [entry["prompt"][2]["4"]["inputs"] for entry in fake.history.values()]
    assert [g["existing_lora"] for g in graphs] == [
        "[None]",
        "lorastudio_jobchunks_c1_4_steps_00001_.safetensors",
        "lorastudio_jobchunks_c2_8_steps_00001_.safetensors",
    ]
    assert len({g["seed"] for g in graphs}) == 3
    assert [e.step for e in events if isinstance(e, Loss)] == list(range(1, 13))
    progress = [e.step for e in events if isinstance(e, Progress)]
    assert progress == sorted(progress) and progress[-1] == 12
    assert isinstance(events[-1], Finished) and [f.name for f in files] == ["my_lora.safetensors"]


def test_cancel_takes_effect_between_chunks_and_keeps_the_checkpoint(
    fake_factory,
    dataset: DatasetSummary,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    fake = fake_factory(steps_per_second=60)
    job = StandInJob("job-stop", config(max_steps=30, output_name="mine"))
    results = []

    async def go():  # type: ignore[no-untyped-def]
        backend = backend_for(fake, CHUNKED)
        try:
            await backend.submit(job, typed_config(job), dataset, keep_state(job))
            events = []
            async for event in backend.events(job, typed_config(job)):
                events.append(event)
                if isinstance(event, Progress) and event.step >= 3 and not results:
                    results.append(await backend.cancel(job))
                    results.append(await backend.cancel(job))  # idempotent
            return events, await backend.download(job, typed_config(job), tmp_path)
        finally:
            await backend.aclose()

    events, files = run(go())
    first, again = results
    assert first.outcome is CancelOutcome.STOPPING and again.outcome is CancelOutcome.STOPPING
    assert "cannot stop a training node that is already running" in first.message
    assert "Chunk 1 of 3 (steps 1–10) will finish" in first.message
    assert "checkpoint will be kept" in first.message
    assert [e.step for e in events if isinstance(e, Checkpoint)] == [10]
    assert events[-1] == StatusChanged(
        JobStatus.CANCELLED,
        "Cancelled after chunk 1 of 3; the checkpoint at step 10 is kept and can be downloaded.",
    )
    assert len(fake.history) == 1 and not any(p == "/interrupt" for _, p, _ in fake.requests)
    assert [f.name for f in files] == ["mine_step10.safetensors"]


def test_cancelling_a_queued_prompt_removes_it_at_once(
    fake_factory,
    dataset: DatasetSummary,  # type: ignore[no-untyped-def]
) -> None:
    fake = fake_factory(steps_per_second=100)
    blocker = StandInJob("job-blocker", config(max_steps=60))
    waiting = StandInJob("job-waiting", config(max_steps=5))

    async def go():  # type: ignore[no-untyped-def]
        backend = backend_for(fake)
        try:
            await backend.submit(blocker, typed_config(blocker), dataset, keep_state(blocker))
            await backend.submit(waiting, typed_config(waiting), dataset, keep_state(waiting))
            result = await backend.cancel(waiting)
            events = await collect(backend, waiting)
            return result, events, await collect(backend, blocker)
        finally:
            await backend.aclose()

    result, events, blocker_events = run(go())
    assert result.outcome is CancelOutcome.STOPPED
    assert result.message == "Removed the job from ComfyUI's queue before it started."
    assert events[-1].status is JobStatus.CANCELLED  # type: ignore[union-attr]
    assert isinstance(blocker_events[-1], Finished)
    assert waiting.backend_job_id not in fake.history


def test_cancelling_a_running_single_prompt_is_honest_about_the_running_node(
    fake_factory,
    dataset: DatasetSummary,  # type: ignore[no-untyped-def]
) -> None:
    fake = fake_factory(steps_per_second=80)
    job = StandInJob("job-single", config(max_steps=30))
    results = []

    async def go():  # type: ignore[no-untyped-def]
        backend = backend_for(fake)
        try:
            await backend.submit(job, typed_config(job), dataset, keep_state(job))
            events = []
            async for event in backend.events(job, typed_config(job)):
                events.append(event)
                status = getattr(event, "status", None)
                if status is not None:
                    job.status = status
                if isinstance(event, Progress) and event.step >= 3 and not results:
                    results.append(await backend.cancel(job))
            results.append(await backend.cancel(job))  # after the end: nothing to do
            return events
        finally:
            await backend.aclose()

    events = run(go())
    running, after = results
    assert running.outcome is CancelOutcome.STOPPING
    assert "cannot stop a training node that is already running" in running.message
    assert "until all 30 steps are done" in running.message
    assert "ends without saving a LoRA" in running.message and "Restart ComfyUI" in running.message
    paths = [p for m, p, _ in fake.requests if m == "POST"]
    assert paths.index("/queue") < paths.index("/interrupt")
    # The quirk: training ran to its end anyway, then nothing was saved.
    assert max(e.step for e in events if isinstance(e, Progress)) == 30
    assert events[-1].status is JobStatus.CANCELLED  # type: ignore[union-attr]
    assert fake.lora_files() == []
    messages = fake.history[job.backend_job_id]["status"]["messages"]
    assert (
        messages[-1][0] == "execution_interrupted"
        and messages[-1][1]["node_type"] == "SaveLoRANode"
    )
    assert after.outcome is CancelOutcome.ALREADY_FINISHED


def test_cancel_without_a_server_says_it_could_not_confirm(
    fake: FakeComfyUI, dataset: DatasetSummary
) -> None:
    job = StandInJob("job-gone", config(max_steps=5))

    async def submit() -> None:
        backend = backend_for(fake)
        try:
            await backend.submit(job, typed_config(job), dataset, keep_state(job))
        finally:
            await backend.aclose()

    run(submit())
    fake.die()

    async def cancel():  # type: ignore[no-untyped-def]
        backend = ComfyUIBackend(fake.url, options=FAST)
        try:
            return await backend.cancel(job)
        finally:
            await backend.aclose()

    result = run(cancel())
    assert result.outcome is CancelOutcome.UNCONFIRMED
    assert "is not answering — is it running?" in result.message
    assert "may still be running" in result.message and job.backend_state["cancel_requested"]
