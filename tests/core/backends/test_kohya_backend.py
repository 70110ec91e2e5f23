"""The kohya backend against the fake `train_network.py` that replays real sd-scripts recordings:
progress, loss and checkpoints from both streams, the exit-0 "No data found" failure, errors in
kohya's words, NaN loss, a killed or vanished trainer, cancel, and the metadata's truth."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lora_studio.core.backends.kohya.backend import KohyaBackend
from lora_studio.core.backends.kohya.entry import KohyaSettings
from lora_studio.core.backends.kohya.process import pid_alive
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.jobs import (
    Checkpoint,
    Finished,
    Job,
    JobStatus,
    JobStore,
    Loss,
    Progress,
    Sample,
    StatusChanged,
)
from lora_studio.core.training.dataset_input import load_training_dataset
from lora_studio.core.training.runner import JobRunner
from lora_studio.core.weights import read_header, read_metadata
from tests.e2e.test_cli_train_comfyui import make_dataset
from tests.fakes.tiny_checkpoint import write_checkpoint

FAKE = Path(__file__).resolve().parents[2] / "fakes" / "fake_kohya"


@pytest.fixture(autouse=True)
def no_trainer_left_behind(tmp_path: Path) -> Iterator[None]:
    """A test that fails halfway must not leave its fake trainer running."""
    yield
    for pid_file in tmp_path.glob("runs/*/launcher.pid"):
        with contextlib.suppress(OSError, ValueError):
            os.killpg(int(pid_file.read_text()), signal.SIGKILL)


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return write_checkpoint(tmp_path / "models" / "sd15.safetensors")


def kohya(tmp_path: Path, **overrides: Any) -> KohyaBackend:
    settings = KohyaSettings(
        sd_scripts=str(FAKE),
        python=sys.executable,
        work_dir=str(tmp_path / "runs"),
        cancel_grace_seconds=2.0,
        **overrides,
    )
    return KohyaBackend(settings, poll_interval=0.05)


def training_config(model: Path, **overrides: Any) -> TrainingConfig:
    values: dict[str, Any] = {
        "base_model_family": "sd15",
        "base_model": str(model),
        "rank": 8,
        "alpha": 4.0,
        "max_steps": 6,
        "resolution": 512,
        "output_name": "hero",
        "trigger_word": "ohwx",
        "seed": 7,
        "mixed_precision": "bf16",
        "optimizer": "AdamW",
    }
    values.update(overrides)
    return TrainingConfig(**values)


def run_job(
    tmp_path: Path,
    model: Path,
    env: dict[str, str] | None = None,
    backend: KohyaBackend | None = None,
    **overrides: Any,
) -> tuple[Job, list[Any], JobStore, KohyaBackend]:
    folder = make_dataset(tmp_path / "data")
    config = training_config(model, **overrides)
    dataset = load_training_dataset(folder, config)
    backend = backend or kohya(tmp_path)
    store = JobStore(tmp_path / "jobs.db")
    events: list[Any] = []
    old = {key: os.environ.get(key) for key in (env or {})}
    os.environ.update(env or {})
    try:

        async def go() -> Job:
            runner = JobRunner(store, backend, flush_interval_s=0.01)
            job = Job(name="hero", backend="kohya", dataset_path=str(folder), config=config)
            job = await runner.submit(job, dataset)
            return await runner.follow(
                job, tmp_path / "out", dataset=dataset, on_event=events.append
            )

        final = asyncio.run(asyncio.wait_for(go(), 60))
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return final, events, store, backend


class EventReached:
    """An `on_event` hook that wakes a waiting test once the job emits a matching event."""

    def __init__(self, test: Callable[[Any], bool]) -> None:
        self.test = test
        self.event = asyncio.Event()

    def note(self, event: Any) -> None:
        if self.test(event):
            self.event.set()

    async def wait(self) -> None:
        await self.event.wait()


def test_a_run_streams_progress_loss_checkpoints_and_delivers_the_lora(
    tmp_path: Path, model: Path
) -> None:
    argv_file = tmp_path / "argv.json"
    final, events, store, _ = run_job(tmp_path, model, {"FAKE_KOHYA_ARGV": str(argv_file)})
    assert final.status is JobStatus.COMPLETED, final.error
    steps = [e.step for e in events if isinstance(e, Progress)]
    assert steps[-1] == 6 and steps == sorted(steps)
    assert [e.total for e in events if isinstance(e, Progress)][-1] == 6
    losses = [e for e in events if isinstance(e, Loss)]
    assert [(e.step, round(e.value, 2)) for e in losses] == list(
        enumerate([1.19, 1.09, 1.02, 1.1, 1.09, 1.09], start=1)
    )
    assert [e.step for e in events if isinstance(e, Checkpoint)][:2] == [3, 6]
    [output] = final.outputs
    path = Path(output)
    assert path.parent == tmp_path / "out" and path.name == "hero.safetensors"
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    # Metadata tells the truth: kohya's own ss_* (from the arguments it ran) stay, ours are added.
    argv = json.loads(argv_file.read_text())
    assert argv[0] == "train_network.py"
    flags = dict(zip(argv[1::2], argv[2::2], strict=False))
    metadata = read_metadata(path)
    assert metadata["ss_network_dim"] == flags["--network_dim"] == "8"
    assert float(metadata["ss_network_alpha"]) == float(flags["--network_alpha"]) == 4.0
    assert metadata["ss_seed"] == flags["--seed"] == "7"
    assert metadata["ss_mixed_precision"] == flags["--mixed_precision"] == "bf16"
    assert metadata["lorastudio.job_id"] == final.id
    assert metadata["modelspec.trigger_phrase"] == "ohwx" or "ohwx" in json.dumps(metadata)
    header = read_header(path)
    downs = [t for name, t in header.tensors.items() if name.endswith("lora_down.weight")]
    assert downs and all(t.shape[0] == 8 for t in downs)
    # The dataset TOML carries the folder with its repeats; min bucket derived ≤ resolution.
    toml = (Path(final.backend_state["run_dir"]) / "dataset.toml").read_text()
    assert "num_repeats = " in toml and "resolution = 512" in toml
    assert store.loss_series(final.id)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_no_data_found_exits_0_but_fails_with_the_reason(tmp_path: Path, model: Path) -> None:
    final, _, _, _ = run_job(tmp_path, model, {"FAKE_KOHYA_RUN": "D_fail_norepeat"})
    assert final.status is JobStatus.FAILED
    assert "No data found" in (final.error or "")


@pytest.mark.parametrize(
    ("run", "words"),
    [
        ("E_fail_corrupt", "UnidentifiedImageError"),
        ("O_fail_badarg", "unrecognized arguments: --network_dimm"),
    ],
)
def test_trainer_errors_come_back_in_kohyas_words(
    tmp_path: Path, model: Path, run: str, words: str
) -> None:
    final, _, _, _ = run_job(tmp_path, model, {"FAKE_KOHYA_RUN": run})
    assert final.status is JobStatus.FAILED and words in (final.error or "")


def test_nan_loss_stops_the_run_with_a_reason(tmp_path: Path, model: Path) -> None:
    final, _, _, _ = run_job(tmp_path, model, {"FAKE_KOHYA_FAULT": "nan"})
    assert final.status is JobStatus.FAILED
    assert "NaN at step 3" in (final.error or "")


def test_missing_output_file_fails_and_keeps_the_checkpoint(tmp_path: Path, model: Path) -> None:
    final, _, _, _ = run_job(tmp_path, model, {"FAKE_KOHYA_FAULT": "missing_output"})
    assert final.status is JobStatus.FAILED
    assert "hero.safetensors is missing" in (final.error or "")
    kept = sorted(p.name for p in (tmp_path / "out").glob("*.safetensors"))
    assert kept == ["hero_step6.safetensors"]


def test_a_killed_trainer_fails_with_the_signal_and_keeps_its_checkpoint(
    tmp_path: Path, model: Path
) -> None:
    final, _, _, _ = run_job(tmp_path, model, {"FAKE_KOHYA_FAULT": "killed"})
    assert final.status is JobStatus.FAILED
    assert "signal 9" in (final.error or "") and "step 3" in (final.error or "")
    assert (tmp_path / "out" / "hero_step3.safetensors").exists()


def test_cancel_terminates_the_process_group_and_keeps_checkpoints(
    tmp_path: Path, model: Path
) -> None:
    folder = make_dataset(tmp_path / "data")
    config = training_config(model)
    dataset = load_training_dataset(folder, config)
    backend = kohya(tmp_path)
    store = JobStore(tmp_path / "jobs.db")
    os.environ["FAKE_KOHYA_FAULT"] = "hang"
    try:

        async def go() -> tuple[Job, str]:
            runner = JobRunner(store, backend, flush_interval_s=0.01)
            job = await runner.submit(
                Job(name="hero", backend="kohya", dataset_path=str(folder), config=config),
                dataset,
            )
            step4 = EventReached(lambda e: isinstance(e, Progress) and e.step >= 4)
            follower = asyncio.ensure_future(
                runner.follow(job, tmp_path / "out", on_event=step4.note)
            )
            await step4.wait()
            result = await runner.cancel(job.id)
            return await asyncio.wait_for(follower, 30), result.message

        final, message = asyncio.run(asyncio.wait_for(go(), 60))
    finally:
        os.environ.pop("FAKE_KOHYA_FAULT")
    assert "Stopped the kohya trainer" in message
    assert final.status is JobStatus.CANCELLED
    assert not pid_alive(int(final.backend_state["pid"]))
    assert (tmp_path / "out" / "hero_step3.safetensors").exists()


def test_a_run_whose_process_vanished_is_lost_with_a_reason(tmp_path: Path, model: Path) -> None:
    """Re-attach after a restart: the launcher is gone and left no exit status."""
    store = JobStore(tmp_path / "jobs.db")
    run_dir = tmp_path / "runs" / "gone"
    (run_dir / "output").mkdir(parents=True)
    (run_dir / "stdout.log").write_text("saving checkpoint: /x/hero-step00000003.safetensors\n")
    job = store.add(
        Job(
            name="hero",
            backend="kohya",
            dataset_path=str(tmp_path),
            config=training_config(model),
            backend_state={"run_dir": str(run_dir), "pid": 2**22 + 12345, "output_name": "hero"},
        )
    )
    job = store.record_event(job.id, StatusChanged(JobStatus.RUNNING))
    final = asyncio.run(JobRunner(store, kohya(tmp_path)).follow(job, tmp_path / "out"))
    assert final.status is JobStatus.LOST
    assert "left no exit status" in (final.error or "")


def test_check_explains_a_missing_install_and_probes_the_python(tmp_path: Path) -> None:
    missing = KohyaBackend(KohyaSettings(sd_scripts=str(tmp_path / "nope")))
    result = asyncio.run(missing.check())
    assert not result.available and "does not exist" in result.diagnosis
    unset = asyncio.run(KohyaBackend(KohyaSettings()).check())
    assert "--sd-scripts" in unset.diagnosis
    probed = asyncio.run(kohya(tmp_path).check())
    # The test venv has no torch: that is a sentence, not a crash.
    assert ("PyTorch" in probed.diagnosis) or probed.available


def test_finished_event_names_the_file_in_the_run_folder(tmp_path: Path, model: Path) -> None:
    final, events, _, _ = run_job(tmp_path, model)
    assert not any(isinstance(e, Finished) for e in events[:-1])
    assert Path(final.backend_state["run_dir"], "output", "hero.safetensors").exists()


def test_sample_prompts_are_rendered_by_kohya_and_reported(tmp_path: Path, model: Path) -> None:
    argv_file = tmp_path / "argv.json"
    final, events, _, _ = run_job(
        tmp_path,
        model,
        {"FAKE_KOHYA_ARGV": str(argv_file)},
        sample_prompts=["ohwx, portrait", "ohwx, in a garden"],
    )
    assert final.status is JobStatus.COMPLETED, final.error
    argv = json.loads(argv_file.read_text())
    assert "--sample_at_first" in argv
    assert argv[argv.index("--sample_every_n_steps") + 1] == "1"
    prompts = Path(argv[argv.index("--sample_prompts") + 1]).read_text().splitlines()
    assert prompts == [
        "ohwx, portrait --w 512 --h 512 --d 7",
        "ohwx, in a garden --w 512 --h 512 --d 7",
    ]
    samples = [e for e in events if isinstance(e, Sample)]
    assert [(s.step, s.prompt, s.with_lora) for s in samples[:2]] == [
        (0, "ohwx, portrait", False),
        (0, "ohwx, in a garden", False),
    ]
    assert {s.step for s in samples} == {0, 3, 6} and all(Path(s.path).is_file() for s in samples)


def test_a_running_job_is_followed_again_by_a_new_app_session(tmp_path: Path, model: Path) -> None:
    """The app quits mid-run; the trainer goes on; a new backend instance (a restart) reads the
    logs from where the record says and completes the job without repeating events."""
    folder = make_dataset(tmp_path / "data")
    config = training_config(model)
    dataset = load_training_dataset(folder, config)
    store = JobStore(tmp_path / "jobs.db")
    os.environ["FAKE_KOHYA_TIME_SCALE"] = "0.1"
    try:

        async def first_session() -> Job:
            runner = JobRunner(store, kohya(tmp_path), flush_interval_s=0.01)
            job = await runner.submit(
                Job(name="hero", backend="kohya", dataset_path=str(folder), config=config),
                dataset,
            )
            loss2 = EventReached(lambda e: isinstance(e, Loss) and e.step >= 2)
            follower = asyncio.ensure_future(
                runner.follow(job, tmp_path / "out", on_event=loss2.note)
            )
            await loss2.wait()
            follower.cancel()  # the app quits; the trainer keeps running
            await asyncio.gather(follower, return_exceptions=True)
            return store.get(job.id)

        job = asyncio.run(asyncio.wait_for(first_session(), 60))
        assert job.status is JobStatus.RUNNING and pid_alive(int(job.backend_state["pid"]))
        before = [point.step for point in store.loss_series(job.id)]
        final = asyncio.run(
            asyncio.wait_for(JobRunner(store, kohya(tmp_path)).follow(job, tmp_path / "out"), 60)
        )
    finally:
        os.environ.pop("FAKE_KOHYA_TIME_SCALE")
    assert final.status is JobStatus.COMPLETED, final.error
    steps = [point.step for point in store.loss_series(final.id)]
    assert steps[: len(before)] == before and steps == sorted(set(steps)) and steps[-1] == 6
    assert (tmp_path / "out" / "hero.safetensors").is_file()


def test_cancel_from_another_process_ends_the_followed_job_as_cancelled(
    tmp_path: Path, model: Path
) -> None:
    """`jobs cancel` in a terminal (its own backend and runner) while the app follows the job."""
    folder = make_dataset(tmp_path / "data")
    config = training_config(model)
    dataset = load_training_dataset(folder, config)
    store = JobStore(tmp_path / "jobs.db")
    os.environ["FAKE_KOHYA_FAULT"] = "hang"
    try:

        async def go() -> Job:
            app = JobRunner(store, kohya(tmp_path), flush_interval_s=0.01)
            job = await app.submit(
                Job(name="hero", backend="kohya", dataset_path=str(folder), config=config),
                dataset,
            )
            step4 = EventReached(lambda e: isinstance(e, Progress) and e.step >= 4)
            follower = asyncio.ensure_future(app.follow(job, tmp_path / "out", on_event=step4.note))
            await step4.wait()
            terminal = JobRunner(store, kohya(tmp_path))  # another process's runner
            await terminal.cancel(job.id)
            return await asyncio.wait_for(follower, 30)

        final = asyncio.run(asyncio.wait_for(go(), 60))
    finally:
        os.environ.pop("FAKE_KOHYA_FAULT")
    assert final.status is JobStatus.CANCELLED, final.error


def test_kohya_samples_land_beside_the_lora_and_are_recorded(tmp_path: Path, model: Path) -> None:
    """Issue 12's contract for every engine: samples in `out/NAME_samples/`, named like the
    rendered ones, announced with that path and recorded with the job; the run folder keeps its
    own copies."""
    prompts = ["ohwx, portrait", "ohwx, in a garden"]
    final, events, store, _ = run_job(tmp_path, model, sample_prompts=prompts)
    assert final.status is JobStatus.COMPLETED, final.error
    folder = tmp_path / "out" / "hero_samples"
    samples = [e for e in events if isinstance(e, Sample)]
    assert sorted(Path(s.path).name for s in samples) == [
        "reference_p01.png",
        "reference_p02.png",
        "step000003_p01.png",
        "step000003_p02.png",
        "step000006_p01.png",
        "step000006_p02.png",
    ]
    assert all(Path(s.path).parent == folder and Path(s.path).is_file() for s in samples)
    assert sorted(p.name for p in folder.iterdir()) == sorted(Path(s.path).name for s in samples)
    for sample in samples:  # the prompt's number in the name matches the prompt
        assert Path(sample.path).stem.endswith(f"_p{prompts.index(sample.prompt) + 1:02d}")
    run_samples = list((tmp_path / "runs").glob("*/output/sample/*.png"))
    assert len(run_samples) == len(samples)
    assert {Path(s.path).read_bytes() for s in samples} == {p.read_bytes() for p in run_samples}
    recorded = store.get(final.id).samples
    assert [(s.step, s.path) for s in recorded] == [(s.step, s.path) for s in samples]


def test_fp16_on_a_cpu_runs_in_full_precision_and_says_so(tmp_path: Path, model: Path) -> None:
    # The fake's torch sees no CUDA GPU, as on this machine; a real sd-scripts run with fp16
    # there stops at step 1 ("expected m1 and m2 to have the same dtype").
    argv_file = tmp_path / "argv.json"
    final, _, _, backend = run_job(
        tmp_path, model, {"FAKE_KOHYA_ARGV": str(argv_file)}, mixed_precision="fp16"
    )
    assert final.status is JobStatus.COMPLETED, final.error
    argv = json.loads(argv_file.read_text())
    assert argv[argv.index("--mixed_precision") + 1] == "no"
    # What ran is what the file says.
    assert read_metadata(Path(final.outputs[0]))["ss_mixed_precision"] == "no"
    config = training_config(model, mixed_precision="fp16")
    dataset = load_training_dataset(make_dataset(tmp_path / "again"), config)
    issues = asyncio.run(backend.validate(config, dataset.summary))
    [note] = [i for i in issues if i.field == "mixed_precision"]
    assert not note.is_error and "This run uses full precision" in note.message
