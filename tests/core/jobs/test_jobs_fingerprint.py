"""Dataset fingerprints: stable, content-sensitive, blind to hidden and unrelated files."""

from __future__ import annotations

import hashlib
import unicodedata
from pathlib import Path

import pytest

from lora_studio.core.errors import DatasetError
from lora_studio.core.jobs import dataset_fingerprint
from lora_studio.core.jobs import fingerprint as fingerprint_module


def _dataset(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "a.png").write_bytes(b"\x89PNG fake a")
    (root / "a.txt").write_text("a cat, sitting", encoding="utf-8")
    (root / "sub" / "b.JPG").write_bytes(b"\xff\xd8 fake b" * 1000)
    (root / "sub" / "b.txt").write_text("a cat, running", encoding="utf-8")
    return root


def test_fingerprint_is_a_stable_sha256_hex(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "ds")
    first = dataset_fingerprint(root)
    assert len(first) == 64 and int(first, 16) >= 0
    assert dataset_fingerprint(str(root)) == first


def test_same_content_elsewhere_gives_the_same_fingerprint(tmp_path: Path) -> None:
    assert dataset_fingerprint(_dataset(tmp_path / "one")) == dataset_fingerprint(
        _dataset(tmp_path / "two")
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda root: (root / "a.txt").write_text("a dog, sitting", encoding="utf-8"),
        lambda root: (root / "sub" / "b.JPG").write_bytes(b"other"),
        lambda root: (root / "a.png").rename(root / "c.png"),
        lambda root: (root / "sub" / "b.txt").unlink(),
        lambda root: (root / "new.webp").write_bytes(b"RIFF"),
    ],
    ids=["caption", "image", "rename", "remove", "add"],
)
def test_any_training_relevant_change_changes_it(tmp_path: Path, change) -> None:  # type: ignore[no-untyped-def]
    root = _dataset(tmp_path / "ds")
    before = dataset_fingerprint(root)
    change(root)
    assert dataset_fingerprint(root) != before


def test_hidden_and_unrelated_files_are_ignored(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "ds")
    before = dataset_fingerprint(root)
    (root / ".lorastudio").mkdir()
    (root / ".lorastudio" / "thumb.png").write_bytes(b"cache")
    (root / ".lorastudio" / "notes.txt").write_text("x", encoding="utf-8")
    (root / ".DS_Store").write_bytes(b"junk")
    (root / "._a.png").write_bytes(b"apple double")
    (root / "config.toml").write_text("rank = 4", encoding="utf-8")
    (root / "sub" / "sample.json").write_text("{}", encoding="utf-8")
    assert dataset_fingerprint(root) == before


def test_path_boundaries_are_unambiguous(tmp_path: Path) -> None:
    # Moving bytes between a name and the content must not collide.
    one = tmp_path / "one"
    two = tmp_path / "two"
    one.mkdir()
    two.mkdir()
    (one / "ab.txt").write_bytes(b"c")
    (two / "a.txt").write_bytes(b"bc")
    assert dataset_fingerprint(one) != dataset_fingerprint(two)


def test_decomposed_unicode_names_match_composed_ones(tmp_path: Path) -> None:
    composed = unicodedata.normalize("NFC", "café.png")
    decomposed = unicodedata.normalize("NFD", "café.png")
    (tmp_path / "nfc").mkdir()
    (tmp_path / "nfd").mkdir()
    (tmp_path / "nfc" / composed).write_bytes(b"x")
    (tmp_path / "nfd" / decomposed).write_bytes(b"x")
    assert dataset_fingerprint(tmp_path / "nfc") == dataset_fingerprint(tmp_path / "nfd")


def test_layout_matches_the_documented_digest(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Small chunks force the streamed path through several reads.
    monkeypatch.setattr(fingerprint_module, "CHUNK_SIZE", 7)
    root = _dataset(tmp_path / "ds")
    expected = hashlib.sha256(b"lora-studio dataset fingerprint v1\n")
    for rel in ["a.png", "a.txt", "sub/b.JPG", "sub/b.txt"]:
        name = rel.encode()
        expected.update(len(name).to_bytes(4, "big") + name)
        expected.update(hashlib.sha256((root / rel).read_bytes()).digest())
    assert dataset_fingerprint(root) == expected.hexdigest()


def test_progress_is_reported_per_file(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    dataset_fingerprint(_dataset(tmp_path / "ds"), progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_missing_folder_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as info:
        dataset_fingerprint(tmp_path / "nope")
    assert str(tmp_path / "nope") in info.value.user_message


def test_unreadable_file_names_the_file(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    root = _dataset(tmp_path / "ds")
    real_open = open

    def refusing_open(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if Path(path).name == "a.png":
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(fingerprint_module, "open", refusing_open, raising=False)
    with pytest.raises(DatasetError) as info:
        dataset_fingerprint(root)
    assert str(root / "a.png") in info.value.user_message
    assert "Permission denied" in info.value.user_message
