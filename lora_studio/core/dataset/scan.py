"""Core/dataset: open a dataset folder — list pictures and captions, read sizes from headers only.

Layout rules follow kohya sd-scripts (docs/protocols.md §4.4):
- Top-level subfolders named `<N>_<concept>` hold pictures repeated N times per epoch; if at least
  one exists the dataset is "kohya" layout, and kohya ignores pictures at the top level and
  subfolders without a repeat count (both reported as problems, still listed as entries).
- Otherwise the dataset is "flat": pictures at the top level (and in plain subfolders, concept =
  folder name, 1 repeat).
- Only one level of subfolders is read, as kohya does; hidden entries (a leading dot) are skipped,
  which is how the `.lorastudio` sidecar stays out of the dataset.

Nothing is decoded: `Image.open` parses the header (≈0.1 ms per file), the EXIF orientation swaps
width/height for rotated pictures, and each caption is read once. Symlinked files and folders are
followed only while they stay inside the dataset: a link that leaves it (`caption.txt ->
../outside/id_rsa`, a linked folder) is reported (`link_outside`) and left out, so nothing
outside the folder the artist chose is ever read for training or uploaded to a server; loops and
broken links become problems. Bad files become entries with `error` set — the scan never
stops on one file. Cancelling raises `CancelledByUserError` (a partial scan is of no use).
"""

from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from lora_studio.core.dataset.captions import decode_caption
from lora_studio.core.dataset.concurrency import CancelToken, ProgressCallback, report
from lora_studio.core.dataset.formats import (
    describe_image_error,
    error_kind,
    is_caption_name,
    is_image_name,
    open_image,
)
from lora_studio.core.dataset.imaging import exif_orientation
from lora_studio.core.dataset.models import (
    LAYOUT_FLAT,
    LAYOUT_KOHYA,
    DatasetScan,
    ImageEntry,
    ScanProblem,
)
from lora_studio.core.errors import DatasetError

CONCEPT_FOLDER = re.compile(r"^(\d+)_(.*)$")
_HIGH_DEPTH_MODES = frozenset({"I", "F", "I;16", "I;16B", "I;16L", "I;16N"})
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_PROGRESS_EVERY = 64


def parse_concept_folder(name: str) -> tuple[int, str] | None:
    """`"10_ohwx person"` → `(10, "ohwx person")`; None when the name has no repeat count."""
    match = CONCEPT_FOLDER.match(name)
    if match is None:
        return None
    return int(match.group(1)), match.group(2)


@dataclass
class _Folder:
    path: Path
    rel: str
    concept: str | None
    repeats: int
    images: list[tuple[str, os.stat_result]] = field(default_factory=list)
    captions: dict[str, str] = field(default_factory=dict)  # stem → file name
    real_root: str = ""  # the dataset folder with links resolved: links must stay inside it


def scan_dataset(
    root: Path,
    *,
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
) -> DatasetScan:
    """Scan a dataset folder (module docstring). Raises DatasetError if it cannot be listed."""
    root = Path(root).expanduser().absolute()
    if not root.exists():
        raise DatasetError(f"The dataset folder {root} does not exist.")
    if not root.is_dir():
        raise DatasetError(f"{root} is a file, not a dataset folder. Choose the folder it is in.")
    problems: list[ScanProblem] = []
    top = _Folder(root, "", None, 1, real_root=os.path.realpath(root))
    subfolders = _list_folder(top, problems, top_level=True)
    folders = [top, *subfolders]
    layout = LAYOUT_KOHYA if any(_is_kohya(f) for f in subfolders) else LAYOUT_FLAT
    if layout == LAYOUT_KOHYA:
        _report_ignored_by_kohya(folders, problems)

    total = sum(len(folder.images) for folder in folders)
    entries: list[ImageEntry] = []
    orphans: list[Path] = []
    done = 0
    report(progress, 0, total)
    for folder in folders:
        image_stems: dict[str, list[str]] = {}
        for name, stat in folder.images:
            if cancel is not None:
                cancel.raise_if_cancelled("Opening the dataset")
            stem = os.path.splitext(name)[0]
            image_stems.setdefault(stem, []).append(name)
            caption_name = folder.captions.get(stem)
            entries.append(_make_entry(folder, name, stat, caption_name, problems))
            done += 1
            if done % _PROGRESS_EVERY == 0:
                report(progress, done, total)
        for stem, caption_name in folder.captions.items():
            if stem not in image_stems:
                orphans.append(folder.path / caption_name)
        for stem, names in image_stems.items():
            if len(names) > 1:
                shared = f"{stem}.txt"
                problems.append(
                    ScanProblem(
                        folder.path / sorted(names)[1],
                        "shared_caption",
                        f"{' and '.join(sorted(names))} share the caption name {shared}; "
                        "trainers give both the same caption. Rename one of them.",
                    )
                )
    report(progress, total, total)
    entries.sort(key=lambda e: e.rel_path.casefold())
    orphans.sort(key=lambda p: str(p).casefold())
    return DatasetScan(root, layout, tuple(entries), tuple(orphans), tuple(problems))


