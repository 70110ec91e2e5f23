"""Core/Replicate: fetch a finished training's weights and unpack the LoRA from them, safely.

`output.weights` is a tar of the trainer's output folder (`lora.safetensors`, the captions, maybe
a config) on a file host such as replicate.delivery (docs/protocols.md §3.5, §3.6). Rules:
- the API token goes nowhere but the API's own origin: a file on another host is fetched with a
  client that has no credentials at all (and that one may follow redirects, which the API client
  never does);
- the download streams to a temporary folder beside the destination and stops at `max_bytes`;
- nothing from the archive is extracted by name: only the LoRA's bytes are copied, into a path we
  choose (`files.NewFile`), so no member can escape the folder. Members with absolute or `..`
  names make the whole archive suspect and it is refused; links and devices are never followed;
- the result must be a structurally complete safetensors file, or nothing is kept.
A plain `.safetensors` URL (another trainer) is accepted as the LoRA itself.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO
from urllib.parse import urlsplit

from lora_studio.core.atomic_io import atomic_write_stream
from lora_studio.core.backends.files import NewFile, check_safetensors_file
from lora_studio.core.backends.http import (
    HttpClient,
    RetryPolicy,
    Timeouts,
    check_transport_security,
)
from lora_studio.core.errors import BackendError, StorageError

log = logging.getLogger(__name__)

MAX_DOWNLOAD_BYTES = 4 * 1024**3
MAX_LORA_BYTES = 3 * 1024**3
MAX_MEMBERS = 10_000
_COPY_CHUNK = 1 << 20


class TooLargeError(BackendError):
    pass


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    return (
        parts.scheme,
        (parts.hostname or "").lower(),
        parts.port or (443 if parts.scheme == "https" else 80),
    )


def same_origin(a: str, b: str) -> bool:
    return _origin(a) == _origin(b)


def file_host_client(
    url: str,
    *,
    allow_insecure_http: bool,
    timeouts: Timeouts,
    retry: RetryPolicy,
) -> tuple[HttpClient, str]:
    """A credential-free client for the host of `url`, and the path (+ query) to fetch."""
    check_transport_security(url, allow_insecure_http)
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}"
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    client = HttpClient(
        "Replicate's file host",
        base,
        allow_insecure_http=allow_insecure_http,
        timeouts=timeouts,
        retry=retry,
        follow_redirects=True,
    )
    return client, path


def _checked_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    drive = bool(path.parts) and ":" in path.parts[0]  # C:\… written by a Windows tool
    if path.is_absolute() or ".." in path.parts or drive:
        raise BackendError(
            f"The weights archive from Replicate contains an unsafe path ({name!r}); it was not "
            "unpacked."
        )
    return path


def pick_lora(members: list[tarfile.TarInfo]) -> tarfile.TarInfo:
    """`lora.safetensors` if present, else the largest `.safetensors` file."""
    candidates = [m for m in members if m.isreg() and m.name.lower().endswith(".safetensors")]
    if not candidates:
        names = ", ".join(m.name for m in members[:8]) or "nothing"
        raise BackendError(
            f"The weights archive from Replicate holds no .safetensors file (it has: {names})."
        )
    named = [m for m in candidates if PurePosixPath(m.name).name == "lora.safetensors"]
    return (named or sorted(candidates, key=lambda m: m.size, reverse=True))[0]


def _copy(source: IO[bytes], target: BinaryIO, limit: int) -> None:
    copied = 0
    while chunk := source.read(_COPY_CHUNK):
        copied += len(chunk)
        if copied > limit:
            raise TooLargeError(f"The LoRA in the weights archive is larger than {limit >> 20} MB.")
        target.write(chunk)


def extract_lora(archive: Path, target: Path, *, limit: int = MAX_LORA_BYTES) -> Path:
    """Copy the LoRA out of `archive` (a tar, or a bare safetensors) into `target` (blocking)."""
    if not tarfile.is_tarfile(archive):
        with archive.open("rb") as handle:
            atomic_write_stream(target, lambda out: _copy(handle, out, limit))
        return target
    try:
        with tarfile.open(archive, "r:*") as tar:
            members: list[tarfile.TarInfo] = []
            for member in tar:
                _checked_name(member.name)
                members.append(member)
                if len(members) > MAX_MEMBERS:
                    raise BackendError(
                        "The weights archive from Replicate has too many files; it was not "
                        "unpacked."
                    )
            chosen = pick_lora(members)
            if chosen.size > limit:
                raise TooLargeError(f"The LoRA in the weights archive is {chosen.size >> 20} MB.")
            source = tar.extractfile(chosen)
            if source is None:
                raise BackendError(f"{chosen.name} in the weights archive cannot be read.")
            with source:
                atomic_write_stream(target, lambda out: _copy(source, out, limit))
    except (tarfile.TarError, EOFError) as exc:
        raise BackendError(
            f"The weights archive from Replicate is damaged ({exc}); download it again."
        ) from exc
    return target


async def fetch_lora(
    http: HttpClient,
    path: str,
    dest_dir: Path,
    local_name: str,
    *,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
) -> Path:
    """Download `path` with `http`, unpack the LoRA as `dest_dir/local_name` (or name-2, …),
    verify it. Nothing is left behind when anything fails."""
    dest_dir = Path(dest_dir)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".~ls-replicate-", dir=dest_dir))
    except OSError as exc:
        raise StorageError(f"Cannot write in {dest_dir}: {exc.strerror or exc}.") from exc
    target: NewFile | None = None
    try:

        def guard(written: int, total: int | None) -> None:
            if written > max_bytes or (total or 0) > max_bytes:
                raise TooLargeError(
                    f"The weights file on Replicate is larger than {max_bytes >> 20} MB; "
                    "LoRA Studio stopped the download."
                )

        archive = await http.download(path, work / "weights.tar", on_progress=guard)
        # Unpacked under a temporary name, named only once verified: a killed process leaves
        # nothing under the LoRA's name (`NewFile`).
        target = NewFile(dest_dir, local_name)
        await asyncio.to_thread(extract_lora, archive, target.staging)
        await asyncio.to_thread(check_safetensors_file, target.staging)
        return target.commit()
    finally:
        if target is not None:
            target.discard()  # gone once committed
        shutil.rmtree(work, ignore_errors=True)


async def download_weights(
    url: str,
    dest_dir: Path,
    local_name: str,
    *,
    api: HttpClient,
    allow_insecure_http: bool,
    timeouts: Timeouts,
    retry: RetryPolicy,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
) -> Path:
    """The LoRA of `url` as `dest_dir/local_name`: through the API client (with the token) when
    the file is on the API's own origin, else through a credential-free client."""
    if same_origin(url, api.base_url):
        return await fetch_lora(api, url, dest_dir, local_name, max_bytes=max_bytes)
    host, path = file_host_client(
        url, allow_insecure_http=allow_insecure_http, timeouts=timeouts, retry=retry
    )
    try:
        return await fetch_lora(host, path, dest_dir, local_name, max_bytes=max_bytes)
    finally:
        await host.aclose()
