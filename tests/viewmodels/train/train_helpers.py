"""Shared by the Train wizard's view-model and page tests: generated datasets (Pillow, in
tmp_path), a real TrainingService on the fake ComfyUI server closed on the test's qasync loop,
wizards shut down after the test, and helpers that walk the wizard from step to step."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from pytestqt.qtbot import QtBot

from lora_studio.core.jobs import JobStore
from lora_studio.core.training.service import TrainingService
from lora_studio.viewmodels.message_bridge import MessageBridge
from lora_studio.viewmodels.train import TrainWizardViewModel
from tests.fakes.fake_comfyui import CHECKPOINTS, FakeComfyUI

DEAD_URL = "http://127.0.0.1:9"  # the discard port: nothing listens there
WizardFactory = Callable[[TrainingService], tuple[TrainWizardViewModel, MessageBridge]]
QUICK_RUN = {
    "base_model": CHECKPOINTS[0],
    "trigger_word": "ohwx",
    "output_name": "hero",
    "max_steps": "6",
}


def write_dataset(
    folder: Path,
    count: int = 4,
    *,
    size: tuple[int, int] = (512, 512),
    uncaptioned: Iterable[int] = (),
    broken: int = 0,
) -> Path:
    """`count` distinct pictures with `ohwx, …` captions; `uncaptioned` indexes get none and
    `broken` extra files are not pictures at all (the trainer leaves them out)."""
    folder.mkdir(parents=True, exist_ok=True)
    without = set(uncaptioned)
    for i in range(count):
        image = Image.new("RGB", size, (40 * i % 256, 90, 160))
        ImageDraw.Draw(image).ellipse((20 + 9 * i, 30, size[0] - 40, size[1] - 20 - 7 * i))
        image.save(folder / f"img {i}.png")
        if i not in without:
            (folder / f"img {i}.txt").write_text(f"ohwx, portrait, colour {i}", encoding="utf-8")
    for i in range(broken):
        (folder / f"broken {i}.jpg").write_bytes(b"this is not a JPEG")
    return folder


def wait_idle(qtbot: QtBot, wizard: TrainWizardViewModel, timeout: int = 15_000) -> None:
    qtbot.waitUntil(lambda: not wizard.busy, timeout=timeout)


def advance(qtbot: QtBot, wizard: TrainWizardViewModel) -> None:
    assert wizard.can_advance, wizard.advance_hint
    wizard.next()
    wait_idle(qtbot, wizard)


def walk_to_parameters(qtbot: QtBot, wizard: TrainWizardViewModel, folder: Path) -> None:
    """Dataset → Captions check (continuing past any warning) → Preset & parameters."""
    wizard.set_dataset_folder(str(folder))
    wait_idle(qtbot, wizard)
    advance(qtbot, wizard)
    if wizard.dataset.needs_acknowledgement:
        wizard.dataset.set_acknowledged(True)
    advance(qtbot, wizard)


def fill_parameters(
    wizard: TrainWizardViewModel, preset: str = "sd15", values: dict[str, str] | None = None
) -> None:
    wizard.parameters.select_preset(preset)
    for name, text in (values or QUICK_RUN).items():
        wizard.parameters.set_field(name, text)


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="train-test")
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeComfyUI]:
    with FakeComfyUI(tmp_path / "srv", steps_per_second=500) as server:
        yield server


@pytest.fixture
def service_for(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, tmp_path: Path
) -> Iterator[Callable[[str | list[dict[str, Any]]], TrainingService]]:
    """`service_for(url)` (a ComfyUI server) or `service_for([settings, …])` (any backends) → a
    real TrainingService; closed on the qasync loop afterwards."""
    made: list[TrainingService] = []

    def make(backends: str | list[dict[str, Any]]) -> TrainingService:
        if isinstance(backends, str):
            backends = [{"kind": "comfyui", "url": backends}]
        store = JobStore(tmp_path / f"jobs-{len(made)}.db")
        service = TrainingService(store, tmp_path / "out", backend_settings=backends)
        made.append(service)
        return service

    yield make
    for service in made:
        closing = qloop.create_task(service.aclose())
        qtbot.waitUntil(closing.done, timeout=10_000)
        service.store.close()


@pytest.fixture
def wizard_for(executor: ThreadPoolExecutor, tmp_path: Path) -> Iterator[WizardFactory]:
    """`wizard_for(service)` → (TrainWizardViewModel with presets loading, its MessageBridge)."""
    made: list[TrainWizardViewModel] = []

    def make(service: TrainingService) -> tuple[TrainWizardViewModel, MessageBridge]:
        bridge = MessageBridge()
        wizard = TrainWizardViewModel(service, executor, tmp_path / "config", bridge)
        wizard.load()
        made.append(wizard)
        return wizard, bridge

    yield make
    for wizard in made:
        wizard.shutdown()
    # The view-models form reference cycles (signal connections); collect them here, on the GUI
    # thread. Left to the cyclic GC, they may be freed on a worker thread (the executor, the fake
    # server) while Qt runs here, and deleting a QObject from another thread crashes.
    made.clear()
    gc.collect()


FAKE_KOHYA = Path(__file__).resolve().parents[2] / "fakes" / "fake_kohya"


def fake_kohya_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **settings: Any
) -> dict[str, Any]:
    """Settings of a kohya install that is the fake trainer: its Python finds the fake torch and a
    bitsandbytes (the sd15 preset's optimizer is AdamW8bit). `settings` add to or override them."""
    extra = tmp_path / "site"
    (extra / "bitsandbytes").mkdir(parents=True, exist_ok=True)
    (extra / "bitsandbytes" / "__init__.py").write_text('"""Test fake."""\n')
    monkeypatch.setenv("PYTHONPATH", f"{FAKE_KOHYA / 'site'}{os.pathsep}{extra}")
    return {
        "kind": "kohya",
        "sd_scripts": str(FAKE_KOHYA),
        "python": sys.executable,
        "work_dir": str(tmp_path / "runs"),
        **settings,
    }
