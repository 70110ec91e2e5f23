"""Doctor: near-duplicate groups, captions and trigger word, buckets vs batch, size, cancel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from lora_studio.core.dataset import (
    CancelToken,
    DoctorOptions,
    Fix,
    Kind,
    quick_findings,
    run_doctor,
    scan_dataset,
)
from lora_studio.core.dataset.phash import group_near_duplicates, hamming, phash
from lora_studio.core.dataset.tokens import estimate_clip_tokens


def kinds(report, name: str) -> set[str]:  # type: ignore[no-untyped-def]
    return {f.kind for f in report.findings if f.path.name == name}


def test_near_duplicates_are_grouped_for_review(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    original = pictures.jpeg(dataset / "a.jpg", size=(640, 480), seed=1)
    with Image.open(original) as image:
        image.resize((500, 375)).save(dataset / "a_small.png")
        image.save(dataset / "a_again.jpg", quality=60)
    pictures.jpeg(dataset / "different.jpg", size=(640, 480), seed=2)
    report = run_doctor(dataset, DoctorOptions(resolution=512))
    assert report.duplicate_groups == (
        (dataset / "a.jpg", dataset / "a_again.jpg", dataset / "a_small.png"),
    )
    duplicate = next(
        f for f in report.findings if f.kind == Kind.NEAR_DUPLICATE and f.path.name == "a.jpg"
    )
    assert duplicate.group == 1 and duplicate.fix == Fix.MOVE_TO_TRASH
    assert set(duplicate.related) == {dataset / "a_again.jpg", dataset / "a_small.png"}
    assert "a_again.jpg" in duplicate.message and "a_small.png" in duplicate.message
    assert Kind.NEAR_DUPLICATE not in kinds(report, "different.jpg")


def test_phash_and_grouping_units(pictures) -> None:  # type: ignore[no-untyped-def]
    a = pictures.content((320, 240), 1)
    assert hamming(phash(a), phash(a.resize((160, 120)))) <= 4
    assert hamming(phash(a), phash(pictures.content((320, 240), 2))) > 12
    assert group_near_duplicates([0b0, 0b1, 0xFFFF_FFFF, 0b11]) == [[0, 1, 3]]
    assert group_near_duplicates([5]) == []


def test_caption_checks(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    for name, caption in [
        ("tagged.jpg", "ohwx, a portrait"),
        ("untagged.jpg", "a portrait"),
        ("inside.jpg", "ohwxyz portrait"),  # not the whole word
        ("empty.jpg", "  \n"),
        ("long.jpg", ", ".join(f"tag{i} word" for i in range(40))),
        ("lines.jpg", "ohwx first line\nsecond line"),
    ]:
        pictures.caption(pictures.jpeg(dataset / name, size=(1024, 1024), seed=len(name)), caption)
    pictures.jpeg(dataset / "bare.jpg", size=(1024, 1024), seed=99)
    report = run_doctor(dataset, DoctorOptions(trigger="ohwx", check_pixels=False))
    assert kinds(report, "tagged.jpg") == set()
    assert kinds(report, "untagged.jpg") == {Kind.MISSING_TRIGGER}
    assert kinds(report, "inside.jpg") == {Kind.MISSING_TRIGGER}
    assert kinds(report, "empty.jpg") == {Kind.EMPTY_CAPTION}
    assert Kind.CAPTION_TOO_LONG in kinds(report, "long.jpg")
    assert kinds(report, "lines.jpg") == {Kind.MULTILINE_CAPTION}
    assert kinds(report, "bare.jpg") == {Kind.MISSING_CAPTION}
    long = next(f for f in report.findings if f.kind == Kind.CAPTION_TOO_LONG)
    assert "75" in long.message and long.severity == "warning"


def test_token_estimate_is_close_to_clip() -> None:
    # Real CLIP counts: 22 ("ohwx" → 2 pieces, digits and punctuation split) and 9.
    assert (
        abs(
            estimate_clip_tokens(
                "a photo of ohwx person, masterpiece, best quality, 1girl, (smiling:1.2)"
            )
            - 22
        )
        <= 2
    )
    assert estimate_clip_tokens("A cat sitting on a red sofa.") == 8
    assert estimate_clip_tokens("") == 0


def test_size_aspect_and_small_buckets(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    pictures.jpeg(dataset / "tiny.jpg", size=(300, 300), seed=1)
    pictures.jpeg(dataset / "panorama.jpg", size=(3000, 600), seed=2)
    pictures.jpeg(dataset / "square1.jpg", size=(1024, 1024), seed=3)
    pictures.jpeg(dataset / "square2.jpg", size=(1100, 1100), seed=4)
    scan = scan_dataset(dataset)
    findings = quick_findings(scan, DoctorOptions(resolution=1024, batch_size=2))
    by = {(f.path.name, f.kind) for f in findings}
    assert ("tiny.jpg", Kind.TOO_SMALL) in by and ("square1.jpg", Kind.TOO_SMALL) not in by
    assert ("panorama.jpg", Kind.EXTREME_ASPECT) in by and (
        "square2.jpg",
        Kind.EXTREME_ASPECT,
    ) not in by
    assert ("panorama.jpg", Kind.SMALL_BUCKET) in by and (
        "square1.jpg",
        Kind.SMALL_BUCKET,
    ) not in by
    assert not [
        f for f in quick_findings(scan, DoctorOptions(batch_size=1)) if f.kind == Kind.SMALL_BUCKET
    ]


def test_doctor_is_cancellable_with_progress(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    for i in range(20):
        pictures.jpeg(dataset / f"{i:02d}.jpg", size=(200, 150), seed=i)
    token = CancelToken()
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        if done == 4:
            token.cancel()

    report = run_doctor(
        dataset, DoctorOptions(resolution=512, workers=2), cancel=token, progress=progress
    )
    assert report.cancelled and seen[-1][1] == 20 and seen[-1][0] < 20
    full = run_doctor(dataset, DoctorOptions(resolution=512, workers=1))
    assert not full.cancelled and full.counts()["error"] == 0


def test_opaque_alpha_is_not_a_problem(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    pictures.save(pictures.content((600, 600), 1).convert("RGBA"), dataset / "opaque.png")
    see_through = pictures.content((600, 600), 2).convert("RGBA")
    see_through.putpixel((300, 300), (0, 0, 0, 0))  # one transparent pixel is enough
    pictures.save(see_through, dataset / "hole.png")
    scan = scan_dataset(dataset)
    assert {f.path.name for f in quick_findings(scan, DoctorOptions()) if f.kind == Kind.ALPHA} == {
        "opaque.png",
        "hole.png",
    }
    report = run_doctor(scan, DoctorOptions())
    assert {f.path.name for f in report.findings if f.kind == Kind.ALPHA} == {"hole.png"}


def test_fix_all_near_duplicates_keeps_the_largest_then_sharpest_of_each_group(
    dataset: Path, pictures
) -> None:  # type: ignore[no-untyped-def]
    """Two groups: one keeps its largest picture, the other (same sizes) its sharpest."""
    from PIL import ImageFilter

    from lora_studio.core.dataset import apply_fixes

    big = pictures.jpeg(dataset / "p1_big.jpg", size=(800, 600), seed=11)
    with Image.open(big) as image:
        image.resize((400, 300)).save(dataset / "p1_small.jpg", quality=92)
    sharp = pictures.content((640, 480), 12)
    sharp = Image.fromarray(
        (
            np.asarray(sharp, dtype=np.int16)
            + np.random.default_rng(3).integers(-40, 40, (480, 640, 3))
        )
        .clip(0, 255)
        .astype(np.uint8)
    )
    sharp.filter(ImageFilter.GaussianBlur(3)).save(dataset / "p2_a_soft.jpg", quality=95)
    sharp.save(dataset / "p2_b_sharp.jpg", quality=95)
    report = run_doctor(dataset, DoctorOptions(resolution=256))
    assert len(report.duplicate_groups) == 2
    duplicates = [f for f in report.findings if f.kind == Kind.NEAR_DUPLICATE]
    keep = {f.path.name for f in duplicates if f.fix is None}
    assert keep == {"p1_big.jpg", "p2_b_sharp.jpg"}
    small = next(f for f in duplicates if f.path.name == "p1_small.jpg")
    assert "p1_big.jpg stays (the largest)" in small.message
    soft = next(f for f in duplicates if f.path.name == "p2_a_soft.jpg")
    assert "p2_b_sharp.jpg stays" in soft.message and "sharpest" in soft.message
    kept = next(f for f in duplicates if f.path.name == "p1_big.jpg")
    assert "is the one to keep" in kept.message

    # "Fix all like this" = every near-duplicate finding that has a fix: one per group stays.
    fixable = [f for f in duplicates if f.fix == Fix.MOVE_TO_TRASH]
    result = apply_fixes(dataset, fixable)
    assert all(r.ok for r in result.results) and len(result.results) == 2
    left = sorted(p.name for p in dataset.iterdir() if p.is_file())
    assert left == ["p1_big.jpg", "p2_b_sharp.jpg"]


def test_ordinary_photos_are_not_extreme_at_a_low_resolution(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    """3:2 photos at 256 px with buckets from 256 px: only the square bucket is left. That is a
    note about the buckets, not an "extreme aspect" warning; a real panorama still is one."""
    from lora_studio.core.dataset.buckets import BucketSettings

    pictures.jpeg(dataset / "photo.jpg", size=(1200, 800), seed=1)
    pictures.jpeg(dataset / "pano.jpg", size=(3000, 800), seed=2)
    only_square = DoctorOptions(resolution=256, buckets=BucketSettings(256, min_reso=256))
    report = run_doctor(dataset, only_square)
    assert kinds(report, "photo.jpg") - {Kind.MISSING_CAPTION} == {Kind.HEAVY_CROP}
    crop = next(f for f in report.for_path(dataset / "photo.jpg") if f.kind == Kind.HEAVY_CROP)
    assert "minimum bucket side" in crop.message and crop.severity == "info"
    assert Kind.EXTREME_ASPECT in kinds(report, "pano.jpg")
    wider = DoctorOptions(resolution=256, buckets=BucketSettings(256, min_reso=128))
    assert kinds(run_doctor(dataset, wider), "photo.jpg") == {Kind.MISSING_CAPTION}
