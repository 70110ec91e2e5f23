"""How backend events change a job (pure logic, no database)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from lora_studio.core.errors import JobError
from lora_studio.core.jobs import (
    Checkpoint,
    Failed,
    Finished,
    Job,
    JobStatus,
    Log,
    Loss,
    Progress,
    StatusChanged,
)
from lora_studio.core.jobs.apply import MAX_LOG_LINE_CHARS, NOTE_STREAM, apply_events

AT = datetime(2025, 5, 1, 12, tzinfo=UTC)


def test_progress_starts_a_queued_job_and_keeps_the_known_total(
    make_job: Callable[..., Job],
) -> None:
    job = make_job()
    apply_events(job, [Progress(3, 100), Progress(4)], AT)
    assert job.status is JobStatus.RUNNING and job.started_at == AT
    assert (job.progress.step, job.progress.total) == (4, 100)


def test_loss_and_logs_become_rows(make_job: Callable[..., Job]) -> None:
    job = make_job()
    out = apply_events(job, [Loss(1, 0.3), Loss(2, float("inf")), Log("hello", "stdout")], AT)
    assert [(p.step, p.value) for p in out.loss_points[:1]] == [(1, 0.3)]
    assert math.isnan(out.loss_points[1].value)
    assert [(line.stream, line.text) for line in out.log_lines] == [("stdout", "hello")]


def test_long_log_lines_are_clipped_and_secrets_masked(make_job: Callable[..., Job]) -> None:
    job = make_job()
    text = "Authorization: Bearer abcdefghijklmnop " + "x" * (2 * MAX_LOG_LINE_CHARS)
    out = apply_events(job, [Log(text)], AT)
    line = out.log_lines[0].text
    assert "abcdefghijklmnop" not in line
    assert len(line) < MAX_LOG_LINE_CHARS + 100 and "characters cut" in line


def test_checkpoints_are_kept_once_each(make_job: Callable[..., Job]) -> None:
    job = make_job()
    apply_events(job, [Checkpoint("a.safetensors", step=500), Checkpoint("a.safetensors")], AT)
    assert [(c.location, c.step) for c in job.checkpoints] == [("a.safetensors", 500)]


def test_finished_completes_with_outputs_and_full_progress(make_job: Callable[..., Job]) -> None:
    job = make_job()
    apply_events(job, [Progress(90, 100), Finished(("lora.safetensors",))], AT)
    assert job.status is JobStatus.COMPLETED and job.finished_at == AT
    assert job.outputs == ["lora.safetensors"] and job.progress.step == 100


def test_finished_on_a_queued_job_passes_through_running(make_job: Callable[..., Job]) -> None:
    job = make_job()
    apply_events(job, [Finished(("w.safetensors",))], AT)
    assert [t.to_status for t in job.history] == [JobStatus.RUNNING, JobStatus.COMPLETED]


def test_failed_keeps_the_message_and_logs_the_detail(make_job: Callable[..., Job]) -> None:
    job = make_job()
    out = apply_events(job, [Progress(1, 10), Failed("Out of memory", "CUDA OOM at step 1")], AT)
    assert job.status is JobStatus.FAILED and job.error == "Out of memory"
    assert job.history[-1].message == "Out of memory"
    assert [(line.stream, line.text) for line in out.log_lines] == [
        ("stderr", "CUDA OOM at step 1")
    ]


def test_late_failure_after_cancel_is_logged_not_raised(make_job: Callable[..., Job]) -> None:
    job = make_job()
    job.transition(JobStatus.RUNNING)
    job.transition(JobStatus.CANCELLED, "cancelled by the artist")
    out = apply_events(job, [Failed("interrupted"), Finished(("x",))], AT)
    assert job.status is JobStatus.CANCELLED and job.error is None and job.outputs == []
    assert [line.stream for line in out.log_lines] == [NOTE_STREAM, NOTE_STREAM]
    assert "interrupted" in out.log_lines[0].text


def test_repeated_status_is_a_no_op(make_job: Callable[..., Job]) -> None:
    job = make_job()
    apply_events(job, [StatusChanged(JobStatus.RUNNING), StatusChanged(JobStatus.RUNNING)], AT)
    assert len(job.history) == 1


def test_finished_sent_twice_on_reattach_is_harmless(make_job: Callable[..., Job]) -> None:
    job = make_job()
    apply_events(job, [Finished(("a",))], AT)
    apply_events(job, [Finished(("a", "b"))], AT)
    assert job.status is JobStatus.COMPLETED and job.outputs == ["a", "b"]


def test_an_illegal_move_from_a_live_job_raises(make_job: Callable[..., Job]) -> None:
    job = make_job()
    job.transition(JobStatus.RUNNING)
    with pytest.raises(JobError):
        apply_events(job, [StatusChanged(JobStatus.QUEUED)], AT)
