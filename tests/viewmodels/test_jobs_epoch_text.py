"""The Jobs page's progress line names the epoch of a running job beside the step (as OneTrainer's
epoch bar and kohya's console do), only when the length came from the epochs."""

from __future__ import annotations

from lora_studio.core.jobs import Job, JobStatus
from lora_studio.viewmodels.jobs_live import epoch_text, progress_text


def _job(status: JobStatus = JobStatus.RUNNING, **config: object) -> Job:
    return Job(
        name="ink", backend="comfyui", dataset_path="/data/ink", config=config, status=status
    )


def test_the_epoch_follows_the_step() -> None:
    job = _job(epochs=10)
    assert epoch_text(job, 0, 600) == "epoch 1 of 10"
    assert epoch_text(job, 59, 600) == "epoch 1 of 10"
    assert epoch_text(job, 60, 600) == "epoch 2 of 10"
    assert epoch_text(job, 340, 600) == "epoch 6 of 10"
    assert epoch_text(job, 600, 600) == "epoch 10 of 10"
    assert epoch_text(job, 700, 600) == "epoch 10 of 10"  # a backend that overshoots
    assert progress_text(job, None, 0.1355).startswith("step 0 · ")  # no total yet: no epoch


def test_in_the_progress_line() -> None:
    job = _job(epochs=10)
    job.progress.step, job.progress.total = 340, 1000
    assert progress_text(job, None, 0.1355) == "step 340 of 1000 · epoch 4 of 10 · loss 0.1355"


def test_left_out_when_it_would_be_a_guess_or_says_nothing() -> None:
    assert epoch_text(_job(epochs=10, max_steps=500), 100, 500) == ""  # steps decide the length
    assert epoch_text(_job(epochs=1), 100, 500) == ""
    assert epoch_text(_job(), 100, 500) == ""  # a job recorded without its settings
    assert epoch_text(_job(epochs=10), 100, None) == ""
    assert epoch_text(_job(JobStatus.COMPLETED, epochs=10), 500, 500) == ""
