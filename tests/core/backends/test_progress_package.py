"""One progress/loss parsing package with a parser per engine on the shared tqdm reading: no
backend module outside `core/backends/progress/` reads tqdm bars itself, and the shared clock and
rate readers behave as each engine's bars need."""

from __future__ import annotations

from pathlib import Path

import pytest

import lora_studio.core.backends as backends
from lora_studio.core.backends.progress import comfyui, kohya, replicate, tqdm
from lora_studio.core.backends.progress.tqdm import parse_clock, rate_per_second, split_lines

ROOT = Path(backends.__file__).parent


def test_only_the_progress_package_parses_tqdm_bars() -> None:
    readers = sorted(
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if "progress" not in path.relative_to(ROOT).parts
        and any(mark in path.read_text(encoding="utf-8") for mark in ("%\\|", "it/s|s/it"))
    )
    assert readers == []
    assert {p.stem for p in (ROOT / "progress").glob("*.py")} >= {
        "tqdm",
        "comfyui",
        "kohya",
        "replicate",
    }


def test_every_engine_parser_builds_on_the_shared_tqdm_reader() -> None:
    for module in (comfyui, kohya, replicate):
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        assert "from lora_studio.core.backends.progress.tqdm import" in source, module.__name__


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("00:05", 5.0), ("12:30", 750.0), ("1:02:03", 3723.0), ("1d, 2:00:00", 93600.0)],
)
def test_tqdm_clock(text: str, seconds: float) -> None:
    assert parse_clock(text) == seconds


@pytest.mark.parametrize("text", [None, "", "?", "a:b", "1:2:3:4"])
def test_tqdm_clock_unknown(text: str | None) -> None:
    assert parse_clock(text) is None


def test_tqdm_rate_and_lines() -> None:
    assert rate_per_second("2.5", "it/s") == 2.5
    assert rate_per_second("4.0", "s/it") == 0.25
    assert rate_per_second("?", "it/s") is None
    assert rate_per_second("0", "s/it") is None
    assert list(split_lines("a\r b  \n\n\rc")) == ["a", " b", "c"]
    assert tqdm.parse_bar("steps:  50%|█    | 3/6 [00:01<00:01,  2.00it/s, avr_loss=0.1]")
