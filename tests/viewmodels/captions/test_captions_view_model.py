"""The Captions view-models on a running qasync loop: editing autosaves to disk, navigation follows
the grid, undo/redo (also after a "restart": new view-models on the same folder), batch preview
and apply as one undo step, the tag table and its actions, and the grid rows following along."""

from __future__ import annotations

from pathlib import Path

import pytest

from lora_studio.viewmodels.captions.batch_vm import BatchOperation
from lora_studio.viewmodels.captions.editor_vm import SaveState
from lora_studio.viewmodels.captions.tag_table_model import TAG_ROLE
from lora_studio.viewmodels.dataset.rows import Badge
from tests.fakes.caption_dataset import caption_of


def _show(qtbot, dataset, captions, name: str) -> None:  # type: ignore[no-untyped-def]
    path = str(dataset.root / name)
    dataset.set_current(path)
    assert captions.editor.path == path


def _wait_saved(qtbot, editor) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: editor.save_state == SaveState.SAVED and not editor.dirty, timeout=5000)


def test_typing_autosaves_to_disk_after_a_pause(qtbot, caption_dataset, open_captions) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset()
    dataset, captions = open_captions(root, autosave_delay_ms=200)
    _show(qtbot, dataset, captions, "img_000.jpg")
    editor = captions.editor
    assert editor.text == "ohwx, red hair, smiling, outdoors"
    assert editor.tags == ["ohwx", "red hair", "smiling", "outdoors"]
    assert editor.editable and not editor.over_budget
    editor.set_text("ohwx, red hair, laughing")
    assert editor.save_state == SaveState.EDITED
    # Not yet written: the autosave waits for a pause in typing.
    assert caption_of(root, "img_000.jpg") == "ohwx, red hair, smiling, outdoors"
    with qtbot.waitSignal(editor.saved, timeout=5000):
        pass
    assert caption_of(root, "img_000.jpg") == "ohwx, red hair, laughing"
    assert editor.save_state == SaveState.SAVED
    # The grid row follows (caption text and tags).
    row = dataset.grid.row(root / "img_000.jpg")
    assert row is not None and row.caption == "ohwx, red hair, laughing"
    assert "laughing" in row.tags


def test_moving_to_another_picture_saves_at_once_and_navigation_follows_the_grid(
    qtbot, caption_dataset, open_captions
) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset()
    dataset, captions = open_captions(root, autosave_delay_ms=60_000)
    _show(qtbot, dataset, captions, "img_000.jpg")
    assert captions.position_text == "1 of 8" and not captions.can_previous and captions.can_next
    captions.editor.set_text("edited before moving on")
    captions.next()
    assert captions.editor.title == "img_001.jpg"
    assert captions.position_text == "2 of 8" and captions.can_previous
    qtbot.waitUntil(
        lambda: caption_of(root, "img_000.jpg") == "edited before moving on", timeout=5000
    )
    captions.previous()
    assert captions.editor.text == "edited before moving on"
    captions.previous()  # at the first picture: stays
    assert captions.editor.title == "img_000.jpg"


def test_a_caption_for_a_picture_without_one_clears_its_badge(
    qtbot, caption_dataset, open_captions
) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset()
    dataset, captions = open_captions(root)
    qtbot.waitUntil(
        lambda: Badge.NO_CAPTION in dataset.grid.row(root / "img_003.jpg").badges, timeout=5000
    )
    _show(qtbot, dataset, captions, "img_003.jpg")
    assert captions.editor.text == ""
    captions.editor.add_tag("ohwx, green hat")
    assert captions.editor.tags == ["ohwx", "green hat"]
    _wait_saved(qtbot, captions.editor)
    assert caption_of(root, "img_003.jpg") == "ohwx, green hat"
    assert Badge.NO_CAPTION not in dataset.grid.row(root / "img_003.jpg").badges
    assert ("Caption", "2 tags") in dataset.detail.facts
    captions.editor.remove_tag(0)
    _wait_saved(qtbot, captions.editor)
    assert caption_of(root, "img_003.jpg") == "green hat"


