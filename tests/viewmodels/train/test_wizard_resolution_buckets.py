"""The wizard has a Resolution field but no bucket bounds: typing 256 px with the SDXL preset
(smallest bucket side 512) used to end in "✖ min_bucket_reso: must be at most the resolution"
about a setting the artist cannot reach (found walking issue 11). The bounds follow the typed
resolution; the CLI, where every key is settable, keeps its error naming the key. Also: the
Checks list a refused field first, as the Presets page does."""

from __future__ import annotations

from pathlib import Path

import pytest

from lora_studio.core.config import builtin_presets
from lora_studio.core.config.issues import InvalidConfigError
from lora_studio.core.config.overrides import apply_overrides, fit_buckets_to_resolution
from lora_studio.core.config.validation import validate_config
from tests.fakes.fake_comfyui import CHECKPOINTS, FakeComfyUI
from tests.viewmodels.train.train_helpers import walk_to_parameters, write_dataset


def _sdxl():  # type: ignore[no-untyped-def]
    return next(p.config for p in builtin_presets.BUILTIN_PRESETS if p.name == "sdxl")


def test_bucket_bounds_follow_the_resolution() -> None:
    sdxl = _sdxl()
    assert sdxl.min_bucket_reso == 512
    small = fit_buckets_to_resolution(apply_overrides(sdxl, {"resolution": "256"}))
    assert small.min_bucket_reso == 256 and small.max_bucket_reso == sdxl.max_bucket_reso
    assert not [i for i in validate_config(small) if i.is_error and "bucket" in i.field]
    large = fit_buckets_to_resolution(apply_overrides(sdxl, {"resolution": "3072"}))
    assert large.max_bucket_reso >= 3072 and large.min_bucket_reso == 512
    assert fit_buckets_to_resolution(sdxl) == sdxl  # bounds that already hold it stay


def test_the_cli_path_still_names_the_bound(tmp_path: Path) -> None:
    small = apply_overrides(_sdxl(), {"resolution": "256"})
    errors = [i for i in validate_config(small) if i.is_error]
    assert [i.field for i in errors] == ["min_bucket_reso"]
    with pytest.raises(InvalidConfigError):
        apply_overrides(small, {"min_bucket_reso": "abc"})


def test_wizard_trains_at_256_px_with_the_sdxl_preset(
    fake: FakeComfyUI, service_for, wizard_for, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    wizard, _ = wizard_for(service_for(fake.url))
    walk_to_parameters(qtbot, wizard, write_dataset(tmp_path / "ds", size=(768, 512)))
    parameters = wizard.parameters
    parameters.select_preset("sdxl")
    parameters.set_field("base_model", CHECKPOINTS[0])
    parameters.set_field("resolution", "256")
    assert "min_bucket_reso" not in parameters.issues_text, parameters.issues_text
    assert parameters.field_errors == {}
    assert parameters.config.min_bucket_reso <= 256 <= parameters.config.max_bucket_reso
    assert wizard.can_advance, wizard.advance_hint


def test_refused_fields_lead_the_checks(
    fake: FakeComfyUI, service_for, wizard_for, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """As on the Presets page: a field marked in red is also the first line of the Checks, never
    "No problems found" beside it (issue 11)."""
    wizard, _ = wizard_for(service_for(fake.url))
    walk_to_parameters(qtbot, wizard, write_dataset(tmp_path / "ds"))
    parameters = wizard.parameters
    parameters.select_preset("sd15")
    assert parameters.issues_text.startswith("✖ Base model: Choose the checkpoint")
    parameters.set_field("base_model", CHECKPOINTS[0])
    parameters.set_field("learning_rate", "abc")
    first = parameters.issues_text.splitlines()[0]
    assert first.startswith("✖ Learning rate: must be a number"), parameters.issues_text
    parameters.set_field("learning_rate", "1e-4")
    assert "✖" not in parameters.issues_text and wizard.can_advance