def _is_kohya(folder: _Folder) -> bool:
    return parse_concept_folder(folder.path.name) is not None


def _report_ignored_by_kohya(folders: list[_Folder], problems: list[ScanProblem]) -> None:
    for folder in folders:
        if not folder.images or (folder.rel and _is_kohya(folder)):
            continue
        if not folder.rel:
            for name, _ in folder.images:
                problems.append(
                    ScanProblem(
                        folder.path / name,
                        "ignored_by_trainer",
                        f"{name} is at the top level of a folder with N_concept subfolders; "
                        "kohya sd-scripts trains only pictures inside those subfolders. "
                        "Move it into one.",
                    )
                )
        else:
            problems.append(
                ScanProblem(
                    folder.path,
                    "ignored_by_trainer",
                    f"kohya sd-scripts skips the folder {folder.rel} because its name does not "
                    "start with a repeat count (like 10_name). Rename it to train its pictures.",
                )
            )


def _list_folder(folder: _Folder, problems: list[ScanProblem], *, top_level: bool) -> list[_Folder]:
    """Fill `folder.images`/`captions`; return its subfolders (top level only)."""
    subfolders: list[_Folder] = []
    try:
        with os.scandir(folder.path) as listing:
            items = list(listing)
    except OSError as exc:
        if top_level:
            raise DatasetError(
                f"Could not open the dataset folder {folder.path}: {exc.strerror or exc}.",
                detail=str(exc),
            ) from exc
        problems.append(
            ScanProblem(
                folder.path,
                "unreadable",
                f"Could not read the folder {folder.rel}: {exc.strerror or exc}.",
            )
        )
        return subfolders
    for item in items:
        name = item.name
        if name.startswith("."):
            continue  # hidden files, our own `.lorastudio` sidecar, macOS `._` resource forks
        path = folder.path / name
        try:
            is_dir = item.is_dir()
            is_file = not is_dir and item.is_file()
        except OSError:
            is_dir = is_file = False
        if (is_dir or is_file) and item.is_symlink() and _leaves(path, folder.real_root):
            problems.append(
                ScanProblem(
                    path,
                    "link_outside",
                    f"{folder.rel + '/' if folder.rel else ''}{name} is a symbolic link to "
                    f"{os.path.realpath(path)}, outside the dataset; it is never read or uploaded. "
                    "Copy it into the dataset if it belongs there.",
                )
            )
            continue
        if is_dir:
            if top_level:
                parsed = parse_concept_folder(name)
                repeats, concept = parsed if parsed else (1, name)
                sub = _Folder(path, name, concept, repeats, real_root=folder.real_root)
                _list_folder(sub, problems, top_level=False)
                subfolders.append(sub)
            elif _contains_images(path):
                problems.append(
                    ScanProblem(
                        path,
                        "nested_folder",
                        f"The folder {folder.rel}/{name} is nested too deep: trainers read one "
                        "level of subfolders only. Move its pictures up a level.",
                    )
                )
            continue
        if not is_file:
            _report_link(path, item, problems)
            continue
        if is_image_name(name):
            try:
                folder.images.append((name, item.stat()))
            except OSError as exc:
                problems.append(ScanProblem(path, "unreadable", describe_image_error(exc, path)))
        elif is_caption_name(name):
            folder.captions[os.path.splitext(name)[0]] = name
    return subfolders


def _leaves(path: Path, real_root: str) -> bool:
    """Whether the link `path` resolves to somewhere outside the dataset folder."""
    target = os.path.realpath(path)
    try:
        return os.path.commonpath([target, real_root]) != real_root
    except ValueError:  # another drive (Windows)
        return True


