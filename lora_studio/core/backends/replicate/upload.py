"""Core/Replicate: the dataset's way to Replicate — zipped in a worker thread (never on the event
loop, which is the GUI thread in the app), uploaded through the files API, the temporary zip
removed whatever happens. The file's metadata names the job, so it can be recognised in the
account's file list."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from pathlib import Path

from lora_studio.core.backends.base import DatasetSummary
from lora_studio.core.backends.replicate.client import ReplicateClient, UploadedFile
from lora_studio.core.backends.replicate.dataset_zip import MAX_UPLOAD_BYTES, build_dataset_zip

log = logging.getLogger(__name__)


async def upload_dataset(
    client: ReplicateClient,
    job_id: str,
    dataset: DatasetSummary,
    *,
    resolution: int,
    limit: int = MAX_UPLOAD_BYTES,
) -> UploadedFile:
    work = Path(tempfile.mkdtemp(prefix="lorastudio-replicate-"))
    try:
        report = await asyncio.to_thread(
            build_dataset_zip,
            dataset.items,
            work / "dataset.zip",
            resolution=resolution,
            limit=limit,
        )
        if report.downscaled_to:
            log.info(
                "Dataset of job %s re-encoded at %d px to fit Replicate's upload limit",
                job_id,
                report.downscaled_to,
            )
        return await client.upload_file(
            report.path,
            filename=f"lorastudio-{job_id}.zip",
            metadata={"lorastudio_job": job_id},
        )
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
