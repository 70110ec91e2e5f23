"""Core: one follower per job across processes.

`lora-studio train` in a terminal and the GUI started later must not both follow (and record) the
same job: every event would be stored twice. Whoever follows a job holds an OS file lock on
`data_dir/locks/<job id>.lock` (released automatically when the process dies, even on SIGKILL);
re-attach skips jobs whose lock is held by someone else.
"""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock, Timeout


class JobLock:
    """Non-blocking, process-wide ownership of one job."""

    def __init__(self, job_id: str, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(folder / f"{job_id}.lock"), timeout=0)

    def acquire(self) -> bool:
        """True when this process now follows the job; False when another one does."""
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            return False
        return True

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release(force=True)

    @property
    def held(self) -> bool:
        return self._lock.is_locked