def test_undo_and_redo_survive_a_restart(qtbot, caption_dataset, open_captions) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset()
    dataset, captions = open_captions(root)
    _show(qtbot, dataset, captions, "img_001.jpg")
    captions.editor.set_text("first edit")
    _wait_saved(qtbot, captions.editor)
    captions.editor.set_text("second edit")
    _wait_saved(qtbot, captions.editor)
    assert captions.session.can_undo and captions.session.undo_text == "Edit caption"
    with qtbot.waitSignal(captions.session.captions_changed, timeout=5000):
        captions.undo()
    assert caption_of(root, "img_001.jpg") == "first edit"
    assert captions.editor.text == "first edit" and captions.session.can_redo

    # "Restart": new view-models on the same folder find the same history.
    dataset2, captions2 = open_captions(root)
    assert captions2.session.can_undo and captions2.session.can_redo
    _show(qtbot, dataset2, captions2, "img_001.jpg")
    assert captions2.editor.text == "first edit"
    with qtbot.waitSignal(captions2.session.captions_changed, timeout=5000):
        captions2.undo()
    assert caption_of(root, "img_001.jpg") == "ohwx, blue dress, standing, indoors"
    assert captions2.editor.text == "ohwx, blue dress, standing, indoors"
    with qtbot.waitSignal(captions2.session.captions_changed, timeout=5000):
        captions2.redo()
    assert caption_of(root, "img_001.jpg") == "first edit"


def test_undo_saves_a_pending_edit_first_and_undoes_it(
    qtbot, caption_dataset, open_captions
) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset()
    dataset, captions = open_captions(root, autosave_delay_ms=60_000)
    _show(qtbot, dataset, captions, "img_002.jpg")
    captions.editor.set_text("typed, not yet saved")
    with qtbot.waitSignal(captions.session.captions_changed, timeout=5000):
        captions.undo()
    qtbot.waitUntil(lambda: captions.editor.undo_task.done(), timeout=5000)
    assert caption_of(root, "img_002.jpg") == "red hair, portrait, close-up"
    assert captions.editor.text == "red hair, portrait, close-up"
    assert captions.session.redo_text == "Edit caption"


def test_over_the_token_budget_is_marked(qtbot, caption_dataset, open_captions) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset()
    dataset, captions = open_captions(root)
    _show(qtbot, dataset, captions, "img_000.jpg")
    editor = captions.editor
    editor.set_text(", ".join(f"tag number {word}" for word in "abcdefghijklmnopqrstuvwxyz"))
    assert editor.over_budget
    assert f"of {editor.token_budget} tokens" in editor.length_text
    editor.set_text("ohwx, short")
    assert not editor.over_budget


def test_batch_preview_then_apply_is_one_undo_step(qtbot, caption_dataset, open_captions) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset()
    _dataset, captions = open_captions(root)
    batch = captions.batch
    captions.prepare_batch([])
    batch.set_operation(BatchOperation.FIND_REPLACE.value)
    batch.set_field("find", "red hair")
    batch.set_field("replace", "auburn hair")
    with qtbot.waitSignal(batch.preview_text_changed, timeout=5000):
        batch.refresh_preview()
    qtbot.waitUntil(lambda: batch.preview_count == 4, timeout=5000)
    assert batch.preview_text == "4 of 8 captions will change."
    assert batch.can_apply
    name, before, after = batch.examples[0]
    assert name == "img_000.jpg" and after == before.replace("red hair", "auburn hair")
    # Nothing is written by the preview.
    assert caption_of(root, "img_000.jpg") == "ohwx, red hair, smiling, outdoors"
    with qtbot.waitSignal(batch.applied, timeout=5000) as applied:
        batch.apply()
    assert applied.args == [4]
    assert caption_of(root, "img_000.jpg") == "ohwx, auburn hair, smiling, outdoors"
    assert caption_of(root, "img_006.jpg") == "red hair, portrait, close-up".replace(
        "red hair", "auburn hair"
    )
    assert captions.session.undo_text == batch_label(captions)
    with qtbot.waitSignal(captions.session.captions_changed, timeout=5000):
        captions.undo()
    assert caption_of(root, "img_000.jpg") == "ohwx, red hair, smiling, outdoors"
    assert caption_of(root, "img_006.jpg") == "red hair, portrait, close-up"


def batch_label(captions) -> str:  # type: ignore[no-untyped-def]
    store = captions.session.store
    assert store is not None and store.undo_label
    return store.undo_label


