"""The backend (httpx + websockets) and the threaded fake also work on the GUI's qasync loop."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lora_studio.core.backends.base import DatasetSummary
from lora_studio.core.jobs.events import Finished
from lora_studio.core.training.runner import typed_config
from tests.core.backends.comfy_helpers import StandInJob, backend_for, collect, config, keep_state
from tests.fakes.fake_comfyui import FakeComfyUI


def test_a_training_runs_on_the_qasync_loop(
    qloop: asyncio.AbstractEventLoop,
    qtbot,
    fake: FakeComfyUI,
    dataset: DatasetSummary,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    job = StandInJob("job-qt", config(max_steps=6))

    async def go():  # type: ignore[no-untyped-def]
        backend = backend_for(fake)
        try:
            assert (await backend.check()).available
            await backend.submit(job, typed_config(job), dataset, keep_state(job))
            events = await collect(backend, job)
            return events, await backend.download(job, typed_config(job), tmp_path)
        finally:
            await backend.aclose()

    task = qloop.create_task(go())
    qtbot.waitUntil(task.done, timeout=20_000)
    events, files = task.result()
    assert isinstance(events[-1], Finished) and files[0].exists()
