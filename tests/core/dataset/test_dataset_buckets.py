"""Buckets: kohya's resolution list, selection, cover-resize and the centre crop."""

from __future__ import annotations

from pathlib import Path

import pytest

from lora_studio.core.dataset import (
    BucketSelector,
    BucketSettings,
    make_bucket_resolutions,
    plan_buckets,
)
from lora_studio.core.dataset.models import ImageEntry
from lora_studio.core.errors import DatasetError


def test_resolution_list_matches_kohya() -> None:
    resos = make_bucket_resolutions((1024, 1024), 256, 2048, 64)
    assert resos == sorted(resos) and len(resos) == len(set(resos))
    for bucket in [(1024, 1024), (832, 1216), (1216, 832), (896, 1152), (512, 2048), (256, 2048)]:
        assert bucket in resos
    assert all(w % 64 == 0 and h % 64 == 0 and w * h <= 1024 * 1024 for w, h in resos)
    sd15 = make_bucket_resolutions((512, 512), 256, 1024, 64)
    assert (512, 512) in sd15 and (256, 1024) in sd15 and max(max(r) for r in sd15) == 1024


def test_select_cover_and_crop_like_kohya() -> None:
    selector = BucketSelector(BucketSettings(1024))
    chosen = selector.select(4000, 3000)  # 4:3 → 1152×896 (ratio 1.286, the closest)
    assert chosen.bucket == (1152, 896)
    assert chosen.resized == (1195, 896)  # int(4000 · 896/3000 + 0.5)
    left, top, right, bottom = chosen.crop
    assert top == 0 and bottom == pytest.approx(3000)
    assert left == pytest.approx(21 * 4000 / 1195) and right - left == pytest.approx(
        1152 * 4000 / 1195
    )
    assert chosen.scale == pytest.approx(896 / 3000) and 0 < chosen.cropped_fraction < 0.05
    exact = selector.select(832, 1216)
    assert exact.bucket == (832, 1216) and exact.crop == (0.0, 0.0, 832.0, 1216.0)


def test_no_buckets_means_one_square() -> None:
    selector = BucketSelector(BucketSettings(512, enabled=False))
    chosen = selector.select(1000, 500)
    assert chosen.bucket == (512, 512) and chosen.resized == (1024, 512)
    assert chosen.crop == pytest.approx((250.0, 0.0, 750.0, 500.0))


def entry(name: str, width: int, height: int, repeats: int = 1) -> ImageEntry:
    return ImageEntry(
        Path(f"/d/{name}"), name, "", None, repeats, width, height, "JPEG", "RGB", 1, 1, None, None
    )


def test_plan_counts_members_repeats_and_singletons() -> None:
    entries = [entry("a", 1024, 1024, 3), entry("b", 2048, 2048, 3), entry("c", 600, 1200)]
    plan = plan_buckets(entries, BucketSettings(1024))
    assert plan.buckets[(1024, 1024)] == (Path("/d/a"), Path("/d/b"))
    assert plan.repeats[(1024, 1024)] == 6
    assert plan.singletons == (plan.assignments[Path("/d/c")].bucket,)
    assert plan.smaller_than(2) == plan.singletons and plan.smaller_than(3) == tuple(plan.buckets)


def test_invalid_settings_are_sentences() -> None:
    with pytest.raises(DatasetError, match="too small"):
        BucketSettings(32)
    with pytest.raises(DatasetError, match="smallest bucket"):
        BucketSettings(512, min_reso=2048, max_reso=1024)
