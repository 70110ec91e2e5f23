"""Core/dataset: the first half of an import — what the artist's sources hold.

`plan_sources` walks the given files, folders (recursively, no linked folders, no hidden ones)
and zip archives, and turns them into `ImportJob`s (a picture with its caption, a video, an archive
member) without writing anything. What it refuses or skips lands in the `ImportState` the import
(`importer.py`) then carries on filling; the report types live here so both halves share them.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lora_studio.core.dataset.archive import ImportLimits, plan_zip
from lora_studio.core.dataset.formats import (
    CAPTION_EXTENSION,
    is_archive_name,
    is_caption_name,
    is_image_name,
    is_video_name,
)
from lora_studio.core.dataset.import_files import Destination


@dataclass(frozen=True)
class ImportedFile:
    source: str  # what the artist gave: a path, "archive.zip:dir/a.jpg", or "clip.mp4 @ 12.0 s"
    destination: Path
    caption: Path | None = None


@dataclass(frozen=True)
class ImportProblem:
    source: str
    message: str  # a sentence naming the file


@dataclass(frozen=True)
class ImportReport:
    imported: tuple[ImportedFile, ...]
    failed: tuple[ImportProblem, ...]  # asked for, but could not be imported
    skipped: tuple[ImportProblem, ...]  # ignored on purpose (not a picture, hidden, …)
    cancelled: bool = False
    warnings: tuple[ImportProblem, ...] = ()  # imported, but worth a look (truncated, …)


@dataclass
class ImportJob:
    kind: str  # "file", "zip", "video", "zipvideo"
    label: str
    path: Path | None = None
    caption: Path | None = None
    member: zipfile.ZipInfo | None = None
    caption_member: zipfile.ZipInfo | None = None
    archive: zipfile.ZipFile | None = None


@dataclass
class ImportState:
    destination: Destination
    imported: list[ImportedFile] = field(default_factory=list)
    failed: list[ImportProblem] = field(default_factory=list)
    skipped: list[ImportProblem] = field(default_factory=list)
    warnings: list[ImportProblem] = field(default_factory=list)


def plan_sources(
    root: Path,
    sources: list[Path],
    state: ImportState,
    archives: list[zipfile.ZipFile],
    limits: ImportLimits,
) -> list[ImportJob]:
    jobs: list[ImportJob] = []
    given = {s.absolute() for s in sources}
    for source in sources:
        label = str(source)
        if _inside(source, root) and not is_archive_name(source.name):
            state.skipped.append(
                ImportProblem(label, f"{source.name} is already in the dataset; skipped.")
            )
            continue
        if source.is_dir():
            jobs.extend(_plan_folder(source, root, state))
        elif not source.exists():
            reason = "a broken symbolic link" if source.is_symlink() else "not there"
            state.failed.append(
                ImportProblem(label, f"{source.name} is {reason}; nothing to import.")
            )
        elif is_archive_name(source.name):
            jobs.extend(_plan_archive(source, state, archives, limits))
        elif is_video_name(source.name):
            jobs.append(ImportJob("video", label, path=source))
        elif is_image_name(source.name):
            jobs.append(ImportJob("file", label, path=source, caption=_sibling_caption(source)))
        elif is_caption_name(source.name):
            me = source.absolute()
            # Given together with its picture, it comes along with it: nothing to say.
            if not any(
                p != me and p.parent == me.parent and p.stem == me.stem and is_image_name(p.name)
                for p in given
            ):
                state.failed.append(
                    ImportProblem(
                        label, f"{source.name} is a caption; import its picture and it comes along."
                    )
                )
        else:
            state.failed.append(
                ImportProblem(label, f"{source.name} is not a picture, video or zip archive.")
            )
    return jobs


def _inside(path: Path, root: Path) -> bool:
    try:
        path.absolute().relative_to(root)
    except ValueError:
        return False
    return True


def _sibling_caption(image: Path) -> Path | None:
    caption = image.with_suffix(CAPTION_EXTENSION)
    return caption if caption.is_file() else None


def _plan_folder(folder: Path, root: Path, state: ImportState) -> list[ImportJob]:
    jobs: list[ImportJob] = []
    for current, dirnames, filenames in os.walk(
        folder,
        onerror=lambda exc: state.failed.append(
            ImportProblem(
                str(exc.filename), f"Could not read the folder {exc.filename}: {exc.strerror}."
            )
        ),
    ):
        base = Path(current)
        for name in sorted(dirnames):
            if (base / name).is_symlink():
                state.skipped.append(
                    ImportProblem(str(base / name), f"{name} is a linked folder; not followed.")
                )
        # Hidden folders (another dataset's sidecar), linked folders (loops) and the dataset itself
        # (importing a parent folder) are not entered.
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".")
            and not (base / d).is_symlink()
            and (base / d).absolute() != root
        )
        names = set(filenames)
        for name in sorted(filenames):
            path = base / name
            if name.startswith("."):
                continue
            if is_image_name(name):
                caption = Path(name).stem + CAPTION_EXTENSION
                jobs.append(
                    ImportJob(
                        "file",
                        str(path),
                        path=path,
                        caption=base / caption if caption in names else None,
                    )
                )
            elif is_video_name(name):
                jobs.append(ImportJob("video", str(path), path=path))
            elif is_caption_name(name):
                if not any(is_image_name(n) and Path(n).stem == Path(name).stem for n in names):
                    state.skipped.append(
                        ImportProblem(str(path), f"{name} is a caption without a picture; skipped.")
                    )
            elif is_archive_name(name):
                state.skipped.append(
                    ImportProblem(
                        str(path), f"{name} is an archive inside a folder; import it on its own."
                    )
                )
            else:
                state.skipped.append(
                    ImportProblem(str(path), f"{name} is not a picture or a video; skipped.")
                )
    return jobs


def _plan_archive(
    source: Path, state: ImportState, archives: list[zipfile.ZipFile], limits: ImportLimits
) -> list[ImportJob]:
    label = str(source)
    try:
        archive = zipfile.ZipFile(source)
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        state.failed.append(
            ImportProblem(label, f"{source.name} is not a readable zip archive ({exc}).")
        )
        return []
    archives.append(archive)
    plan = plan_zip(archive, source.name, limits)
    state.failed.extend(ImportProblem(where, message) for where, message in plan.refused)
    state.skipped.extend(ImportProblem(where, message) for where, message in plan.skipped)
    jobs = [
        ImportJob("zip", p.label, member=p.member, caption_member=p.caption, archive=archive)
        for p in plan.pictures
    ]
    jobs.extend(
        ImportJob("zipvideo", f"{source.name}:{v.filename}", member=v, archive=archive)
        for v in plan.videos
    )
    return jobs
