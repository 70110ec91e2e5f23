"""Shared HTTP rules: transport security, safe retries, readable errors, redaction, safe names,
and streamed downloads (RSS, truncation, resume, disk full) — against the fake ComfyUI."""

from __future__ import annotations

import errno
import hashlib
import os
import socket
import struct
import time
from pathlib import Path

import httpx
import psutil
import pytest

from lora_studio.core.backends import http as http_module
from lora_studio.core.backends.files import check_safetensors_file, safe_filename, safe_join
from lora_studio.core.backends.http import (
    HttpClient,
    RetryPolicy,
    Timeouts,
    check_transport_security,
    parse_retry_after,
)
from lora_studio.core.errors import (
    BackendError,
    BackendUnavailableError,
    ConfigError,
    StorageError,
    WeightsError,
)
from tests.core.backends.comfy_helpers import run
from tests.fakes.fake_comfyui import FakeComfyUI
from tests.fakes.fake_comfyui_engine import write_lora_file

FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


def client_for(url: str, **kwargs) -> HttpClient:  # type: ignore[no-untyped-def]
    kwargs.setdefault("retry", FAST_RETRY)
    return HttpClient("ComfyUI", url, **kwargs)


async def using(client: HttpClient, coro):  # type: ignore[no-untyped-def]
    try:
        return await coro
    finally:
        await client.aclose()


# -- transport security --------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8188",
        "http://localhost:8188",
        "http://[::1]:8188",
        "https://comfy.example.org",
        "https://10.0.0.5:8443",
    ],
)
def test_loopback_http_and_any_https_are_fine(url: str) -> None:
    check_transport_security(url, allow_insecure_http=False)


@pytest.mark.parametrize("url", ["http://192.168.1.20:8188", "http://comfy.example.org"])
def test_plain_http_to_another_machine_is_refused_unless_allowed(url: str) -> None:
    with pytest.raises(ConfigError, match="unencrypted"):
        check_transport_security(url, allow_insecure_http=False)
    check_transport_security(url, allow_insecure_http=True)


def test_urls_with_credentials_or_other_schemes_are_refused() -> None:
    with pytest.raises(ConfigError, match="keychain"):
        check_transport_security("https://me:pw@comfy.example.org", allow_insecure_http=False)
    with pytest.raises(ConfigError, match="not a web address"):
        check_transport_security("ftp://comfy.example.org", allow_insecure_http=False)


# -- safe names ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "a/../../x",
        "..\\evil.safetensors",
        "/etc/passwd",
        "C:\\Windows\\x.dll",
        "",
        "  ",
        "..",
        "bad\x00name",
    ],
)
def test_escaping_or_empty_names_are_refused(name: str) -> None:
    with pytest.raises(BackendError):
        safe_filename(name)


def test_directories_are_stripped_and_odd_names_neutralised(tmp_path: Path) -> None:
    assert safe_filename("loras/x_4_steps_00001_.safetensors") == "x_4_steps_00001_.safetensors"
    assert safe_filename(".hidden") == "_hidden"
    assert safe_filename("CON.txt") == "_CON.txt"
    assert safe_join(tmp_path, "sub/y.bin") == (tmp_path / "y.bin").resolve()


# -- safetensors check ---------------------------------------------------------------------
def test_safetensors_check_accepts_whole_files_and_rejects_truncated(tmp_path: Path) -> None:
    path = tmp_path / "a.safetensors"
    write_lora_file(path, rank=4, data_bytes=10_000, seed=1)
    assert check_safetensors_file(path) == 4  # alpha, down, up, padding
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size - 100)
    with pytest.raises(WeightsError, match="incomplete"):
        check_safetensors_file(path)
    path.write_bytes(struct.pack("<Q", 10**12) + b"{}")
    with pytest.raises(WeightsError, match="damaged or incomplete"):
        check_safetensors_file(path)
    path.write_bytes(struct.pack("<Q", 4) + b"nope")
    with pytest.raises(WeightsError, match="unreadable header"):
        check_safetensors_file(path)


# -- retries and error mapping -------------------------------------------------------------
def test_get_is_retried_through_a_restarting_proxy(fake: FakeComfyUI) -> None:
    fake.faults.proxy_502 = 2
    client = client_for(fake.url)
    data = run(using(client, client.get_json("system_stats")))
    assert data["system"]["comfyui_version"] == "0.3.64"
    assert [p for _, p, _ in fake.requests].count("/system_stats") == 3


def test_post_is_not_retried_after_a_502(fake: FakeComfyUI) -> None:
    fake.faults.proxy_502 = 1
    client = client_for(fake.url)
    with pytest.raises(BackendUnavailableError, match=r"502 Bad Gateway.*is it running"):
        run(using(client, client.request("POST", "queue", json={"delete": []})))
    assert [p for _, p, _ in fake.requests].count("/queue") == 1


def test_persistent_502_ends_in_a_clear_message(fake: FakeComfyUI) -> None:
    fake.faults.proxy_502 = 10
    client = client_for(fake.url)
    with pytest.raises(BackendUnavailableError) as caught:
        run(using(client, client.get_json("system_stats")))
    assert caught.value.user_message.startswith(f"ComfyUI at 127.0.0.1:{fake.port} answered “502")


