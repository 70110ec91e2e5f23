"""ComfyUIBackend end to end against the fake server: check → validate → submit → events →
download, for both node sets, plus upload resizing, logs and re-attach from another "process"."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest
from PIL import Image

from lora_studio.core.backends.base import DatasetSummary, TrainingBackend
from lora_studio.core.backends.comfyui import ComfyUIBackend
from lora_studio.core.backends.files import check_safetensors_file
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.errors import BackendError
from lora_studio.core.jobs.events import Finished, Log, Loss, Progress, StatusChanged
from lora_studio.core.jobs.job import Job
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
    make_dataset,
    run,
)
from tests.fakes.fake_comfyui import FakeComfyUI


def test_backend_satisfies_the_protocol(fake: FakeComfyUI) -> None:
    backend = backend_for(fake)
    assert isinstance(backend, TrainingBackend) and backend.kind == "comfyui"
    assert backend.estimate_cost(config()) is None
    call(backend, "aclose")


def test_check_reports_gpu_version_and_checkpoints(fake: FakeComfyUI) -> None:
    backend = backend_for(fake)
    result = call(backend, "check")
    assert result.available
    assert result.gpu_name == "NVIDIA GeForce RTX 4090" and result.vram_gb == 23.6
    assert result.version == "0.3.64" and result.facts["node_set"] == "0.3.64"
    assert result.checkpoints == ("random_sd15.safetensors", "random_sd15_tiny.safetensors")
    assert result.diagnosis.startswith("Ready: ComfyUI 0.3.64 on NVIDIA GeForce RTX 4090")


def test_check_on_a_cpu_server_warns_and_without_nodes_refuses(fake_factory) -> None:  # type: ignore[no-untyped-def]
    cpu = fake_factory(gpu=False)
    backend = backend_for(cpu)
    result = call(backend, "check")
    assert result.available and result.gpu_name is None
    assert "no GPU" in result.warnings[0]
    bare = fake_factory(node_set="none")
    backend = backend_for(bare)
    result = call(backend, "check")
    assert not result.available and "no LoRA training nodes" in result.diagnosis


def test_check_on_an_unreachable_server() -> None:
    backend = ComfyUIBackend("http://127.0.0.1:9", options=FAST)
    result = call(backend, "check")
    assert not result.available
    assert result.diagnosis == "ComfyUI at 127.0.0.1:9 is not answering — is it running?"


def test_validate_without_a_server_still_checks_the_config(dataset: DatasetSummary) -> None:
    backend = ComfyUIBackend("http://127.0.0.1:9", options=FAST)
    issues = call(backend, "validate", config(base_model_family="flux_dev"), dataset)
    assert issues[0].field == "backend" and not issues[0].is_error
    assert "could not be checked" in issues[0].message
    assert any(i.is_error and i.field == "base_model_family" for i in issues)


def test_validate_reports_what_the_native_trainer_ignores(
    fake: FakeComfyUI, tmp_path: Path
) -> None:
    data = make_dataset(tmp_path / "d", captions=["ohwx a", "", "b", "ohwx c"])
    cfg = config(
        lr_scheduler="cosine",
        optimizer="Lion",
        alpha=8,
        mixed_precision="fp16",
        train_text_encoder=True,
        base_model="nope.safetensors",
        learning_rate=2.0,  # TrainingConfig allows up to 10; ComfyUI's node stops at 1
    )
    backend = backend_for(fake)
    issues = call(backend, "validate", cfg, data)
    errors = {i.field for i in issues if i.severity == "error"}
    warnings = {i.field for i in issues if i.severity == "warning"}
    assert errors == {"dataset", "base_model", "learning_rate"}
    assert {
        "lr_scheduler",
        "optimizer",
        "alpha",
        "mixed_precision",
        "train_text_encoder",
        "trigger_word",
    } <= warnings
    assert any("random_sd15.safetensors" in i.message for i in issues if i.field == "base_model")


def test_flux_and_adaptive_optimizers_are_refused(
    fake: FakeComfyUI, dataset: DatasetSummary
) -> None:
    cfg = config(base_model_family="flux_dev", optimizer="Prodigy", learning_rate=1.0)
    issues = call(backend_for(fake), "validate", cfg, dataset)
    assert {i.field for i in issues if i.is_error} == {"base_model_family", "optimizer"}
    assert "choose AdamW" in next(i.message for i in issues if i.field == "optimizer")


async def train(backend: ComfyUIBackend, job: StandInJob, dataset: DatasetSummary, dest: Path):  # type: ignore[no-untyped-def]
    try:
        await backend.submit(job, typed_config(job), dataset, keep_state(job))
        events = await collect(backend, job)
        files = await backend.download(job, typed_config(job), dest)
        logs = await backend.logs(job)
        return events, files, logs
    finally:
        await backend.aclose()


@pytest.mark.parametrize("node_set", ["0.3.64", "newer"])
def test_happy_path_end_to_end(
    fake_factory, dataset: DatasetSummary, tmp_path: Path, node_set: str
) -> None:  # type: ignore[no-untyped-def]
    fake = fake_factory(node_set=node_set)
    job = StandInJob("job-happy-1", config(max_steps=12, output_name="hero"))
    events, files, logs = run(train(backend_for(fake), job, dataset, tmp_path / "out"))

    assert (
        job.backend_job_id and fake.history[job.backend_job_id]["status"]["status_str"] == "success"
    )
    assert [e for e in events if isinstance(e, StatusChanged)] == [
        StatusChanged(JobStatus.RUNNING, events[0].message)  # type: ignore[union-attr]
    ]
    progress = [e for e in events if isinstance(e, Progress)]
    last = progress[-1]
    assert last == Progress(12, 12, last.rate, last.eta) and last.rate and last.eta == 0.0
    assert [p.step for p in progress] == sorted(p.step for p in progress)
    assert {p.total for p in progress} == {12}
    steps_seen = {p.step for p in progress}
    assert set(range(1, 13)) <= steps_seen  # live per-step progress (logs or progress events)
    losses = [e for e in events if isinstance(e, Loss)]
    assert [loss.step for loss in losses] == list(range(1, 13))
    final = fake.history[job.backend_job_id]["outputs"]
    assert any("text" in output for output in final.values())
    assert (
        isinstance(events[-1], Finished)
        and "lorastudio_jobhappy1_12_steps_00001_" in events[-1].outputs[0]
    )

    graph_logs = [e.text for e in events if isinstance(e, Log) and e.text.startswith("Loss graph")]
    assert len(graph_logs) == 1 and "_loss_" in graph_logs[0] and "type=temp" in graph_logs[0]

    assert [f.name for f in files] == ["hero.safetensors"]
    served = fake.output_dir / "loras" / "lorastudio_jobhappy1_12_steps_00001_.safetensors"
    assert (
        hashlib.sha256(files[0].read_bytes()).digest()
        == hashlib.sha256(served.read_bytes()).digest()
    )
    assert check_safetensors_file(files[0]) == 4  # alpha, down, up, padding
    assert any("Loading images from folder" in line for line in logs)


def test_progress_comes_from_logs_on_0364_and_from_progress_events_on_newer(
    fake_factory,
    dataset: DatasetSummary,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    old = fake_factory(node_set="0.3.64")
    old.faults.logs_route = False  # no console route: only node-level progress + final losses
    job = StandInJob("job-nolog", config(max_steps=12))
    events, _, _ = run(train(backend_for(old), job, dataset, tmp_path / "a"))
    steps = [e.step for e in events if isinstance(e, Progress)]
    assert steps == [0, 12]  # indeterminate within the prompt, then done
    assert [e.step for e in events if isinstance(e, Loss)] == list(range(1, 13))

    newer = fake_factory(node_set="newer")
    newer.faults.logs_route = False
    job = StandInJob("job-newer", config(max_steps=12))
    events, _, _ = run(train(backend_for(newer), job, dataset, tmp_path / "b"))
    assert set(range(1, 13)) <= {e.step for e in events if isinstance(e, Progress)}


def test_one_step_job_saves_its_lora(
    fake: FakeComfyUI, dataset: DatasetSummary, tmp_path: Path
) -> None:
    job = StandInJob("job-one", config(max_steps=1))
    events, files, _ = run(train(backend_for(fake), job, dataset, tmp_path / "out"))
    assert isinstance(events[-1], Finished) and [f.name for f in files] == ["my_lora.safetensors"]
    assert fake.lora_files() == ["lorastudio_jobone_1_steps_00001_.safetensors"]


def test_identical_resubmission_is_never_served_from_cache(
    fake: FakeComfyUI, dataset: DatasetSummary, tmp_path: Path
) -> None:
    """The same config twice trains twice: folder, prefix and seed are per job."""
    for job_id in ("job-a", "job-b"):
        job = StandInJob(job_id, config(max_steps=4))
        events, _, _ = run(train(backend_for(fake), job, dataset, tmp_path / job_id))
        assert isinstance(events[-1], Finished)
    graphs = [h["prompt"][2] for h in fake.history.values()]
    assert graphs[0]["4"]["inputs"]["seed"] != graphs[1]["4"]["inputs"]["seed"]
    assert len(fake.lora_files()) == 2


def test_upload_resizes_mixed_sizes_to_what_each_loader_needs(fake_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sizes = [(640, 480), (300, 900), (512, 512), (1000, 200)]
    data = make_dataset(tmp_path / "mixed", sizes=sizes)
    old = fake_factory(node_set="0.3.64")
    job = StandInJob("job-sq", config(max_steps=2, resolution=256, bucketing=True))
    events, _, _ = run(train(backend_for(old), job, data, tmp_path / "o1"))
    assert isinstance(events[-1], Finished)  # the 0.3.64 loader would fail on mixed sizes
    uploaded = sorted((old.input_dir / "lorastudio" / "jobsq").iterdir())
    assert [p.name for p in uploaded][:2] == ["img_0001.jpg", "img_0001.txt"]
    assert {Image.open(p).size for p in uploaded if p.suffix == ".jpg"} == {(256, 256)}
    assert (
        old.input_dir / "lorastudio" / "jobsq" / "img_0002.txt"
    ).read_text() == "ohwx person, photo 1"

    newer = fake_factory(node_set="newer")
    job = StandInJob(
        "job-bk",
        config(
            max_steps=2, resolution=256, bucketing=True, bucket_reso_steps=32, min_bucket_reso=64
        ),
    )
    run(train(backend_for(newer), job, data, tmp_path / "o2"))
    bucket_sizes = [
        Image.open(p).size for p in sorted((newer.input_dir / "lorastudio" / "jobbk").glob("*.jpg"))
    ]
    assert bucket_sizes[0][0] > bucket_sizes[0][1] and bucket_sizes[1][0] < bucket_sizes[1][1]
    assert all(w % 32 == 0 and h % 32 == 0 for w, h in bucket_sizes)


def test_missing_caption_stops_submit(fake: FakeComfyUI, tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "d", captions=["ohwx a", " ", "ohwx b", "ohwx c"])
    backend = backend_for(fake)
    job = StandInJob("job-cap", config())
    with pytest.raises(BackendError, match="no caption"):
        call(backend, "submit", job, typed_config(job), data, keep_state(job))
    assert not fake.history and not job.backend_state


def test_reattach_from_a_new_backend_instance_after_an_app_restart(
    fake_factory,
    dataset: DatasetSummary,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    fake = fake_factory(steps_per_second=150)
    job = StandInJob("job-re", config(max_steps=60))

    async def first_session() -> str:
        backend = backend_for(fake)
        await backend.submit(job, typed_config(job), dataset, keep_state(job))
        async for event in backend.events(job, typed_config(job)):
            if isinstance(event, Progress) and event.step >= 5:
                break  # the app quits mid-training
        await backend.aclose()
        return backend.client_id

    old_client_id = run(first_session())
    job.status = JobStatus.RUNNING
    saved = dataclasses.replace(job, backend_state=dict(job.backend_state))  # from the job store
    second = backend_for(fake)
    assert second.client_id != old_client_id
    events, files, _ = run(train_reattached(second, saved, tmp_path / "out"))
    assert isinstance(events[-1], Finished) and files
    assert not any(isinstance(e, StatusChanged) for e in events)  # still RUNNING: no repeat
    # The re-attached stream listened on the id the prompt was queued with.
    assert [cid for cid, _ in fake.ws_connects].count(old_client_id) == 2


async def train_reattached(backend: ComfyUIBackend, job: StandInJob, dest: Path):  # type: ignore[no-untyped-def]
    try:
        events = await collect(backend, job)
        return events, await backend.download(job, typed_config(job), dest), None
    finally:
        await backend.aclose()


def test_websocket_sends_no_origin_header(
    fake: FakeComfyUI, dataset: DatasetSummary, tmp_path: Path
) -> None:
    job = StandInJob("job-origin", config(max_steps=2))
    run(train(backend_for(fake), job, dataset, tmp_path / "out"))
    assert fake.ws_connects and all("Origin" not in headers for _, headers in fake.ws_connects)


def test_proxy_token_reaches_http_and_websocket(
    fake: FakeComfyUI, dataset: DatasetSummary, tmp_path: Path
) -> None:
    fake.faults.require_token = "tok-123456789"
    without = backend_for(fake)
    result = call(without, "check")
    assert not result.available and "access credentials" in result.diagnosis
    backend = backend_for(fake, headers={"Authorization": "Bearer tok-123456789"})
    events, files, _ = run(
        train(backend, StandInJob("job-tok", config(max_steps=3)), dataset, tmp_path / "o")
    )
    assert isinstance(events[-1], Finished) and files
    assert not any(isinstance(e, Log) and "tok-123456789" in e.text for e in events)
    assert fake.ws_connects  # the websocket got through the token check too
    in_query = backend_for(fake, params={"token": "tok-123456789"})
    events, files, _ = run(
        train(in_query, StandInJob("job-tokq", config(max_steps=3)), dataset, tmp_path / "q")
    )
    assert isinstance(events[-1], Finished) and len(fake.ws_connects) == 2
    assert not any("tok-123456789" in getattr(e, "location", "") for e in events)


def test_state_survives_the_real_job_record(
    fake: FakeComfyUI, dataset: DatasetSummary, tmp_path: Path
) -> None:
    """backend_state goes through Job's validation (which drops credential-like keys) and the
    store's JSON round trip, and still re-attaches."""
    job = Job(
        name="real",
        backend="comfyui",
        dataset_path=str(dataset.folder),
        config=TrainingConfig.model_validate(config(max_steps=6)),
    )
    call(backend_for(fake), "submit", job, typed_config(job), dataset, keep_state(job))
    stored = Job.model_validate_json(job.record_json())
    assert stored.backend_state == job.backend_state and stored.backend_state["chunks"]

    async def follow():  # type: ignore[no-untyped-def]
        backend = backend_for(fake)
        try:
            events = [event async for event in backend.events(stored, typed_config(stored))]
            return events, await backend.download(stored, typed_config(stored), tmp_path / "out")
        finally:
            await backend.aclose()

    events, files = run(follow())
    assert isinstance(events[-1], Finished) and files[0].name == "my_lora.safetensors"
