"""Core/dataset: import pictures into a dataset — files, folders, zip archives, video frames.

`import_plan.py` works out what the sources hold (no writes); this module writes it in.

Rules:
- Copy, never move or modify: originals are only read.
- Everything lands flat in one folder of the dataset (the top level, or e.g. `10_ohwx`), with a
  unique name (`import_files.Destination`: `_2`, `_3`, … when the stem is taken).
- A same-stem `.txt` beside a picture (in its folder or the same archive folder) comes along and
  is written as UTF-8 under the picture's new stem.
- Only regular files are read (a pipe or a device named like a picture is refused, never opened
  for a blocking read), and every file is capped at `ImportLimits.max_member_bytes`, as archive
  members are.
- A picture and its caption arrive together: both are written to hidden temporary files in the
  destination (fsynced), the picture is checked (header), then both are renamed into place, the
  picture first. A failure never leaves a half-written file; a `kill -9` between the two renames
  can leave the picture alone, and the next run completes it.
- A picture whose exact bytes are already in the destination folder is skipped (reported), and
  its caption is added if it has none — so an import run again after a crash or by mistake adds
  no `_2` duplicates and completes what was cut short.
- Pictures are decoded as the doctor does; a truncated or damaged one is imported with a warning
  (the same sentence the doctor gives), so the artist hears about it at once.
  Video frames are JPEG q95 named `<video>_<milliseconds>ms.jpg`.
- Per-file problems (not a picture, unreadable, unsafe archive member, a name that cannot be
  written there) are reported by name and the import goes on. A destination that cannot be
  written (full disk, read-only) stops the import with a StorageError naming the file; the files
  imported before it are complete.
- Folders are walked recursively without following symlinked folders (no loops); hidden files and
  folders (such as another dataset's `.lorastudio`) are skipped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path
from typing import IO

from PIL import Image

from lora_studio.core.atomic_io import TEMP_MARK
from lora_studio.core.dataset.archive import ImportLimits
from lora_studio.core.dataset.captions import decode_caption
from lora_studio.core.dataset.concurrency import CancelToken, ProgressCallback, is_cancelled, report
from lora_studio.core.dataset.doctor import inspect_pixels
from lora_studio.core.dataset.formats import (
    CAPTION_EXTENSION,
    IMAGE_EXTENSIONS,
    describe_image_error,
    open_image,
)
from lora_studio.core.dataset.imaging import encode
from lora_studio.core.dataset.import_files import Destination, Staged, safe_file_name
from lora_studio.core.dataset.import_plan import (
    ImportedFile,
    ImportJob,
    ImportProblem,
    ImportReport,
    ImportState,
    plan_sources,
)
from lora_studio.core.dataset.video import extract_frames
from lora_studio.core.errors import DatasetError, StorageError

__all__ = [
    "ImportLimits",
    "ImportProblem",
    "ImportReport",
    "ImportedFile",
    "import_sources",
    "safe_file_name",
]


_MAX_CAPTION_BYTES = 1 << 20  # a caption is a line or two; a megabyte is not a caption
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def import_sources(
    dataset: Path,
    sources: Sequence[Path],
    *,
    folder: str | None = None,
    frame_interval: float = 2.0,
    limits: ImportLimits | None = None,
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Copy pictures from `sources` into `dataset` (or its subfolder `folder`)."""
    limits = limits or ImportLimits()
    root = Path(dataset).expanduser().absolute()
    dest = root / _check_folder(folder) if folder else root
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"Could not create the folder {dest}: {exc.strerror or exc}.", detail=str(exc)
        ) from exc
    state = ImportState(Destination(dest))
    archives: list[zipfile.ZipFile] = []
    try:
        jobs = plan_sources(root, [Path(s).expanduser() for s in sources], state, archives, limits)
        for done, job in enumerate(jobs, start=1):
            if is_cancelled(cancel):
                return _report(state, cancelled=True)
            _run(job, state, frame_interval, limits, cancel)
            report(progress, done, len(jobs))
    finally:
        for archive in archives:
            archive.close()
    return _report(state, cancelled=False)


def _report(state: ImportState, *, cancelled: bool) -> ImportReport:
    return ImportReport(
        tuple(state.imported),
        tuple(state.failed),
        tuple(state.skipped),
        cancelled,
        tuple(state.warnings),
    )


def _check_folder(folder: str) -> str:
    if not folder or folder.startswith(".") or "/" in folder or "\\" in folder or folder in ("..",):
        raise DatasetError(f"{folder!r} is not a valid folder name inside a dataset.")
    return folder


