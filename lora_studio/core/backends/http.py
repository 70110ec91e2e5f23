"""Core: the HTTP client every backend uses — timeouts, safe retries, readable errors, downloads.

Rules it enforces so individual backends cannot forget them:
- every request has a connect and a read timeout;
- only requests that are safe to repeat are retried (GET/HEAD, or any request that never reached
  the server because the connection could not be opened; 429 always, since it was not processed),
  with exponential back-off plus full jitter, honouring `Retry-After`;
- transport failures become `BackendUnavailableError` saying "X at HOST:PORT is not answering — is it
  running?"; other failures become `BackendError`s naming the server, never a full URL;
- plain `http://` to anything but this machine is refused unless the artist allowed it, because
  proxy tokens would travel in clear text;
- every message is scrubbed of the tokens this client sends (and of known secret shapes);
- downloads stream in chunks to a temp file beside the target, are fsynced and renamed, resume
  with `Range` when the server allows it, and never leave a partial file behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import errno
import ipaddress
import logging
import os
import random
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import httpx

from lora_studio.core.atomic_io import clean_stale_temps, display_name, make_temp, new_file_mode
from lora_studio.core.errors import BackendError, BackendUnavailableError, ConfigError, StorageError
from lora_studio.core.redact import redact, register_secret

log = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_PROXY_DOWN = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


@dataclass(frozen=True)
class Timeouts:
    connect: float = 5.0
    read: float = 30.0
    download_read: float = 120.0  # a big file behind a slow proxy may stall between chunks
    download_stall: float = 60.0  # a download slower than stall_bytes per this many seconds…
    stall_bytes: int = 64 * 1024  # …is stalled (a trickling proxy): give up with a message


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # tries in total, including the first
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0  # never sleep longer than this on a server's say-so

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before try number `attempt + 1` (attempt counts from 1)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        # Full jitter: spreads reconnect storms after a server restart.
        return random.uniform(0.0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


class HttpStatusError(BackendError):
    """The server answered with an HTTP status the caller did not expect (kept in `status`)."""

    def __init__(self, user_message: str, status: int, detail: str | None = None) -> None:
        super().__init__(user_message, detail=detail)
        self.status = status


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_port(url: str) -> str:
    """`HOST:PORT` of a URL, for messages (never the path or query, which may hold a token)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    port = parts.port or {"https": 443, "wss": 443}.get(parts.scheme, 80)
    return f"{host}:{port}"


def check_transport_security(url: str, allow_insecure_http: bool) -> None:
    """Refuse URLs that are not http(s), and plain http:// to another machine unless allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{url!r} is not a web address; it should look like http://127.0.0.1:8188."
        )
    if parts.username or parts.password:
        raise ConfigError(
            "Put the server address without a user name or password in it; set the access token "
            "in Settings instead (it is kept in the system keychain)."
        )
    if parts.scheme == "http" and not is_loopback_host(parts.hostname) and not allow_insecure_http:
        raise ConfigError(
            f"Refusing to talk to {host_port(url)} over plain http://: anything sent, including "
            "access tokens, would cross the network unencrypted. Use an https:// address, or "
            "enable “Allow insecure HTTP” for this server if it is on a network you trust."
        )


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


# The CLI sets this around following a job to show a download's progress; None: no one listens.
DOWNLOAD_PROGRESS: ContextVar[Callable[[str, int, int | None], None] | None] = ContextVar(
    "DOWNLOAD_PROGRESS", default=None
)


class _StallWatch:
    """Gives up on a download that trickles: fewer than `least` bytes in any `window` seconds."""

    def __init__(self, window: float, least: int) -> None:
        self.window, self.least = window, least
        self.since, self.bytes = time.monotonic(), 0

    def feed(self, count: int, label: str, where: str, written: int, total: int | None) -> None:
        self.bytes += count
        now = time.monotonic()
        if now - self.since < self.window:
            return
        if self.bytes < self.least:
            done = f"{written:,} of {total:,} bytes" if total else f"{written:,} bytes"
            raise BackendError(
                f"The download of {label} from {where} stalled: only {self.bytes:,} bytes "
                f"arrived in the last {self.window:.0f} s ({done} in all). Nothing was saved; "
                "the file is still on the server. Check the connection (or the proxy in front "
                "of the server) and download it again."
            )
        self.since, self.bytes = now, 0


def _write_chunk(handle: IO[bytes], data: bytes) -> None:
    # A seam for tests (disk-full injection) and the one place chunk writes happen.
    handle.write(data)


def _discard_partial(tmp: Path) -> None:
    """Remove an unfinished download's temporary file (gone already after the rename)."""
    with contextlib.suppress(OSError):
        tmp.unlink(missing_ok=True)


