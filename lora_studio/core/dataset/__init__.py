"""Core: datasets — scan, captions, import, thumbnails, doctor, buckets, preprocessing, trash.

Pure Python + Pillow + numpy; no Qt. Everything returns plain immutable data and is safe to call
from worker threads. Long operations take `cancel: CancelToken | None` and
`progress: Callable[[done, total], None] | None` (called on the calling thread).

Typical use from a view-model (each call inside `loop.run_in_executor`):

    scan = scan_dataset(folder, cancel=token, progress=cb)          # headers only, ~0.1 ms/file
    badges = quick_findings(scan, DoctorOptions(resolution=1024))   # no decoding, milliseconds
    cache = ThumbnailCache.for_dataset(folder, user_cache / "thumbnails")
    thumb = cache.load(entry.path)                                  # per visible grid row
    report = run_doctor(scan, DoctorOptions(trigger="ohwx", batch_size=4), cancel=token)
    fixes = apply_fixes(folder, selected_findings, FixOptions(background=(255, 255, 255)))
    batch = Trash(folder).move_to_trash([entry.path]); Trash(folder).restore(batch.id)
    imported = import_sources(folder, [Path("photos.zip")], cancel=token, progress=cb)
    prepared = prepare_dataset(folder, out_folder, PrepareOptions(format="jpg"), cancel=token)
    plan = plan_buckets(scan.entries, BucketSettings(1024)); plan.assignments[path].crop

Modules: `scan`/`models` (ImageEntry, DatasetScan), `captions`, `sidecar` (the `.lorastudio`
folder and manifest), `trash`, `thumbnails`, `buckets`, `checks`/`doctor`/`findings`/`fixes`,
`importer`/`archive`/`video`, `preprocess`, `formats`/`imaging` (Pillow helpers), `phash`,
`tokens`, `concurrency`.
"""

from lora_studio.core.dataset.archive import ImportLimits
from lora_studio.core.dataset.buckets import (
    BucketAssignment,
    BucketPlan,
    BucketSelector,
    BucketSettings,
    make_bucket_resolutions,
    plan_buckets,
)
from lora_studio.core.dataset.captions import (
    CaptionText,
    caption_path_for,
    read_caption,
    read_caption_for,
    write_caption,
)
from lora_studio.core.dataset.checks import DoctorOptions, quick_findings
from lora_studio.core.dataset.concurrency import CancelToken, ProgressCallback
from lora_studio.core.dataset.doctor import DoctorReport, run_doctor
from lora_studio.core.dataset.findings import Finding, Fix, Kind, Severity
from lora_studio.core.dataset.fixes import FixOptions, FixReport, FixResult, apply_fixes
from lora_studio.core.dataset.formats import IMAGE_EXTENSIONS, heif_available
from lora_studio.core.dataset.importer import (
    ImportedFile,
    ImportProblem,
    ImportReport,
    import_sources,
)
from lora_studio.core.dataset.models import DatasetScan, ImageEntry, ScanProblem
from lora_studio.core.dataset.preprocess import PrepareOptions, PrepareReport, prepare_dataset
from lora_studio.core.dataset.scan import scan_dataset
from lora_studio.core.dataset.sidecar import SIDECAR_NAME, DatasetManifest, Sidecar, is_sidecar_path
from lora_studio.core.dataset.thumbnails import (
    Thumbnail,
    ThumbnailCache,
    ThumbnailOutcome,
    generate_thumbnails,
    make_thumbnail,
)
from lora_studio.core.dataset.trash import RestoreReport, Trash, TrashBatch
from lora_studio.core.dataset.video import pyav_available

__all__ = [
    "IMAGE_EXTENSIONS",
    "SIDECAR_NAME",
    "BucketAssignment",
    "BucketPlan",
    "BucketSelector",
    "BucketSettings",
    "CancelToken",
    "CaptionText",
    "DatasetManifest",
    "DatasetScan",
    "DoctorOptions",
    "DoctorReport",
    "Finding",
    "Fix",
    "FixOptions",
    "FixReport",
    "FixResult",
    "ImageEntry",
    "ImportLimits",
    "ImportProblem",
    "ImportReport",
    "ImportedFile",
    "Kind",
    "PrepareOptions",
    "PrepareReport",
    "ProgressCallback",
    "RestoreReport",
    "ScanProblem",
    "Severity",
    "Sidecar",
    "Thumbnail",
    "ThumbnailCache",
    "ThumbnailOutcome",
    "Trash",
    "TrashBatch",
    "apply_fixes",
    "caption_path_for",
    "generate_thumbnails",
    "heif_available",
    "import_sources",
    "is_sidecar_path",
    "make_bucket_resolutions",
    "make_thumbnail",
    "plan_buckets",
    "prepare_dataset",
    "pyav_available",
    "quick_findings",
    "read_caption",
    "read_caption_for",
    "run_doctor",
    "scan_dataset",
    "write_caption",
]
