"""`lora-studio caption`: end to end in a subprocess against the fake caption servers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.fakes.fake_caption_servers import DEFAULT_CAPTION, FakeCaptionServer

REPO = Path(__file__).resolve().parents[1]


def picture(path: Path, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    blocks = np.random.default_rng(seed).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    Image.fromarray(blocks).resize((400, 300)).save(path, "JPEG")
    return path


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    root = tmp_path / "dataset"
    for i in range(5):
        picture(root / "10_ohwx" / f"pic{i}.jpg", i)
    (root / "10_ohwx" / "pic0.txt").write_text("hand written")
    return root


@pytest.fixture
def fake() -> Iterator[FakeCaptionServer]:
    with FakeCaptionServer() as server:
        yield server


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lora_studio", "caption", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )


def captions(root: Path) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(root.glob("10_ohwx/*.txt"))}


def test_template_with_trigger_every_caption_starts_with_it(dataset: Path) -> None:
    result = cli(
        str(dataset), "--provider", "template", "--template", "{folder}, {name}",
        "--mode", "overwrite", "--trigger", "ohwx",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert all(text.startswith("ohwx") for text in captions(dataset).values())
    assert captions(dataset)["pic1"] == "ohwx, pic1"  # {folder} is ohwx: not repeated
    assert "Captioned 5 pictures, 0 failed, 0 skipped." in result.stdout
    assert "Captioning" not in result.stderr.split("\n", 1)[1]  # no progress line when piped


def test_ollama_per_image_lines_summary_and_a_failure_is_not_fatal(
    dataset: Path, fake: FakeCaptionServer
) -> None:
    fake.fail_next(2, status=500, body={"error": "llama runner process has terminated"})
    result = cli(
        str(dataset), "--provider", "ollama", "--url", fake.ollama_url, "--model", "llava:7b",
        "--trigger", "ohwx", "--retries", "1", "--concurrency", "1", "--add-tags", "photo",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    ok = [line for line in lines if line.startswith("ok ")]
    failed = [line for line in lines if line.startswith("failed ")]
    assert len(ok) == 3 and len(failed) == 1
    assert "llama runner process has terminated" in failed[0]
    assert "Captioned 3 pictures, 1 failed, 1 skipped." in result.stdout
    assert "skipped 1: Already has a caption." in result.stdout
    assert "retry the failed" in result.stdout
    assert "free" in result.stderr  # the estimate came first
    texts = captions(dataset)
    assert texts["pic0"] == "hand written"
    expected = f"ohwx, photo, {DEFAULT_CAPTION}"
    assert sorted(t for k, t in texts.items() if k != "pic0") == [expected] * 3


def test_json_output(dataset: Path, fake: FakeCaptionServer) -> None:
    result = cli(
        str(dataset), "--provider", "openai", "--url", fake.openai_url, "--model", "local-vlm",
        "--mode", "append", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["summary"] == {"ok": 5, "failed": 0, "skipped": 0}
    assert data["estimate"]["cost_usd"] == 0.0 and "own machine" in data["estimate"]["basis"]
    first = next(o for o in data["outcomes"] if o["image"] == "10_ohwx/pic0.jpg")
    assert first["caption"] == f"hand written, {DEFAULT_CAPTION}"
    assert data["cancelled"] is False and data["stopped"] is None


def test_model_not_found_fails_the_command(dataset: Path, fake: FakeCaptionServer) -> None:
    result = cli(str(dataset), "--provider", "ollama", "--url", fake.ollama_url, "--model", "x:1b")
    assert result.returncode == 1
    assert "ollama pull x:1b" in result.stderr
    assert "Traceback" not in result.stderr
    assert captions(dataset) == {"pic0": "hand written"}


def test_key_comes_from_the_environment_and_is_never_printed(
    dataset: Path, fake: FakeCaptionServer
) -> None:
    fake.require_key = "sk-secret-value-12345678"
    bad = cli(
        str(dataset), "--provider", "openai", "--url", fake.openai_url, "--model", "gpt-4o-mini",
        env={"LORA_STUDIO_CAPTION_API_KEY": "sk-wrong-value-87654321"},
    )  # fmt: skip
    assert bad.returncode == 1 and "HTTP 401" in bad.stderr
    assert "sk-wrong-value-87654321" not in bad.stderr + bad.stdout
    good = cli(
        str(dataset), "--provider", "openai", "--url", fake.openai_url, "--model", "gpt-4o-mini",
        env={"LORA_STUDIO_CAPTION_API_KEY": "sk-secret-value-12345678"},
    )  # fmt: skip
    assert good.returncode == 0, good.stderr
    assert len(captions(dataset)) == 5


@pytest.mark.parametrize(
    "args",
    [
        ["--provider", "template", "--concurrency", "0"],
        ["--provider", "ollama", "--template", "{name}"],
        ["--provider", "template", "--template", "{colour}"],
        ["--provider", "openai", "--url", "http://10.0.0.5:1234/v1"],
    ],
)
def test_bad_input_exits_2(dataset: Path, args: list[str]) -> None:
    result = cli(str(dataset), *args)
    assert result.returncode == 2 and result.stderr.strip() and "Traceback" not in result.stderr


def test_missing_folder_exits_2(tmp_path: Path) -> None:
    result = cli(str(tmp_path / "nope"), "--provider", "template")
    assert result.returncode == 2 and "does not exist" in result.stderr


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child")
def test_ctrl_c_cancels_cleanly_and_a_rerun_resumes(dataset: Path, fake: FakeCaptionServer) -> None:
    fake.latency = 1.0  # the four pictures left would take 4 s more
    args = [
        sys.executable, "-m", "lora_studio", "caption", str(dataset), "--provider", "ollama",
        "--url", fake.ollama_url, "--model", "llava:7b", "--mode", "overwrite",
        "--concurrency", "1",
    ]  # fmt: skip
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # the first finished caption
    assert first.startswith("ok ")
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert time.monotonic() - started < 3.0
    assert proc.returncode == 1
    assert "Cancelled; the captions written so far are kept" in out
    assert "Traceback" not in err
    done = [k for k, t in captions(dataset).items() if t == DEFAULT_CAPTION]
    assert 1 <= len(done) < 5
    fake.latency = 0.0
    again = cli(
        str(dataset), "--provider", "ollama", "--url", fake.ollama_url, "--model", "llava:7b",
        "--mode", "overwrite", "--concurrency", "1",
    )  # fmt: skip
    assert again.returncode == 0
    assert f"skipped {len(done)}: Captioned by the interrupted run (resumed)." in again.stdout
    assert set(captions(dataset).values()) == {DEFAULT_CAPTION}
