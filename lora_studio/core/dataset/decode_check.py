"""Core/dataset: does each picture really decode? A cached verdict per file, so a training never
counts — nor sends an engine — a picture whose header reads but whose pixels do not (a truncated
JPEG, a PNG with a damaged IDAT). kohya stops with a traceback on such a file; ComfyUI fails the
whole upload.

The scan reads headers only; decoding every picture costs ~30 ms per 12 MP JPEG even at draft
scale, so a verdict is taken from what is already known before anything is decoded:

1. the verdict file `DATASET/.lorastudio/decode.json`, one entry per picture keyed by its path in
   the dataset, its mtime and its size (a changed file is checked again);
2. the dataset's thumbnail cache: a thumbnail is only stored after a decode that read every byte
   (the grid's background fill makes one per picture), so one for the file as it is now means it
   decodes;
3. a reduced decode (`draft` to ≤1/8 scale still reads every byte) in a bounded pool, with
   progress and cancel.

The doctor's full check records its verdicts here too (`record_verdicts`). The verdict file is a
disposable cache: it is written atomically when something new was learned, and a read-only
dataset simply decodes again next time.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lora_studio.core.atomic_io import atomic_write_text
from lora_studio.core.dataset.concurrency import (
    DEFAULT_WORKERS,
    CancelToken,
    ProgressCallback,
    run_parallel,
)
from lora_studio.core.dataset.formats import describe_image_error, error_kind, open_image
from lora_studio.core.dataset.sidecar import Sidecar
from lora_studio.core.dataset.thumbnails import ThumbnailCache
from lora_studio.core.errors import LoraStudioError

VERDICTS_NAME = "decode.json"
VERDICTS_SCHEMA_VERSION = 1
_DRAFT = 64  # JPEG decodes at 1/8 scale; every byte of the file is still read
_lock = threading.Lock()  # one writer of a verdict file at a time within this process
# Failures that say nothing lasting about the bytes (permissions, I/O errors): never remembered,
# since fixing them does not change the file's mtime or size.
_TRANSIENT = frozenset({"unreadable"})


@dataclass(frozen=True, slots=True)
class DecodeFailure:
    """A picture that does not decode: the doctor's finding kind and a sentence naming it."""

    path: Path
    kind: str
    message: str


@dataclass(frozen=True)
class DecodeReport:
    """The pictures that do not decode (in the order given), and where the verdicts came from."""

    failures: tuple[DecodeFailure, ...]
    known: int  # verdicts taken from the verdict file or the thumbnail cache
    decoded: int  # pictures decoded now
    cancelled: bool = False


def decode_failure(path: Path) -> DecodeFailure | None:
    """Decode `path` at reduced scale; None when every byte decodes. Never raises."""
    try:
        with open_image(Path(path)) as image:
            image.draft("RGB", (_DRAFT, _DRAFT))
            image.load()
    except Exception as exc:  # untrusted bytes: every decoder failure becomes a verdict
        return DecodeFailure(Path(path), error_kind(exc), describe_image_error(exc, Path(path)))
    return None


# An entry of the verdict file: [mtime_ns, size, kind or None, message or None].
_Entry = list[object]


def _key(path: Path, root: Path) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


class DecodeVerdicts:
    """The verdict file of one dataset (see the module docstring). Cheap to construct."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()
        self.sidecar = Sidecar(self.root)
        self.path = self.sidecar.directory / VERDICTS_NAME

    def load(self) -> dict[str, _Entry]:
        """Every stored entry; {} when there is no file or it cannot be read or parsed."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("schema_version") != VERDICTS_SCHEMA_VERSION:
            return {}
        pictures = data.get("pictures")
        if not isinstance(pictures, dict):
            return {}
        return {k: v for k, v in pictures.items() if isinstance(v, list) and len(v) == 4}

    def save(self, entries: dict[str, _Entry]) -> bool:
        """Write `entries` atomically; False when the dataset is read-only (nothing is lost:
        the verdicts are made again next time)."""
        text = json.dumps(
            {"schema_version": VERDICTS_SCHEMA_VERSION, "pictures": entries},
            ensure_ascii=False,
            separators=(",", ":"),
            sort_keys=True,
        )
        try:
            if not self.sidecar.writable():
                return False
            self.sidecar.ensure()
            atomic_write_text(self.path, text + "\n")
        except (LoraStudioError, OSError):
            return False
        return True

    def verdict(
        self, entries: dict[str, _Entry], path: Path, stat: os.stat_result
    ) -> tuple[bool, DecodeFailure | None]:
        """(known, failure) for `path` as it is now, from `entries`."""
        entry = entries.get(_key(path, self.root))
        if entry is None or entry[0] != stat.st_mtime_ns or entry[1] != stat.st_size:
            return False, None
        if entry[2] is None:
            return True, None
        return True, DecodeFailure(Path(path), str(entry[2]), str(entry[3] or ""))

    def entry(self, path: Path, stat: os.stat_result, failure: DecodeFailure | None) -> _Entry:
        kind, message = (failure.kind, failure.message) if failure else (None, None)
        return [stat.st_mtime_ns, stat.st_size, kind, message]


