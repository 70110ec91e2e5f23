"""kohya's files: the delivered LoRA (or kept checkpoint) is written under a temporary name and
named only once complete (`NewFile`, usual mode), so a process killed mid-copy leaves nothing under
the LoRA's name; and the staged dataset holds only what the dataset scan accepted (no link that
leaves the dataset reaches the trainer)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lora_studio.core.atomic_io import TEMP_MARK, new_file_mode
from lora_studio.core.backends.kohya.backend import _deliver
from lora_studio.core.backends.kohya.command import stage_dataset
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.errors import WeightsError
from lora_studio.core.training.dataset_input import load_training_dataset
from tests.e2e.test_cli_train_comfyui import make_dataset

REPO = Path(__file__).resolve().parents[3]


def lora_file(path: Path, payload: bytes = b"\x01" * 4096) -> Path:
    """A structurally complete one-tensor safetensors file."""
    header = b'{"w":{"dtype":"U8","shape":[%d],"data_offsets":[0,%d]}}' % (
        len(payload),
        len(payload),
    )
    path.write_bytes(len(header).to_bytes(8, "little") + header + payload)
    return path


def test_deliver_names_the_copy_only_when_complete_with_the_usual_mode(tmp_path: Path) -> None:
    source = lora_file(tmp_path / "hero.safetensors")
    (dest := tmp_path / "out").mkdir()
    (dest / "hero.safetensors").write_bytes(b"the artist's earlier LoRA")

    first = _deliver(source, dest, "hero.safetensors")
    second = _deliver(source, dest, "hero.safetensors")

    assert (dest / "hero.safetensors").read_bytes() == b"the artist's earlier LoRA"
    assert first.name == "hero-2.safetensors" and second.name == "hero-3.safetensors"
    assert first.read_bytes() == source.read_bytes()
    assert first.stat().st_mode & 0o777 == new_file_mode()
    assert sorted(p.name for p in dest.iterdir()) == [
        "hero-2.safetensors",
        "hero-3.safetensors",
        "hero.safetensors",
    ]


def test_a_process_killed_mid_copy_leaves_nothing_under_the_loras_name(tmp_path: Path) -> None:
    source = lora_file(tmp_path / "hero.safetensors", b"\x02" * (3 << 20))
    dest = tmp_path / "out"
    # The copy dies (like kill -9: no finally, no cleanup) after its first chunk.
    script = textwrap.dedent(
        f"""
        import os, shutil
        from pathlib import Path
        from lora_studio.core.backends.kohya import backend

        def dying_copy(src, dst, length=0):
            dst.write(src.read(1 << 20))
            dst.flush()
            os._exit(9)

        backend.shutil.copyfileobj = dying_copy
        backend._deliver(Path({str(source)!r}), Path({str(dest)!r}), "hero.safetensors")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, timeout=60, check=False)
    assert result.returncode == 9
    names = [p.name for p in dest.iterdir()] if dest.exists() else []
    assert "hero.safetensors" not in names
    assert all(name.startswith(TEMP_MARK) for name in names)  # only the staging file, if any

    # The next delivery into that folder removes the dead process's leftover and names the LoRA.
    delivered = _deliver(source, dest, "hero.safetensors")
    assert delivered.name == "hero.safetensors"
    assert [p.name for p in dest.iterdir()] == ["hero.safetensors"]


def test_a_damaged_source_is_refused_and_leaves_no_file(tmp_path: Path) -> None:
    source = tmp_path / "hero.safetensors"
    source.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}")
    dest = tmp_path / "out"
    with pytest.raises(WeightsError, match=r"hero\.safetensors"):
        _deliver(source, dest, "hero.safetensors")
    assert not dest.exists() or list(dest.iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_the_trainer_sees_only_files_the_dataset_scan_accepted(tmp_path: Path) -> None:
    folder = make_dataset(tmp_path / "data", count=2)
    outside = tmp_path / "outside"
    outside.mkdir()
    make_dataset(outside / "private", count=1)
    secret = outside / "private" / "img 0.png"
    os.symlink(secret, folder / "linked.png")  # a link that leaves the dataset
    (folder / "linked.txt").write_text("ohwx, linked", encoding="utf-8")
    os.symlink(outside / "private", folder / "linked folder")

    config = TrainingConfig(base_model_family="sd15", base_model="x.safetensors", max_steps=4)
    dataset = load_training_dataset(folder, config)
    flagged = {p.path.name for p in dataset.scan.problems if p.kind == "link_outside"}
    assert flagged == {"linked.png", "linked folder"}
    staged = stage_dataset(dataset.summary, config, tmp_path / "staged")

    seen = [path for sub, _ in staged for path in sub.iterdir() if path.suffix == ".png"]
    assert len(seen) == 2
    targets = {path.resolve() for path in seen}
    assert targets == {(folder / "img 0.png").resolve(), (folder / "img 1.png").resolve()}
    assert all(outside.resolve() not in t.parents for t in targets)