def _fsync(handle: IO[bytes]) -> None:
    handle.flush()
    os.fsync(handle.fileno())


class HttpClient:
    """An httpx.AsyncClient bound to one server, with the rules in the module docstring.

    `service` names the server in messages ("ComfyUI"). `headers`/`params` are sent with every
    request (e.g. a proxy token); their values are treated as secrets for redaction.
    """

    def __init__(
        self,
        service: str,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        secrets: Sequence[str] = (),
        allow_insecure_http: bool = False,
        timeouts: Timeouts = Timeouts(),
        retry: RetryPolicy = RetryPolicy(),
        transport: httpx.AsyncBaseTransport | None = None,
        follow_redirects: bool = False,
    ) -> None:
        check_transport_security(base_url, allow_insecure_http)
        if follow_redirects and (headers or params):
            # A redirect could carry the token to another host: only credential-free clients
            # (e.g. for a cloud file host) may follow them.
            raise ValueError("follow_redirects is only allowed without headers or params")
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.where = f"{service} at {host_port(base_url)}"
        self.timeouts = timeouts
        self.retry = retry
        self.extra_headers = dict(headers or {})
        self.extra_params = dict(params or {})
        self._secrets = tuple(
            s for s in (*secrets, *self.extra_headers.values(), *self.extra_params.values()) if s
        )
        # Masked app-wide from now on: a server may quote a header back in a node error, which
        # reaches job records and the console through other paths than this client.
        register_secret(*self._secrets)
        loopback = is_loopback_host(urlsplit(base_url).hostname or "")
        self._client = httpx.AsyncClient(
            base_url=self.base_url + "/",
            headers=self.extra_headers,
            params=self.extra_params,
            timeout=httpx.Timeout(timeouts.read, connect=timeouts.connect),
            follow_redirects=follow_redirects,  # never with a token (checked above)
            transport=transport,
            trust_env=not loopback,  # an HTTP_PROXY meant for the internet must not catch loopback
        )

    # -- helpers ---------------------------------------------------------------------------
    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def public_url(self, path: str, params: Mapping[str, str] | None = None) -> str:
        """A URL for display or records: our base + path + `params`, without the secret params."""
        url = httpx.URL(self.base_url + "/" + path.lstrip("/"))
        return str(url.copy_with(params=dict(params or {}))) if params else str(url)

    def _unavailable(self, exc: Exception) -> BackendUnavailableError:
        detail = self.redact(f"{type(exc).__name__}: {exc}")
        if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
            return BackendUnavailableError(
                f"{self.where} stopped answering in the middle of a request — it may be busy or "
                "restarting.",
                detail=detail,
            )
        return BackendUnavailableError(
            f"{self.where} is not answering — is it running?", detail=detail
        )

    def status_error(self, response: httpx.Response, action: str) -> BackendError:
        """Turn an unexpected HTTP status into an error the artist can act on."""
        code = response.status_code
        body = ""
        with contextlib.suppress(Exception):
            body = self.redact(response.text.strip())[:300]
        if code in (401, 407):
            return BackendUnavailableError(
                f"{self.where} refused the access credentials (HTTP {code}). Check the access "
                "token for this server in Settings.",
                detail=body or None,
            )
        if code == 403:
            if not body and is_loopback_host(urlsplit(self.base_url).hostname or ""):
                return BackendUnavailableError(
                    f"{self.where} refused the request (HTTP 403 with no reason). ComfyUI does "
                    "this when a request carries an Origin header that does not match its "
                    "address — start it with --enable-cors-header, or connect to the exact "
                    "address it listens on.",
                )
            return BackendUnavailableError(
                f"{self.where} refused access (HTTP 403). If a proxy sits in front of it, check "
                "the access token in Settings.",
                detail=body or None,
            )
        if code in _PROXY_DOWN:
            return BackendUnavailableError(
                f"{self.where} answered “{code} {_PROXY_DOWN[code]}”: the proxy in front of it "
                "cannot reach the server — is it running or restarting?",
                detail=body or None,
            )
        if code == 429:
            return BackendUnavailableError(
                f"{self.where} is rate-limiting us (HTTP 429); try again in a minute."
            )
        if code == 413:
            return HttpStatusError(
                f"{self.where} refused {action}: the request is larger than the server accepts "
                "(HTTP 413). Raise its --max-upload-size or use smaller files.",
                code,
            )
        if code >= 500:
            return HttpStatusError(
                f"{self.where} failed while {action} (HTTP {code}).", code, detail=body or None
            )
        return HttpStatusError(
            f"{self.where} rejected {action} (HTTP {code}).", code, detail=body or None
        )

    # -- requests --------------------------------------------------------------------------
    async def request(
        self,
        method: str,
        path: str,
        *,
        accept: Collection[int] = (200,),
        action: str | None = None,
        idempotent: bool | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - httpx's per-read timeout, not a deadline
        **kwargs: Any,
    ) -> httpx.Response:
        """Send a request; return the response if its status is in `accept`, else raise."""
        method = method.upper()
        action = action or f"{method} {path.split('?')[0]}"
        safe = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        if timeout is not None:
            kwargs["timeout"] = httpx.Timeout(timeout, connect=self.timeouts.connect)
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= self.retry.attempts
            try:
                response = await self._client.request(method, path.lstrip("/"), **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # The request never reached the server: repeating it is safe for any method.
                if last:
                    raise self._unavailable(exc) from exc
                await asyncio.sleep(self.retry.delay(attempt))
                continue
            except httpx.TransportError as exc:
                if last or not safe:
                    raise self._unavailable(exc) from exc
                await asyncio.sleep(self.retry.delay(attempt))
                continue
            code = response.status_code
            if code in accept:
                return response
            retryable = code == 429 or (safe and code in _PROXY_DOWN)
            if retryable and not last:
                wait = self.retry.delay(
                    attempt, parse_retry_after(response.headers.get("retry-after"))
                )
                log.info("%s answered %s to %s; retrying in %.1fs", self.where, code, action, wait)
                await asyncio.sleep(wait)
                continue
            raise self.status_error(response, action)

    async def get_json(self, path: str, *, action: str | None = None, **kwargs: Any) -> Any:
        """GET and parse JSON. A reply that is not JSON (a proxy's error page, a reply cut off
        mid-body) is transient like a 5xx: asked again with the same back-off; when it stays so,
        BackendUnavailableError — callers that follow a job keep trying, as for a server that is down.
        """
        action = action or f"GET {path}"
        for attempt in range(1, self.retry.attempts + 1):
            response = await self.request("GET", path, action=action, **kwargs)
            try:
                return self.parse_json(response, action)
            except BackendError as exc:
                if attempt == self.retry.attempts:
                    raise BackendUnavailableError(exc.user_message, detail=exc.detail) from exc
                log.info("%s sent a reply that is not JSON to %s; asking again", self.where, action)
                await asyncio.sleep(self.retry.delay(attempt))
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def parse_json(self, response: httpx.Response, action: str) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            snippet = self.redact(response.text[:200])
            raise BackendError(
                f"{self.where} sent a reply that is not valid JSON to {action} — is this address "
                "really the server, and not a login page or proxy?",
                detail=snippet,
            ) from exc

    async def download(
        self,
        path: str,
        dest: Path,
        *,
        params: Mapping[str, str] | None = None,
        chunk_size: int = 1 << 20,
        on_progress: Callable[[int, int | None], None] | None = None,
    ) -> Path:
        """Stream `path` into `dest` atomically; resume with Range after a cut if possible.

        Raises BackendError when the body stays incomplete or stalls, StorageError for local disk
        problems (the partial file is always removed; a killed process leaves only a temporary
        file, which the next download into that folder removes). Progress goes to `on_progress`
        and to the `DOWNLOAD_PROGRESS` callback of the calling context (the CLI's progress line).
        """
        dest = Path(dest)
        label = display_name(dest)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            clean_stale_temps(dest.parent)
            fd, tmp_name = make_temp(dest.parent, ".part")
        except OSError as exc:
            raise self._storage_error(exc, dest) from exc
        tmp = Path(tmp_name)
        context_progress = DOWNLOAD_PROGRESS.get()

        def progress(done: int, total: int | None) -> None:
            if on_progress is not None:
                on_progress(done, total)
            if context_progress is not None:
                context_progress(label, done, total)

        try:
            with os.fdopen(fd, "wb") as handle:
                await self._download_into(handle, path, label, params, chunk_size, progress)
                await asyncio.to_thread(_fsync, handle)
            os.chmod(tmp, new_file_mode())  # the artist's file: the usual mode, not 0600
            os.replace(tmp, dest)
        except OSError as exc:
            raise self._storage_error(exc, dest) from exc
        finally:
            await asyncio.to_thread(_discard_partial, tmp)  # a disk call: off the event loop
        return dest

    async def _download_into(
        self,
        handle: IO[bytes],
        path: str,
        label: str,
        params: Mapping[str, str] | None,
        chunk_size: int,
        on_progress: Callable[[int, int | None], None],
    ) -> None:
        written = 0
        most = 0  # the most that arrived in one go: what the final message reports
        total: int | None = None
        resumable = False
        timeout = httpx.Timeout(self.timeouts.download_read, connect=self.timeouts.connect)
        for attempt in range(1, self.retry.attempts + 1):
            headers = {"Range": f"bytes={written}-"} if written and resumable else {}
            buffer = bytearray()
            try:
                async with self._client.stream(
                    "GET",
                    path.lstrip("/"),
                    params=dict(params or {}),
                    headers=headers,
                    timeout=timeout,
                ) as response:
                    if response.status_code == 200:
                        if written:  # the server ignored Range: start over
                            handle.seek(0)
                            handle.truncate()
                            written = 0
                        length = response.headers.get("content-length")
                        total = int(length) if length and length.isdigit() else None
                    elif response.status_code != 206 or not headers:
                        if response.status_code in _PROXY_DOWN and attempt < self.retry.attempts:
                            await asyncio.sleep(self.retry.delay(attempt))
                            continue
                        await response.aread()
                        raise self.status_error(response, f"the download of {label}")
                    resumable = response.headers.get("accept-ranges", "").lower() == "bytes"
                    stall = _StallWatch(self.timeouts.download_stall, self.timeouts.stall_bytes)
                    # Unchunked iteration: bytes are counted as they arrive, so a trickle is
                    # seen (a chunk_size read would wait silently for a full megabyte).
                    async for piece in response.aiter_bytes():
                        buffer += piece
                        if len(buffer) >= chunk_size:
                            await asyncio.to_thread(_write_chunk, handle, bytes(buffer))
                            buffer.clear()
                        written += len(piece)
                        most = max(most, written)
                        on_progress(written, total)
                        stall.feed(len(piece), label, self.where, written, total)
                    if buffer:
                        await asyncio.to_thread(_write_chunk, handle, bytes(buffer))
                if total is None or written == total:
                    return
                log.info("Download of %s stopped at %d of %d bytes", label, written, total)
            except httpx.TransportError as exc:
                if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout) and (
                    attempt == self.retry.attempts
                ):
                    raise self._unavailable(exc) from exc  # down, not breaking off
                if buffer:  # what arrived before the cut is kept for a Range resume
                    await asyncio.to_thread(_write_chunk, handle, bytes(buffer))
                log.info(
                    "Download of %s interrupted at %d bytes: %s",
                    label,
                    written,
                    self.redact(str(exc)),
                )
                if attempt == self.retry.attempts:
                    break
            await asyncio.sleep(self.retry.delay(attempt))
        got = f"{most:,} of {total:,} bytes" if total else f"{most:,} bytes"
        raise BackendError(
            f"The download of {label} from {self.where} kept breaking off (at most {got} arrived "
            f"in {self.retry.attempts} tries); nothing was saved. The file is still on the server: "
            "download it again."
        )

    def _storage_error(self, exc: OSError, dest: Path) -> StorageError:
        if exc.errno == errno.ENOSPC:
            return StorageError(
                f"The disk is full: could not save {dest.name} in {dest.parent}. Free some space "
                "and download again — the file is still on the server; no partial file was kept.",
                detail=str(exc),
            )
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return StorageError(
                f"No permission to write {dest.name} in {dest.parent}. Choose a folder you can "
                "write to.",
                detail=str(exc),
            )
        return StorageError(f"Could not save {dest.name}: {exc.strerror or exc}.", detail=str(exc))

    async def aclose(self) -> None:
        await self._client.aclose()
