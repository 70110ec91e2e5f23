"""Core: a dataset's fingerprint — SHA-256 over its images and caption files.

The fingerprint says "this job was trained on exactly these pictures and captions"; it goes into
the job record and the LoRA's metadata. It covers every image and `.txt` caption under the folder
(recursively), in a stable order, and ignores everything else:
- hidden files and folders (`.lorastudio/` caches, `.DS_Store`, macOS `._name.jpg` forks), so
  LoRA Studio's own bookkeeping never changes the hash;
- other files (sample prompts, `.toml`, `.json`), which do not change what the model learns.
Symlinked files are hashed by content; symlinked folders are not followed (they can loop).
Left out, as training leaves them out (`core.dataset.scan`): broken links, links that leave the
dataset folder, and anything that is not a regular file (a pipe named like a picture would block).
Names that are not valid UTF-8 (`bad\xffbytes.jpg` on Linux) are hashed as their raw bytes.

Digest layout (version 1): SHA-256 of a header, then for each file in order of its relative path
(POSIX separators, Unicode NFC — macOS stores names decomposed) the path's length and bytes
followed by the SHA-256 of its content. Hashing each file separately keeps the framing unambiguous
and lets content be streamed in chunks, so memory stays flat for any dataset size.

Runs on a worker thread (`loop.run_in_executor`): hashing gigabytes takes seconds.
"""

from __future__ import annotations

import hashlib
import os
import stat
import unicodedata
from collections.abc import Callable
from pathlib import Path

from lora_studio.core.errors import DatasetError

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".heic", ".heif", ".avif",
     ".jxl"}
)  # fmt: skip
CAPTION_EXTENSIONS = frozenset({".txt"})
CHUNK_SIZE = 1 << 20
_HEADER = b"lora-studio dataset fingerprint v1\n"


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def dataset_files(folder: Path) -> list[tuple[str, Path]]:
    """The (relative POSIX path, absolute path) pairs a fingerprint covers, in hashing order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"The dataset folder {folder} does not exist or is not a folder.")
    wanted = IMAGE_EXTENSIONS | CAPTION_EXTENSIONS
    found: list[tuple[str, Path]] = []
    real_root = os.path.realpath(folder)

    def walk_error(exc: OSError) -> None:
        raise DatasetError(
            f"Could not read the folder {exc.filename} inside the dataset {folder}: "
            f"{exc.strerror or exc}. Check its permissions.",
            detail=str(exc),
        )

    for root, dirs, files in os.walk(folder, onerror=walk_error):
        dirs[:] = [name for name in dirs if not _is_hidden(name)]
        for name in files:
            if _is_hidden(name) or os.path.splitext(name)[1].lower() not in wanted:
                continue
            path = Path(root, name)
            if not _trainable_file(path, real_root):
                continue
            relative = unicodedata.normalize("NFC", path.relative_to(folder).as_posix())
            found.append((relative, path))
    # Code-point order (= UTF-8 byte order): independent of locale, platform and walk order.
    found.sort(key=lambda item: item[0])
    return found


def _trainable_file(path: Path, real_root: str) -> bool:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False  # a pipe, a device, or a broken link
    except OSError:
        return False  # broken link or vanished: the scan reports it, training skips it
    if os.path.islink(path):
        target = os.path.realpath(path)
        try:
            return os.path.commonpath([target, real_root]) == real_root
        except ValueError:
            return False
    return True


def _file_digest(path: Path, folder: Path) -> bytes:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK_SIZE):
                digest.update(chunk)
    except OSError as exc:
        raise DatasetError(
            f"Could not read {path} while fingerprinting the dataset {folder}: "
            f"{exc.strerror or exc}. Check that the file is readable and not being moved.",
            detail=str(exc),
        ) from exc
    return digest.digest()


def dataset_fingerprint(
    folder: str | os.PathLike[str],
    progress: Callable[[int, int], None] | None = None,
) -> str:
    """Return the hex SHA-256 fingerprint of the dataset in `folder`.

    `progress(done, total)` is called after each file; raise from it (e.g. CancelledByUserError) to stop.
    Raises DatasetError naming the folder or file that could not be read.
    """
    root = Path(folder)
    files = dataset_files(root)
    outer = hashlib.sha256(_HEADER)
    for done, (relative, path) in enumerate(files, start=1):
        name = relative.encode("utf-8", "surrogateescape")
        outer.update(len(name).to_bytes(4, "big"))
        outer.update(name)
        outer.update(_file_digest(path, root))
        if progress is not None:
            progress(done, len(files))
    return outer.hexdigest()
