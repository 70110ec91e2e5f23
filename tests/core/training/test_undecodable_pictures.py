"""A picture whose header reads but whose pixels do not (truncated JPEG, PNG with a damaged IDAT)
is left out of a training — counts, steps, what a backend receives — and named; verdicts are
cached in the dataset's sidecar and taken from the thumbnail cache, so nothing is decoded twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from lora_studio.core.config.presets import get_preset
from lora_studio.core.dataset import DoctorOptions, ThumbnailCache, make_thumbnail, run_doctor
from lora_studio.core.dataset.concurrency import CancelToken
from lora_studio.core.dataset.decode_check import DecodeVerdicts, verify_decodes
from lora_studio.core.dataset.sidecar import Sidecar
from lora_studio.core.errors import CancelledByUserError, DatasetError
from lora_studio.core.training.dataset_input import left_out_notice, load_training_dataset
from tests.dataset_fixtures import damage_png_idat, truncate_to_half, write_picture


def _dataset(root: Path, good: int = 4) -> Path:
    for i in range(good):
        write_picture(root / f"img_{i}.jpg", i, (640, 480), caption="ohwx")
    truncate_to_half(write_picture(root / "cut.jpg", 90, (640, 480), caption="ohwx"))
    damage_png_idat(write_picture(root / "bad.png", 91, (640, 480), caption="ohwx"))
    return root


def test_undecodable_pictures_are_left_out_of_counts_steps_and_upload(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "set")
    config = get_preset("fast", tmp_path / "cfg").config
    dataset = load_training_dataset(root, config)
    assert dataset.image_count == 4
    assert dataset.shape.images == 4
    sent = {item.image.name for item in dataset.summary.items}
    assert sent == {f"img_{i}.jpg" for i in range(4)}  # an engine never receives them
    assert dataset.dataset_dirs == {"set": (config.repeats, 4)}
    assert sorted(dataset.left_out) == ["bad.png", "cut.jpg"]
    assert dataset.picture_count == 6
    assert any("cut.jpg is truncated" in reason for reason in dataset.skipped)
    notice = left_out_notice(dataset, "Remove them.")
    assert notice.startswith("2 of 6 pictures cannot be decoded and are left out: ")
    assert "bad.png" in notice and "cut.jpg" in notice and notice.endswith("Remove them.")


def test_verdicts_are_cached_and_a_changed_file_is_checked_again(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "set")
    paths = [*sorted(root.glob("*.jpg")), root / "bad.png"]
    first = verify_decodes(root, paths)
    assert first.decoded == 6 and first.known == 0
    assert {f.path.name for f in first.failures} == {"cut.jpg", "bad.png"}
    assert (Sidecar(root).directory / "decode.json").is_file()
    again = verify_decodes(root, paths)
    assert again.decoded == 0 and again.known == 6  # nothing decoded twice
    assert [f.message for f in again.failures] == [f.message for f in first.failures]
    # A good picture that is cut afterwards (new size and mtime) is decoded again and caught.
    truncate_to_half(root / "img_0.jpg")
    third = verify_decodes(root, paths)
    assert third.decoded == 1
    assert "img_0.jpg" in {f.path.name for f in third.failures}


def test_a_cached_thumbnail_means_the_picture_decodes(tmp_path: Path) -> None:
    """The grid's thumbnails were made by full decodes: the training check trusts them."""
    root = tmp_path / "set"
    paths = [write_picture(root / f"p{i}.jpg", i, (640, 480)) for i in range(3)]
    cache = ThumbnailCache(Sidecar(root).thumbnails_dir)
    for path in paths:
        cache.load(path)
    report = verify_decodes(root, paths)
    assert report.known == 3 and report.decoded == 0 and not report.failures


def test_a_folder_of_only_undecodable_pictures_is_refused_by_name(tmp_path: Path) -> None:
    root = tmp_path / "set"
    truncate_to_half(write_picture(root / "only.jpg", 1, (640, 480)))
    with pytest.raises(DatasetError) as info:
        load_training_dataset(root, get_preset("fast", tmp_path / "cfg").config)
    assert "only.jpg" in info.value.user_message and "decoded" in info.value.user_message


def test_cancel_stops_the_decode_check(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "set")
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(CancelledByUserError):
        load_training_dataset(root, get_preset("fast", tmp_path / "cfg").config, cancel=cancel)


def test_doctor_records_verdicts_and_its_quick_check_names_known_failures(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "set")
    quick = DoctorOptions(check_pixels=False)
    before = run_doctor(root, quick)
    assert not [f for f in before.findings if f.kind in ("truncated", "damaged")]
    full = run_doctor(root, DoctorOptions())
    flagged = {f.path.name for f in full.findings if f.kind in ("truncated", "damaged")}
    assert flagged == {"cut.jpg", "bad.png"}
    # The full check's verdicts are kept: a training decodes nothing again…
    paths = [entry.path for entry in full.scan.entries]
    assert verify_decodes(root, paths).decoded == 0
    # …and a check without decoding still names the damaged pictures.
    after = run_doctor(root, quick)
    assert {f.path.name for f in after.findings if f.kind in ("truncated", "damaged")} == flagged
    assert DecodeVerdicts(root).load()


def test_a_read_only_dataset_still_gets_its_verdicts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _dataset(tmp_path / "set")
    # As if the folder were read-only (root, who runs these tests in CI, may write anywhere).
    monkeypatch.setattr(Sidecar, "writable", lambda _self: False)
    report = verify_decodes(root, sorted(root.glob("*.*g")))
    assert {f.path.name for f in report.failures} == {"cut.jpg", "bad.png"}
    assert not (Sidecar(root).directory / "decode.json").exists()
    assert verify_decodes(root, sorted(root.glob("*.*g"))).decoded == 6  # checked again


def test_a_damaged_png_gets_no_thumbnail(tmp_path: Path) -> None:
    """Reading its (absent) EXIF orientation used to decode it, swallow the error and leave
    Pillow believing it loaded: the grid showed a half-grey picture as a good one."""
    bad = damage_png_idat(write_picture(tmp_path / "bad.png", 91, (640, 480)))
    with pytest.raises(DatasetError) as info:
        make_thumbnail(bad)
    assert "bad.png is damaged" in info.value.user_message


def test_a_file_that_could_not_be_read_is_checked_again_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No permission or an I/O error says nothing lasting about the bytes, and fixing it leaves
    the mtime alone: such a verdict is never remembered."""
    from lora_studio.core.dataset import decode_check

    root = tmp_path / "set"
    locked = write_picture(root / "locked.jpg", 1, (320, 240))
    denied = decode_check.DecodeFailure(locked, "unreadable", "No permission to read locked.jpg.")
    monkeypatch.setattr(decode_check, "decode_failure", lambda _path: denied)
    assert verify_decodes(root, [locked]).failures == (denied,)
    monkeypatch.undo()
    report = verify_decodes(root, [locked])
    assert report.decoded == 1 and not report.failures