def _run(
    job: ImportJob,
    state: ImportState,
    interval: float,
    limits: ImportLimits,
    cancel: CancelToken | None,
) -> None:
    try:
        if job.kind == "file" and job.path is not None:
            with _open_regular(job.path) as reader:
                caption = _read_source_caption(state, job.label, job.caption)
                _import_picture(state, job.label, job.path.name, reader, caption, limits)
        elif job.kind == "zip" and job.archive is not None and job.member is not None:
            caption = None
            if job.caption_member is not None:
                if job.caption_member.file_size <= _MAX_CAPTION_BYTES:
                    caption = job.archive.read(job.caption_member)
                else:
                    _caption_too_big(state, job.label, job.caption_member.filename)
            with job.archive.open(job.member) as reader:
                _import_picture(
                    state,
                    job.label,
                    os.path.basename(job.member.filename.replace("\\", "/")),
                    reader,
                    caption,
                    limits,
                )
        elif job.kind == "video" and job.path is not None:
            with _open_regular(job.path):
                pass  # a pipe or device named like a video is refused, never handed to the decoder
            _import_video(state, job.label, job.path, job.path.stem, interval, limits, cancel)
        elif job.kind == "zipvideo" and job.archive is not None and job.member is not None:
            folder = state.destination.folder
            prefix = f"{TEMP_MARK}{os.getpid()}-"
            with tempfile.TemporaryDirectory(prefix=prefix, dir=folder) as tmp:
                extracted = Path(tmp) / "video"
                with job.archive.open(job.member) as reader, open(extracted, "wb") as out:
                    shutil.copyfileobj(reader, out, 1 << 20)
                stem = Path(os.path.basename(job.member.filename.replace("\\", "/"))).stem
                _import_video(state, job.label, extracted, stem, interval, limits, cancel)
    except StorageError:
        raise
    except DatasetError as exc:
        state.failed.append(ImportProblem(job.label, exc.user_message))
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        name = Path(job.label).name
        if isinstance(exc, OSError) and exc.errno is not None:
            state.failed.append(ImportProblem(job.label, describe_image_error(exc, Path(name))))
        else:
            state.failed.append(ImportProblem(job.label, f"{name} could not be extracted: {exc}."))


def _open_regular(path: Path) -> IO[bytes]:
    """Open `path` for reading only if it is a regular file (after following links).

    O_NONBLOCK: opening a FIFO named like a picture must not wait for a writer; the type is then
    checked on the open descriptor, so nothing can be swapped in between check and read.
    """
    fd = os.open(path, os.O_RDONLY | _NONBLOCK)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "folder" if stat.S_ISDIR(mode) else "device, pipe or socket"
            raise DatasetError(
                f"{path.name} is a {kind}, not a regular file; only files are imported."
            )
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _read_source_caption(state: ImportState, label: str, path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        with _open_regular(path) as handle:
            data = handle.read(_MAX_CAPTION_BYTES + 1)
    except (OSError, DatasetError):
        return None  # the picture still imports; the doctor will say it has no caption
    if len(data) > _MAX_CAPTION_BYTES:
        _caption_too_big(state, label, path.name)
        return None
    return data


def _caption_too_big(state: ImportState, label: str, name: str) -> None:
    state.warnings.append(
        ImportProblem(
            label,
            f"{name} is larger than 1 MB, so it was not taken as a caption; the picture was "
            "imported without one.",
        )
    )


def _import_picture(
    state: ImportState,
    label: str,
    name: str,
    reader: IO[bytes],
    caption: bytes | None,
    limits: ImportLimits,
) -> None:
    destination = state.destination
    staged = destination.stage(reader, label, limits.max_member_bytes)
    cleanup: list[Staged] = [staged]
    try:
        try:
            with open_image(staged.path):
                pass
        except Exception as exc:  # untrusted bytes: not a picture we can read
            raise DatasetError(describe_image_error(exc, Path(name))) from exc
        same = destination.find_same(staged, IMAGE_EXTENSIONS)
        if same is not None:
            _already_there(state, label, name, same, caption)
            return
        text = decode_caption(caption).text.encode("utf-8") if caption is not None else None
        caption_staged = destination.stage(BytesIO(text), label) if text is not None else None
        if caption_staged is not None:
            cleanup.append(caption_staged)
        final = destination.allocate(name)
        destination.commit(staged.path, final, label, sync=False)
        caption_path = None
        if caption_staged is not None:
            caption_path = final.with_suffix(CAPTION_EXTENSION)
            try:
                destination.commit(caption_staged.path, caption_path, label, sync=False)
            except Exception:
                with contextlib.suppress(OSError):
                    final.unlink()  # keep picture and caption together: neither, rather than half
                raise
        destination.sync()
        destination.remember(final, staged)
    finally:
        for leftover in cleanup:
            leftover.discard()  # nothing once committed: the temporary name is gone
    # The doctor's decode (truncated, damaged), on the committed file: its message names the
    # picture as it is now called in the dataset, not the hidden temporary it was staged in.
    check = inspect_pixels(final)
    if check.message is not None:
        state.warnings.append(ImportProblem(label, check.message))
    state.imported.append(ImportedFile(label, final, caption_path))


def _already_there(
    state: ImportState, label: str, name: str, same: Path, caption: bytes | None
) -> None:
    """Skip a picture whose bytes are already here; give it the caption it lacks."""
    note = ""
    caption_path = same.with_suffix(CAPTION_EXTENSION)
    if caption is not None and not caption_path.exists():
        state.destination.write(caption_path, decode_caption(caption).text.encode("utf-8"), label)
        note = " Its caption was missing and has been added."
    state.skipped.append(
        ImportProblem(
            label,
            f"{name} is already in the dataset as {same.name} (same content); skipped.{note}",
        )
    )


def _import_video(
    state: ImportState,
    label: str,
    path: Path,
    stem: str,
    interval: float,
    limits: ImportLimits,
    cancel: CancelToken | None,
) -> None:
    def save(image: Image.Image, seconds: float) -> None:
        final = state.destination.allocate(f"{stem}_{round(seconds * 1000):07d}ms.jpg")
        state.destination.write(final, encode(image, "jpg"), f"{label} @ {seconds:.1f} s")
        state.imported.append(ImportedFile(f"{label} @ {seconds:.1f} s", final))

    extract_frames(
        path,
        Path(label).name,
        save,
        interval=interval,
        max_frames=limits.max_frames_per_video,
        cancel=cancel,
    )
