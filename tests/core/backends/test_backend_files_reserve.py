"""Downloads never overwrite: a LoRA already in the output folder, or one that another job is
downloading at the same moment, keeps its file; the new one gets `name-2`, `name-3`, …"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lora_studio.core.backends.files import reserve_new_path
from lora_studio.core.errors import BackendError


def test_existing_file_is_never_reused(tmp_path: Path) -> None:
    (tmp_path / "hero.safetensors").write_bytes(b"the artist's earlier LoRA")
    first = reserve_new_path(tmp_path, "hero.safetensors")
    second = reserve_new_path(tmp_path, "hero.safetensors")
    assert first.name == "hero-2.safetensors" and second.name == "hero-3.safetensors"
    assert (tmp_path / "hero.safetensors").read_bytes() == b"the artist's earlier LoRA"


def test_concurrent_reservations_get_distinct_paths(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        paths = list(pool.map(lambda _: reserve_new_path(tmp_path, "x.safetensors"), range(40)))
    assert len(set(paths)) == 40


def test_escaping_names_are_still_refused(tmp_path: Path) -> None:
    with pytest.raises(BackendError):
        reserve_new_path(tmp_path, "../outside.safetensors")
    assert not (tmp_path.parent / "outside.safetensors").exists()