def record_verdicts(
    root: Path, verdicts: Iterable[tuple[Path, DecodeFailure | None]], *, keep_others: bool = True
) -> None:
    """Remember decode verdicts made elsewhere (the doctor's full check). Never raises."""
    store = DecodeVerdicts(root)
    with _lock:
        entries = store.load() if keep_others else {}
        changed = not keep_others
        for path, failure in verdicts:
            stat = _stat(path)
            if stat is None:
                continue
            if failure is not None and failure.kind in _TRANSIENT:
                continue
            new = store.entry(path, stat, failure)
            key = _key(path, store.root)
            if entries.get(key) != new:
                entries[key] = new
                changed = True
        if changed:
            store.save(entries)


def verify_decodes(
    root: Path,
    paths: Sequence[Path],
    *,
    workers: int = DEFAULT_WORKERS,
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
) -> DecodeReport:
    """Which of `paths` (pictures of the dataset at `root`) do not decode, reusing every verdict
    already known and decoding only the rest. The verdict file then holds exactly `paths`."""
    store = DecodeVerdicts(root)
    thumbnails = ThumbnailCache(store.sidecar.thumbnails_dir)
    with _lock:
        stored = store.load()
    entries: dict[str, _Entry] = {}
    failures: dict[Path, DecodeFailure] = {}
    unknown: list[tuple[Path, os.stat_result | None]] = []
    known = 0
    for path in paths:
        stat = _stat(path)
        if stat is None:  # gone since the scan: the decode below says so in a sentence
            unknown.append((path, None))
            continue
        found, failure = store.verdict(stored, path, stat)
        if not found and thumbnails.get(path, stat) is not None:
            found, failure = True, None
        if not found:
            unknown.append((path, stat))
            continue
        known += 1
        entries[_key(path, store.root)] = store.entry(path, stat, failure)
        if failure is not None:
            failures[path] = failure
    if progress is not None and unknown:
        progress(0, len(unknown))
    # A 1-tuple, never None: run_parallel marks the items a cancel left out with None.
    result = run_parallel(
        lambda item: (decode_failure(item[0]),),
        unknown,
        workers=workers,
        cancel=cancel,
        progress=progress,
    )
    decoded = 0
    for (path, stat), outcome in zip(unknown, result.results, strict=True):
        if outcome is None:
            continue
        decoded += 1
        (failure,) = outcome
        if failure is not None:
            failures[path] = failure
        if stat is not None and (failure is None or failure.kind not in _TRANSIENT):
            entries[_key(path, store.root)] = store.entry(path, stat, failure)
    if entries != stored:
        with _lock:
            # A cancelled check keeps what it did not get to: those verdicts may still hold.
            store.save({**stored, **entries} if result.cancelled else entries)
    ordered = tuple(failures[path] for path in paths if path in failures)
    return DecodeReport(ordered, known, decoded, result.cancelled)


def known_failures(root: Path, paths: Sequence[Path]) -> list[DecodeFailure]:
    """The pictures of `paths` already known not to decode (verdict file only, no decoding)."""
    store = DecodeVerdicts(root)
    with _lock:
        stored = store.load()
    # Only failures matter and they are few: look those up among `paths` instead of keying every
    # path (Path.relative_to on 5,000 pictures took ~25 ms of each Dataset page open).
    failing = [key for key, entry in stored.items() if entry[2] is not None]
    if not failing:
        return []
    given = {os.fspath(path): path for path in paths}
    found = []
    for key in failing:
        match = given.get(os.fspath(store.root / key))  # a key outside the root is absolute
        stat = _stat(match) if match is not None else None
        if match is None or stat is None:
            continue
        _, failure = store.verdict(stored, Path(match), stat)
        if failure is not None:
            found.append(failure)
    return found