def test_retry_after_is_honoured(fake: FakeComfyUI) -> None:
    fake.faults.rate_limited = 1
    client = client_for(fake.url)
    began = time.monotonic()
    run(using(client, client.get_json("system_stats")))
    assert time.monotonic() - began >= 0.95
    assert parse_retry_after("7") == 7.0 and parse_retry_after("soon") is None


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_refused_says_is_it_running() -> None:
    port = closed_port()
    client = client_for(f"http://127.0.0.1:{port}")
    with pytest.raises(BackendUnavailableError) as caught:
        run(using(client, client.get_json("system_stats")))
    assert caught.value.user_message == (
        f"ComfyUI at 127.0.0.1:{port} is not answering — is it running?"
    )


def test_slow_server_times_out_with_a_message(fake: FakeComfyUI) -> None:
    fake.faults.slow_response = 1.0
    client = client_for(
        fake.url, timeouts=Timeouts(connect=1, read=0.2), retry=RetryPolicy(attempts=1)
    )
    with pytest.raises(BackendUnavailableError, match="stopped answering"):
        run(using(client, client.get_json("system_stats")))


def test_malformed_json_is_reported_not_crashed_on(fake: FakeComfyUI) -> None:
    fake.faults.malformed_json_paths = {"/queue"}
    client = client_for(fake.url)
    with pytest.raises(BackendError, match="not valid JSON"):
        run(using(client, client.get_json("queue")))


def test_origin_mismatch_403_explains_the_guard(fake: FakeComfyUI) -> None:
    client = client_for(fake.url, headers={"Origin": "http://evil.example"})
    with pytest.raises(BackendUnavailableError, match="Origin header"):
        run(using(client, client.get_json("system_stats")))


def test_tokens_never_appear_in_errors() -> None:
    secret = "sk-live-0123456789abcdef"

    def echo(request: httpx.Request) -> httpx.Response:
        # A proxy that puts the request (with our token) into its error page.
        return httpx.Response(500, text=f"boom for {request.url} auth={request.headers['X-Token']}")

    client = client_for(
        "https://comfy.example.org",
        headers={"X-Token": secret},
        params={"token": secret},
        transport=httpx.MockTransport(echo),
    )
    with pytest.raises(BackendError) as caught:
        run(using(client, client.get_json("system_stats")))
    assert secret not in str(caught.value) and secret not in (caught.value.detail or "")
    assert "***" in (caught.value.detail or "")
    assert secret not in client.public_url("view", {"filename": "x"})


# -- downloads -----------------------------------------------------------------------------
def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def put_output(fake: FakeComfyUI, name: str, size: int) -> Path:
    path = fake.output_dir / "loras" / name
    write_lora_file(path, rank=4, data_bytes=size, seed=5)
    return path


def download(fake: FakeComfyUI, name: str, dest: Path) -> Path:
    client = client_for(fake.url)
    params = {"filename": name, "subfolder": "loras", "type": "output"}
    return run(using(client, client.download("view", dest, params=params)), timeout=120)


@pytest.mark.slow
def test_a_200mb_download_streams_without_growing_memory(fake: FakeComfyUI, tmp_path: Path) -> None:
    source = put_output(fake, "big_1_steps_00001_.safetensors", 210 * 1024 * 1024)
    process = psutil.Process()
    before = process.memory_info().rss
    result = download(fake, source.name, tmp_path / "out" / "big.safetensors")
    growth = process.memory_info().rss - before
    assert growth < 50 * 1024 * 1024, f"RSS grew by {growth / 2**20:.0f} MB"
    assert sha256(result) == sha256(source)
    assert os.listdir(tmp_path / "out") == ["big.safetensors"]


def test_a_download_cut_once_resumes_with_range(fake: FakeComfyUI, tmp_path: Path) -> None:
    source = put_output(fake, "r_1_steps_00001_.safetensors", 3 * 1024 * 1024)
    fake.faults.truncate_downloads = 1
    result = download(fake, source.name, tmp_path / "r.safetensors")
    assert sha256(result) == sha256(source)
    assert any("Range" in headers for _, path, headers in fake.requests if path == "/view")


def test_a_download_that_keeps_breaking_is_rejected_and_leaves_nothing(
    fake: FakeComfyUI, tmp_path: Path
) -> None:
    source = put_output(fake, "t_1_steps_00001_.safetensors", 1024 * 1024)
    fake.faults.truncate_downloads = 99
    out = tmp_path / "out"
    with pytest.raises(BackendError, match="kept breaking off"):
        download(fake, source.name, out / "t.safetensors")
    assert os.listdir(out) == []


def test_disk_full_is_clear_and_leaves_no_partial_file(
    fake: FakeComfyUI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = put_output(fake, "d_1_steps_00001_.safetensors", 4 * 1024 * 1024)
    written = []

    def full_disk(handle, data: bytes) -> None:  # type: ignore[no-untyped-def]
        if written:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(len(data))
        handle.write(data)

    monkeypatch.setattr(http_module, "_write_chunk", full_disk)
    out = tmp_path / "out"
    with pytest.raises(StorageError, match="disk is full") as caught:
        download(fake, source.name, out / "d.safetensors")
    assert "no partial file was kept" in caught.value.user_message
    assert os.listdir(out) == []