def test_batch_on_the_selection_only_and_a_bad_regex_is_a_sentence(
    qtbot, caption_dataset, open_captions
) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset()
    _dataset, captions = open_captions(root)
    batch = captions.batch
    selection = [str(root / "img_000.jpg"), str(root / "img_003.jpg")]
    captions.prepare_batch(selection)
    assert batch.use_selection and batch.selection_count == 2
    assert batch.fields.word == ""
    batch.set_field("word", "sks")
    batch.refresh_preview()
    qtbot.waitUntil(lambda: batch.preview_text == "2 of 2 captions will change.", timeout=5000)
    with qtbot.waitSignal(batch.applied, timeout=5000):
        batch.apply()
    assert caption_of(root, "img_000.jpg") == "sks, ohwx, red hair, smiling, outdoors"
    assert (caption_of(root, "img_003.jpg") or "").startswith("sks")
    assert caption_of(root, "img_001.jpg") == "ohwx, blue dress, standing, indoors"

    batch.set_operation(BatchOperation.FIND_REPLACE.value)
    batch.set_field("regex", True)
    batch.set_field("find", "(unclosed")
    batch.refresh_preview()
    qtbot.waitUntil(lambda: bool(batch.error), timeout=5000)
    assert not batch.can_apply and batch.preview_count == 0


@pytest.mark.parametrize("action", ["remove", "rename", "trigger"])
def test_tag_table_actions_are_undoable(qtbot, caption_dataset, open_captions, action) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset()
    dataset, captions = open_captions(root)
    tags = captions.tags
    qtbot.waitUntil(lambda: tags.model.rowCount() > 0, timeout=5000)
    model_tags = {tags.model.index(r, 0).data(TAG_ROLE) for r in range(tags.model.rowCount())}
    assert {"ohwx", "red hair", "portrait"} <= model_tags
    assert tags.summary == "9 different tags in 6 of 8 pictures"
    assert captions.editor.completions[0] in ("ohwx", "red hair")
    with qtbot.waitSignal(captions.session.captions_changed, timeout=5000):
        if action == "remove":
            tags.remove_everywhere("red hair")
        elif action == "rename":
            tags.rename("red hair", "ginger hair")
        else:
            tags.make_trigger("portrait")
    text = caption_of(root, "img_000.jpg")
    if action == "remove":
        assert text == "ohwx, smiling, outdoors"
        assert tags.notice.startswith("Removed “red hair” from 4 captions.")
    elif action == "rename":
        assert text == "ohwx, ginger hair, smiling, outdoors"
    else:
        assert text == "portrait, ohwx, red hair, smiling, outdoors"
        assert dataset.trigger_word == "portrait"
    qtbot.waitUntil(lambda: not tags.busy, timeout=5000)
    with qtbot.waitSignal(captions.session.captions_changed, timeout=5000):
        captions.undo()
    assert caption_of(root, "img_000.jpg") == "ohwx, red hair, smiling, outdoors"


def test_tag_frequency_model_passes_qtmodeltester(
    qtmodeltester, qtbot, caption_dataset, open_captions
) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset()
    _dataset, captions = open_captions(root)
    model = captions.tags.model
    qtbot.waitUntil(lambda: model.rowCount() > 0, timeout=5000)
    qtmodeltester.check(model, force_py=True)
    assert model.index(0, 0).data() == "ohwx"  # the most frequent first
    assert model.index(0, 1).data() == "4"
    model.sort(0)
    assert model.index(0, 0).data() == "blue dress"
    qtmodeltester.check(model, force_py=True)


def test_a_new_picture_in_the_dataset_joins_the_session(
    qtbot, caption_dataset, open_captions, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from tests.fakes.caption_dataset import write_picture

    root = caption_dataset(4)
    dataset, captions = open_captions(root)
    extra = write_picture(tmp_path / "incoming" / "new.jpg", 99)
    extra.with_suffix(".txt").write_text("ohwx, brand new", encoding="utf-8")
    with qtbot.waitSignal(captions.session.images_changed, timeout=10_000):
        dataset.import_sources([str(extra)])
    assert captions.session.caption(root / "new.jpg") == "ohwx, brand new"
