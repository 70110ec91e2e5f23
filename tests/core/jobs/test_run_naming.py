"""Runs are named `<dataset>_<preset>_<n>` by GUI and CLI alike; n tells them apart."""

from __future__ import annotations

from pathlib import Path

from lora_studio.core.jobs.naming import next_run_name, run_base


def test_run_names_tell_runs_apart() -> None:
    base = run_base(Path("/pictures/My cat pics"), "sdxl")
    assert base == "My_cat_pics_sdxl"
    assert next_run_name(base, []) == "My_cat_pics_sdxl_1"
    taken = ["My_cat_pics_sdxl_1", "My_cat_pics_sdxl_3", "My_cat_pics_sdxl_x", "anna_sdxl_9"]
    assert next_run_name(base, taken) == "My_cat_pics_sdxl_4"
    assert run_base("/data/anna", None) == "anna"
    assert run_base("/", "fast") == "dataset_fast"
