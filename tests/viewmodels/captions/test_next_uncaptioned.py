"""Ctrl+J on the Captions page (taggui's "jump to the first untagged image"): the view-model goes
to the next picture without a caption after the current one, round to the top, within the grid's
filter; a caption typed but not yet saved counts; when none is left it says so."""

from __future__ import annotations

from tests.fakes.caption_dataset import caption_of


def _show(dataset, captions, name: str) -> None:  # type: ignore[no-untyped-def]
    dataset.set_current(str(dataset.root / name))
    assert captions.editor.title == name


def test_goes_to_the_next_picture_without_caption_and_wraps(
    qtbot, caption_dataset, open_captions
) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset(count=8)  # img_003 and img_007 have no caption
    dataset, captions = open_captions(root)
    _show(dataset, captions, "img_000.jpg")
    captions.next_uncaptioned()
    assert captions.editor.title == "img_003.jpg"
    captions.next_uncaptioned()
    assert captions.editor.title == "img_007.jpg"
    captions.next_uncaptioned()  # round to the top
    assert captions.editor.title == "img_003.jpg"
    assert captions.notice == ""


def test_with_nothing_current_it_starts_at_the_top(qtbot, caption_dataset, open_captions) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset(count=8)
    dataset, captions = open_captions(root)
    dataset.set_current("")
    captions.next_uncaptioned()
    assert captions.editor.title == "img_003.jpg"


def test_a_caption_written_here_takes_the_picture_off_the_list(
    qtbot, caption_dataset, open_captions
) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset(count=8)
    dataset, captions = open_captions(root, autosave_delay_ms=60_000)
    _show(dataset, captions, "img_003.jpg")
    captions.editor.set_text("ohwx, green hat")  # typed, not yet saved
    captions.next_uncaptioned()
    assert captions.editor.title == "img_007.jpg"
    qtbot.waitUntil(lambda: caption_of(root, "img_003.jpg") == "ohwx, green hat", timeout=5000)
    captions.editor.set_text("ohwx, scarf")
    captions.next_uncaptioned()  # img_003 has its caption now: nothing else is left
    assert captions.editor.title == "img_007.jpg"
    assert captions.notice == "Every picture in the dataset has a caption."
    # Moving on clears the remark.
    captions.previous()
    assert captions.notice == ""


def test_the_only_one_left_and_a_filter_are_said(qtbot, caption_dataset, open_captions) -> None:  # type: ignore[no-untyped-def]
    root = caption_dataset(count=4)  # only img_003 has no caption
    dataset, captions = open_captions(root)
    _show(dataset, captions, "img_003.jpg")
    captions.next_uncaptioned()
    assert captions.editor.title == "img_003.jpg"
    assert captions.notice == "This is the only picture in the dataset without a caption."
    _show(dataset, captions, "img_000.jpg")
    dataset.proxy.set_text_filter("ohwx")  # hides img_002 and img_003
    qtbot.waitUntil(lambda: dataset.proxy.rowCount() == 2, timeout=5000)
    captions.next_uncaptioned()
    assert captions.editor.title == "img_000.jpg"
    assert captions.notice == "Every picture shown (the filter hides some) has a caption."
