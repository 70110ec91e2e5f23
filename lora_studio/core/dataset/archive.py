"""Core/dataset: reading zip archives safely for import.

A zip is untrusted input. Before a byte is extracted, every member is judged:
- names: absolute paths, drive letters and `..` parts are refused (we flatten names anyway, but a
  zip that tries to escape is reported, not trusted);
- symbolic links and encrypted members are refused; nested archives are skipped;
- zip bombs: the number of members, each member's declared size, its compression ratio and the
  total declared size are capped (`ImportLimits`). `zipfile` never returns more bytes than a
  member declares (and checks its CRC), so declared sizes are real upper bounds.
Only pictures, their same-folder same-stem captions, and videos are taken; hidden files and
macOS `__MACOSX/` debris are ignored.
"""

from __future__ import annotations

import posixpath
import re
import stat
import zipfile
from dataclasses import dataclass

from lora_studio.core.dataset.formats import (
    is_archive_name,
    is_caption_name,
    is_image_name,
    is_video_name,
)


@dataclass(frozen=True)
class ImportLimits:
    """Caps against zip bombs and runaway imports."""

    max_members: int = 100_000
    max_member_bytes: int = 1 << 30  # 1 GiB: a 100 MP TIFF is ~300 MB
    max_total_bytes: int = 20 << 30  # 20 GiB unpacked per archive
    max_ratio: int = 100  # JPEG/PNG barely compress; 1000:1 is how bombs look
    max_frames_per_video: int = 1000


@dataclass(frozen=True)
class ZipPicture:
    member: zipfile.ZipInfo
    caption: zipfile.ZipInfo | None
    label: str  # "archive.zip:folder/name.jpg"


@dataclass(frozen=True)
class ZipPlan:
    pictures: tuple[ZipPicture, ...]
    videos: tuple[zipfile.ZipInfo, ...]
    refused: tuple[tuple[str, str], ...]  # (label, sentence): unsafe members
    skipped: tuple[tuple[str, str], ...]  # (label, sentence): not for a dataset


_DRIVE = re.compile(r"^[A-Za-z]:")


def unsafe_reason(name: str) -> str | None:
    """Why a member name must not be extracted, or None when it is safe."""
    normalised = name.replace("\\", "/")
    if normalised.startswith("/") or _DRIVE.match(normalised):
        return "has an absolute path"
    if ".." in normalised.split("/"):
        return "points outside the archive (..)"
    if "\0" in normalised:
        return "has a NUL character in its name"
    return None


def plan_zip(archive: zipfile.ZipFile, label: str, limits: ImportLimits) -> ZipPlan:
    """Judge every member of an open archive (see the module docstring)."""
    members = archive.infolist()
    if len(members) > limits.max_members:
        return _refuse_all(
            label,
            f"{label} holds {len(members)} files, more than the limit of {limits.max_members}; "
            "it was not opened.",
        )
    refused: list[tuple[str, str]] = []
    skipped: list[tuple[str, str]] = []
    wanted: list[zipfile.ZipInfo] = []
    captions: dict[tuple[str, str], zipfile.ZipInfo] = {}
    total = 0
    for info in members:
        name = info.filename
        where = f"{label}:{name}"
        if info.is_dir():
            continue
        reason = unsafe_reason(name)
        base = posixpath.basename(name.replace("\\", "/"))
        if reason is None and stat.S_ISLNK(info.external_attr >> 16):
            reason = "is a symbolic link"
        if reason is None and info.flag_bits & 0x1:
            reason = "is password-protected"
        if reason is None and info.file_size > limits.max_member_bytes:
            reason = f"would unpack to {info.file_size / 2**20:.0f} MB, over the limit"
        if (
            reason is None
            and info.file_size > limits.max_ratio * max(info.compress_size, 1)
            and info.file_size > 1 << 20
        ):
            reason = "is compressed suspiciously well (a zip bomb?)"
        if reason is not None:
            refused.append((where, f"{where} {reason}; it was not extracted."))
            continue
        if base.startswith(".") or name.startswith("__MACOSX/"):
            continue
        if is_caption_name(base):
            directory = posixpath.dirname(name.replace("\\", "/"))
            captions[(directory, posixpath.splitext(base)[0])] = info
            continue
        if is_archive_name(base):
            skipped.append(
                (where, f"{where} is an archive inside the archive; import it separately.")
            )
            continue
        if not (is_image_name(base) or is_video_name(base)):
            skipped.append((where, f"{where} is not a picture or a video; skipped."))
            continue
        wanted.append(info)
        total += info.file_size
    if total > limits.max_total_bytes:
        return _refuse_all(
            label,
            f"{label} would unpack to {total / 2**30:.1f} GB, more than the limit of "
            f"{limits.max_total_bytes / 2**30:.0f} GB; it was not opened.",
        )
    pictures: list[ZipPicture] = []
    videos: list[zipfile.ZipInfo] = []
    used_captions: set[tuple[str, str]] = set()
    for info in wanted:
        normalised = info.filename.replace("\\", "/")
        base = posixpath.basename(normalised)
        if is_video_name(base):
            videos.append(info)
            continue
        key = (posixpath.dirname(normalised), posixpath.splitext(base)[0])
        caption = captions.get(key)
        if caption is not None:
            used_captions.add(key)
        pictures.append(ZipPicture(info, caption, f"{label}:{info.filename}"))
    for key, info in captions.items():
        if key not in used_captions:
            where = f"{label}:{info.filename}"
            skipped.append((where, f"{where} is a caption without a picture; skipped."))
    return ZipPlan(tuple(pictures), tuple(videos), tuple(refused), tuple(skipped))


def _refuse_all(label: str, sentence: str) -> ZipPlan:
    return ZipPlan((), (), ((label, sentence),), ())