def _contains_images(path: Path) -> bool:
    try:
        with os.scandir(path) as listing:
            return any(is_image_name(item.name) for item in listing)
    except OSError:
        return False


def _report_link(path: Path, item: os.DirEntry[str], problems: list[ScanProblem]) -> None:
    if not item.is_symlink():
        return  # sockets, fifos, devices: not ours to judge
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            problems.append(
                ScanProblem(
                    path,
                    "symlink_loop",
                    f"{path.name} is a symbolic link that points to itself (a symlink loop); "
                    "it was skipped. Delete the link.",
                )
            )
            return
    problems.append(
        ScanProblem(
            path,
            "broken_symlink",
            f"{path.name} is a symbolic link to something that no longer exists; it was skipped.",
        )
    )


def _make_entry(
    folder: _Folder,
    name: str,
    stat: os.stat_result,
    caption_name: str | None,
    problems: list[ScanProblem],
) -> ImageEntry:
    path = folder.path / name
    caption: str | None = None
    encoding: str | None = None
    if caption_name is not None:
        caption_path = folder.path / caption_name
        try:
            decoded = decode_caption(caption_path.read_bytes())
            caption, encoding = decoded.text, decoded.encoding
            if not decoded.is_utf8:
                problems.append(
                    ScanProblem(
                        caption_path,
                        "caption_not_utf8",
                        f"The caption {caption_name} is not UTF-8 (read as {decoded.encoding}); "
                        "trainers expect UTF-8 and may stop or garble it. Rewrite it as UTF-8.",
                    )
                )
        except OSError as exc:
            problems.append(
                ScanProblem(
                    caption_path,
                    "caption_unreadable",
                    f"Could not read the caption {caption_name}: {exc.strerror or exc}.",
                )
            )
    header = _read_header(path, stat.st_size)
    return ImageEntry(
        path=path,
        rel_path=f"{folder.rel}/{name}" if folder.rel else name,
        folder=folder.rel,
        concept=folder.concept,
        repeats=folder.repeats,
        width=header.width,
        height=header.height,
        format=header.format,
        mode=header.mode,
        file_size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        caption=caption,
        caption_encoding=encoding,
        orientation=header.orientation,
        high_bit_depth=header.high_bit_depth,
        has_transparency=header.has_transparency,
        animated=header.animated,
        error=header.error,
        error_kind=header.error_kind,
    )


@dataclass(frozen=True, slots=True)
class _Header:
    width: int = 0
    height: int = 0
    format: str | None = None
    mode: str | None = None
    orientation: int = 1
    high_bit_depth: bool = False
    has_transparency: bool = False
    animated: bool = False
    error: str | None = None
    error_kind: str | None = None


def _read_header(path: Path, size: int) -> _Header:
    """Header facts for `ImageEntry`; on failure width/height are 0 and `error` says why."""
    if size == 0:
        return _Header(
            error=f"{path.name} is an empty file (0 bytes); an interrupted copy? Remove it.",
            error_kind="empty_file",
        )
    try:
        with open_image(path) as image:
            width, height = image.size
            orientation = exif_orientation(image)
            if orientation in (5, 6, 7, 8):
                width, height = height, width
            return _Header(
                width=width,
                height=height,
                format=image.format,
                mode=image.mode,
                orientation=orientation,
                high_bit_depth=_high_bit_depth(image),
                has_transparency=image.mode in _ALPHA_MODES or "transparency" in image.info,
                animated=bool(getattr(image, "is_animated", False)),
            )
    except Exception as exc:  # untrusted bytes: Pillow's parsers raise many types; never stop
        return _Header(error=describe_image_error(exc, path), error_kind=error_kind(exc))


def _high_bit_depth(image: Image.Image) -> bool:
    if image.mode in _HIGH_DEPTH_MODES:
        return True
    # 48-bit RGB PNG/TIFF open as mode "RGB" (Pillow reduces them on load); the raw mode tells.
    tile = getattr(image, "tile", None)
    if not tile:
        return False
    args = tile[0][3]
    rawmode = (
        args if isinstance(args, str) else (args[0] if args and isinstance(args[0], str) else "")
    )
    return ";16" in rawmode
