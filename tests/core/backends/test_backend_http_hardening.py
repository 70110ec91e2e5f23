"""HTTP under attack: non-JSON replies retried like 5xx, trickling downloads, truncated ones
counted right, killed downloads leaving nothing under a final name, the usual file mode."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lora_studio.core.atomic_io import new_file_mode
from lora_studio.core.backends.files import NewFile
from lora_studio.core.backends.http import (
    DOWNLOAD_PROGRESS,
    HttpClient,
    RetryPolicy,
    Timeouts,
)
from lora_studio.core.errors import BackendError, BackendUnavailableError
from tests.core.backends.comfy_helpers import run
from tests.fakes.fake_comfyui import FakeComfyUI
from tests.fakes.fake_comfyui_engine import write_lora_file

FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)


def client_for(fake: FakeComfyUI, **kwargs) -> HttpClient:  # type: ignore[no-untyped-def]
    kwargs.setdefault("retry", FAST_RETRY)
    return HttpClient("ComfyUI", fake.url, **kwargs)


async def using(client: HttpClient, coro):  # type: ignore[no-untyped-def]
    try:
        return await coro
    finally:
        await client.aclose()


def put_output(fake: FakeComfyUI, name: str, size: int) -> Path:
    path = fake.output_dir / "loras" / name
    write_lora_file(path, rank=4, data_bytes=size, seed=5)
    return path


PARAMS = {"subfolder": "loras", "type": "output"}


def test_a_malformed_reply_is_asked_again_like_a_5xx(fake: FakeComfyUI) -> None:
    fake.faults.malformed_json_paths = {"/queue"}
    fake.faults.malformed_json_count = 2
    client = client_for(fake)
    reply = run(using(client, client.get_json("queue")))
    assert "queue_running" in reply
    assert sum(1 for _, path, _ in fake.requests if path == "/queue") == 3


def test_a_reply_that_stays_malformed_is_unavailable_not_a_crash(fake: FakeComfyUI) -> None:
    fake.faults.malformed_json_paths = {"/queue"}
    client = client_for(fake)
    with pytest.raises(BackendUnavailableError, match="not valid JSON"):
        run(using(client, client.get_json("queue")))


def test_a_trickling_download_shows_progress_and_gives_up_clearly(
    fake: FakeComfyUI, tmp_path: Path
) -> None:
    tmp_path = tmp_path / "out"
    source = put_output(fake, "slow_1_steps_00001_.safetensors", 64 * 1024)
    fake.faults.trickle_downloads = 400.0  # bytes per second
    seen: list[tuple[str, int, int | None]] = []
    client = client_for(fake, timeouts=Timeouts(download_stall=1.0, stall_bytes=2000))

    async def go() -> Path:
        DOWNLOAD_PROGRESS.set(lambda name, done, total: seen.append((name, done, total)))
        return await client.download(
            "view", tmp_path / "slow.safetensors", params={**PARAMS, "filename": source.name}
        )

    with pytest.raises(BackendError) as caught:
        run(using(client, go()), timeout=30)
    message = caught.value.user_message
    assert "stalled" in message and "slow.safetensors" in message and "in the last 1 s" in message
    assert len(seen) >= 3 and seen[-1][0] == "slow.safetensors"
    assert seen[-1][2] == source.stat().st_size and 0 < seen[-1][1] < seen[-1][2]
    assert os.listdir(tmp_path) == []  # nothing half-written kept


def test_truncated_downloads_report_the_bytes_that_did_arrive(
    fake: FakeComfyUI, tmp_path: Path
) -> None:
    tmp_path = tmp_path / "out"
    source = put_output(fake, "cut_1_steps_00001_.safetensors", 64 * 1024)
    size = source.stat().st_size
    fake.faults.truncate_downloads = 20
    client = client_for(fake)
    with pytest.raises(BackendError) as caught:
        run(
            using(
                client,
                client.download(
                    "view", tmp_path / "cut.safetensors", params={**PARAMS, "filename": source.name}
                ),
            )
        )
    assert f"at most {size // 2:,} of {size:,} bytes" in caught.value.user_message
    assert os.listdir(tmp_path) == []


def test_new_file_commits_under_a_free_name_and_a_killed_one_is_cleaned(
    fake: FakeComfyUI, tmp_path: Path
) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    source = put_output(fake, "ok_1_steps_00001_.safetensors", 4096)
    (tmp_path / "hero.safetensors").write_bytes(b"the artist's own file")
    dead = NewFile(tmp_path, "hero.safetensors")  # a download killed before commit…
    dead.staging.write_bytes(b"half")
    os.rename(dead.staging, tmp_path / dead.staging.name.replace(str(os.getpid()), "999999", 1))
    target = NewFile(tmp_path, "hero.safetensors")  # …is cleaned when the next one starts
    client = client_for(fake)
    run(
        using(
            client,
            client.download("view", target.staging, params={**PARAMS, "filename": source.name}),
        )
    )
    final = target.commit()
    assert final.name == "hero-2.safetensors"
    assert (tmp_path / "hero.safetensors").read_bytes() == b"the artist's own file"
    assert final.read_bytes() == source.read_bytes()
    assert final.stat().st_mode & 0o777 == new_file_mode()
    assert sorted(os.listdir(tmp_path)) == ["hero-2.safetensors", "hero.safetensors"]
