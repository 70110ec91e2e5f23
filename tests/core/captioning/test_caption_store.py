"""CaptionStore: atomic caption writes with a journal, undo/redo after a restart, groups."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lora_studio.core.dataset.caption_store import JOURNAL_NAME, CaptionStore
from lora_studio.core.errors import DatasetError


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "ds"
    (folder / "10_cat").mkdir(parents=True)
    for name in ("a", "b", "c"):
        (folder / "10_cat" / f"{name}.png").write_bytes(b"png")
    (folder / "10_cat" / "a.txt").write_text("cat, sofa", encoding="utf-8")
    return folder


def img(root: Path, name: str) -> Path:
    return root / "10_cat" / f"{name}.png"


def test_read_write_and_nothing_created_until_first_change(root: Path) -> None:
    store = CaptionStore(root)
    assert store.read(img(root, "a")) == "cat, sofa"
    assert store.read(img(root, "b")) == ""
    assert not (root / ".lorastudio").exists()
    assert not store.can_undo and store.undo_label is None
    assert store.write(img(root, "a"), "cat, sofa") is False  # unchanged: no record
    assert not (root / ".lorastudio").exists()
    assert store.write(img(root, "a"), "cat, red sofa") is True
    assert (root / "10_cat" / "a.txt").read_bytes() == b"cat, red sofa"
    assert store.can_undo and store.undo_label == "Edit caption"
    lines = (root / ".lorastudio" / JOURNAL_NAME).read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    assert first["changes"] == [
        {"path": "10_cat/a.png", "old": "cat, sofa", "new": "cat, red sofa"}
    ]


def test_undo_redo_survive_restart(root: Path) -> None:
    store = CaptionStore(root)
    store.write(img(root, "a"), "one")
    store.write(img(root, "b"), "new caption", label="Caption b")  # b had no caption
    assert store.apply({img(root, "a"): "two", img(root, "c"): "cee"}, label="Batch") == 2

    again = CaptionStore(root)  # a restart
    assert again.undo_label == "Batch"
    assert sorted(p.name for p in again.undo()) == ["a.png", "c.png"]
    assert again.read(img(root, "a")) == "one" and not (root / "10_cat" / "c.txt").exists()
    assert again.undo() == [img(root, "b")]
    assert not (root / "10_cat" / "b.txt").exists()  # undoing a new caption removes the file
    assert again.redo_label == "Caption b"

    third = CaptionStore(root)
    assert third.undo_label == "Edit caption" and third.redo_label == "Caption b"
    assert third.redo() == [img(root, "b")]
    assert third.read(img(root, "b")) == "new caption"
    # A new change drops the redo branch, also after yet another restart.
    third.write(img(root, "c"), "fresh")
    fourth = CaptionStore(root)
    assert not fourth.can_redo
    assert [s.label for s in fourth.history()] == ["Edit caption", "Caption b", "Edit caption"]
    assert fourth.undo() and fourth.undo() and fourth.undo()
    assert fourth.undo() == [] and not fourth.can_undo
    assert fourth.read(img(root, "a")) == "cat, sofa"


def test_group_writes_are_one_undo_step(root: Path) -> None:
    store = CaptionStore(root)
    store.write(img(root, "a"), "before")
    group = store.new_group()
    for name in ("a", "b", "c"):
        store.write(img(root, name), f"auto {name}", label="Auto-caption", group=group)
    reopened = CaptionStore(root)
    assert reopened.undo_label == "Auto-caption"
    assert len(reopened.undo()) == 3
    assert reopened.read(img(root, "a")) == "before"
    assert reopened.undo_label == "Edit caption"
    assert len(reopened.redo()) == 3 and reopened.read(img(root, "c")) == "auto c"


def test_torn_last_line_is_ignored_and_cut(root: Path) -> None:
    store = CaptionStore(root)
    store.write(img(root, "a"), "kept")
    journal = root / ".lorastudio" / JOURNAL_NAME
    with journal.open("ab") as handle:
        handle.write(b'{"op":"change","id":9,"label":"torn","changes":[{"pa')
    reopened = CaptionStore(root)
    assert reopened.undo_label == "Edit caption"
    assert journal.read_bytes().endswith(b"\n")
    reopened.write(img(root, "b"), "after")
    assert CaptionStore(root).undo_label == "Edit caption"
    assert len(CaptionStore(root).history()) == 2


def test_unfinished_last_record_is_completed_on_open(root: Path) -> None:
    """A crash after the journal record but before the .txt writes: the open finishes it."""
    store = CaptionStore(root)
    store.write(img(root, "a"), "first")
    journal = root / ".lorastudio" / JOURNAL_NAME
    record = {
        "op": "change",
        "id": 5,
        "label": "Batch",
        "changes": [
            {"path": "10_cat/a.png", "old": "first", "new": "second"},
            {"path": "10_cat/b.png", "old": None, "new": "bee"},
        ],
    }
    with journal.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
    reopened = CaptionStore(root)
    assert reopened.read(img(root, "a")) == "second" and reopened.read(img(root, "b")) == "bee"
    assert reopened.undo_label == "Batch"
    reopened.undo()
    assert reopened.read(img(root, "a")) == "first" and not (root / "10_cat/b.txt").exists()


def test_other_process_appends_are_seen(root: Path) -> None:
    gui = CaptionStore(root)
    cli = CaptionStore(root)
    cli.write(img(root, "b"), "from the cli", label="Auto-caption")
    assert gui.undo_label == "Auto-caption"
    assert gui.undo() == [img(root, "b")]
    assert cli.redo_label == "Auto-caption"


def test_outside_dataset_is_refused(root: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not inside the dataset"):
        CaptionStore(root).write(tmp_path / "elsewhere.png", "x")


def test_relative_paths_and_unicode(root: Path) -> None:
    store = CaptionStore(root)
    store.write(Path("10_cat/b.png"), "ünïcode ✓ 猫")
    assert (root / "10_cat" / "b.txt").read_bytes() == "ünïcode ✓ 猫".encode()
    assert CaptionStore(root).undo() == [img(root, "b")]


def test_compaction_keeps_recent_steps(root: Path) -> None:
    store = CaptionStore(root, max_steps=3)
    for n in range(10):
        store.write(img(root, "a"), f"v{n}")
    store.undo()
    reopened = CaptionStore(root, max_steps=3)  # compacts: 3 applied steps + the redo step are kept
    assert [s.label for s in reopened.history()] == ["Edit caption"] * 3
    assert reopened.can_redo and reopened.redo() and reopened.read(img(root, "a")) == "v9"
    lines = (root / ".lorastudio" / JOURNAL_NAME).read_text().splitlines()
    assert len(lines) <= 12
    while reopened.undo():
        pass
    assert reopened.read(img(root, "a")) == "v5"


def test_paths_through_a_symlink(root: Path, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(root)
    store = CaptionStore(link)
    assert store.write(img(root, "b"), "via the real path")
    assert store.relative(img(link, "b")) == "10_cat/b.png"
    assert CaptionStore(root).undo() == [img(root, "b")]


def test_big_step_is_written_in_parallel_with_progress(tmp_path: Path) -> None:
    images = []
    for n in range(40):
        image = tmp_path / f"p{n:02d}.png"
        image.write_bytes(b"x")
        images.append(image)
    store = CaptionStore(tmp_path)
    ticks: list[int] = []
    changes = {image: f"caption {image.stem}" for image in images}
    assert (
        store.apply(changes, label="Batch", progress=lambda done, total: ticks.append(done)) == 40
    )
    assert ticks == list(range(1, 41))
    assert all(i.with_suffix(".txt").read_text() == f"caption {i.stem}" for i in images)
    group = store.new_group()
    for image in images[:10]:  # the same captions twice in one group step
        store.write(image, "first", group=group)
        store.write(image, "second", group=group)
    assert len(store.undo()) == 10
    assert images[3].with_suffix(".txt").read_text() == "caption p03"
    store.redo()
    assert all(i.with_suffix(".txt").read_text() == "second" for i in images[:10])


def test_compaction_also_bounds_the_size(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lora_studio.core.dataset import caption_store

    monkeypatch.setattr(caption_store, "_COMPACT_BYTES", 20_000)
    store = CaptionStore(root)
    for n in range(8):  # 8 steps of ~4 KB each: over the 20 KB limit
        store.write(img(root, "a"), f"{n} " + "long caption " * 300)
    reopened = CaptionStore(root)
    assert 1 <= len(reopened.history()) <= 3  # about half the limit is kept
    assert reopened.journal_path.stat().st_size < 20_000
    assert len(CaptionStore(root).history()) == len(reopened.history())  # stable: no re-compaction
