"""Screenshots of every page, populated, in the light and the dark theme — for the README and for
looking at what we built the way an artist would.

Builds the real main window (offscreen) on a throw-away LoRA Studio home with: a dataset of 16
images with captions (open on the Dataset, Captions and Train pages), a running job (340 of 1,000
steps, its loss curve and logs) and a finished job with sample images (checkpoints × prompts and
the no-LoRA reference). Saves small palette PNGs and prints one JSON line listing them.

    QT_QPA_PLATFORM=offscreen python benchmarks/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def make_dataset(folder: Path) -> None:
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True)
    for i in range(16):
        image = Image.new("RGB", (768, 768), (30 + 12 * i, 60 + 7 * i, 120 + 5 * i))
        draw = ImageDraw.Draw(image)
        for k in range(6):
            box = (60 + 70 * k, 80 + 30 * ((i + k) % 5), 360 + 50 * k, 420 + 20 * k)
            draw.ellipse(box, outline=(250, 230 - 20 * k, 90 + 25 * k), width=10)
        image.save(folder / f"ink_{i:02d}.jpg", quality=90)
        caption = f"inkstyle, ink drawing, {'portrait' if i % 2 else 'city street'}, detailed"
        (folder / f"ink_{i:02d}.txt").write_text(caption, encoding="utf-8")


def make_jobs(store: object, home: Path, dataset: Path) -> tuple[str, str]:
    from PIL import Image, ImageDraw

    from lora_studio.core.jobs import (
        Checkpoint,
        Finished,
        Job,
        Log,
        Loss,
        Progress,
        Sample,
        StatusChanged,
    )
    from lora_studio.core.jobs.status import JobStatus

    def loss(step: int) -> float:
        return 0.09 + 0.3 * math.exp(-step / 180) + 0.03 * math.sin(step * 1.7) ** 2

    running = store.add(  # type: ignore[attr-defined]
        Job(
            name="inkstyle_sdxl_2",
            backend="comfyui",
            dataset_path=str(dataset),
            config={"epochs": 10},  # the progress line then names the epoch
        )
    )
    events: list = [StatusChanged(JobStatus.RUNNING, "Chunk 2 of 4 is running")]
    events += [Loss(s, loss(s)) for s in range(1, 341)] + [Progress(340, 1000)]
    events += [
        Log(f"Training LoRA:  {s // 10}%| {s}/1000 [02:0{s % 10}<07:12, 1.9it/s]")
        for s in range(300, 341, 10)
    ]
    store.record_events(running.id, events)  # type: ignore[attr-defined]

    out = home / "loras"
    samples = out / "inkstyle_sdxl_1_samples"
    samples.mkdir(parents=True)
    done = store.add(  # type: ignore[attr-defined]
        Job(name="inkstyle_sdxl_1", backend="comfyui", dataset_path=str(dataset))
    )
    events = [StatusChanged(JobStatus.RUNNING)]
    events += [Loss(s, loss(s)) for s in range(1, 601)] + [Progress(600, 600)]
    prompts = ("inkstyle portrait of a sailor", "inkstyle city at night", "inkstyle cat")
    for step, with_lora in ((0, False), (200, True), (400, True), (600, True)):
        if with_lora:
            events.append(Checkpoint(f"http://127.0.0.1:8188/view?filename=c{step}", step=step))
        for index, prompt in enumerate(prompts, start=1):
            name = (
                f"step{step:06d}_p{index:02d}.png" if with_lora else f"reference_p{index:02d}.png"
            )
            strength = step / 600
            image = Image.new("RGB", (256, 256), (235, 228, 212))
            draw = ImageDraw.Draw(image)
            ink = (int(40 + 160 * (1 - strength)), int(40 + 80 * (1 - strength)), 60)
            for k in range(1 + int(8 * strength)):
                draw.line(
                    (20 + 25 * k, 230, 60 + 20 * index + 18 * k, 30), fill=ink, width=3 + k % 3
                )
            draw.ellipse((70, 60 + 10 * index, 190, 180), outline=ink, width=2 + int(6 * strength))
            image.save(samples / name)
            events.append(Sample(step, prompt, str(samples / name), with_lora))
    final = out / "inkstyle_sdxl_1.safetensors"
    final.write_bytes(b"")
    events.append(Finished((str(final),)))
    store.record_events(done.id, events)  # type: ignore[attr-defined]
    return running.id, done.id


def save_small(pixmap: object, target: Path) -> int:
    from PIL import Image

    raw = target.with_suffix(".raw.png")
    pixmap.save(str(raw))  # type: ignore[attr-defined]
    with Image.open(raw) as image:
        small = image.convert("RGB").resize(
            (image.width * 3 // 4, image.height * 3 // 4), Image.LANCZOS
        )
        small.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)
    raw.unlink()
    return target.stat().st_size


async def shoot(out: Path, home: Path) -> list[dict[str, object]]:
    from PySide6.QtWidgets import QApplication

    from lora_studio import app as app_module
    from lora_studio.views.theme import apply_theme

    dataset = home / "datasets" / "inkstyle"
    make_dataset(dataset)
    qt_app = QApplication.instance()
    services = app_module.build_services()
    running_id, done_id = make_jobs(services.job_store, home, dataset)
    window = app_module.build_window(qt_app, services)  # type: ignore[arg-type]
    window.resize(1280, 860)
    window.show()
    vms = {type(vm).__name__: vm for vm in window.view_models}  # type: ignore[attr-defined]
    dataset_vm = vms["DatasetViewModel"]
    dataset_vm.open_folder(str(dataset))
    vms["TrainWizardViewModel"].set_dataset_folder(str(dataset))
    for _ in range(100):  # the open runs in the background
        await asyncio.sleep(0.1)
        if dataset_vm.grid_model.rowCount() and not dataset_vm.busy:
            break
    # A picture picked, as an artist works: the detail pane and the Captions page show it.
    dataset_vm.reveal(str(dataset / "ink_03.jpg"))  # selected in the grid too, as a click does
    jobs_vm = vms["JobsViewModel"]
    shots: list[dict[str, object]] = []
    for theme in ("light", "dark"):
        apply_theme(qt_app, theme)  # type: ignore[arg-type]
        for key in window.page_keys():
            window.show_page(key)
            views = (
                [("", None)] if key != "jobs" else [("running", running_id), ("samples", done_id)]
            )
            for suffix, job_id in views:
                if job_id:
                    jobs_vm.select(job_id)
                    await asyncio.sleep(1.0)
                    page = window.pages[window.page_keys().index("jobs")].widget  # type: ignore[attr-defined]
                    page.tabs.setCurrentIndex(2 if suffix == "samples" else 0)
                    page.loss_plot.flush()
                await asyncio.sleep(1.2)
                name = f"{theme}-{key}{'-' + suffix if suffix else ''}.png"
                size = save_small(window.grab(), out / name)
                shots.append({"file": f"{out.name}/{name}", "bytes": size})
    window.close()
    await services.aclose()
    return shots


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    import qasync
    from PySide6.QtWidgets import QApplication

    from lora_studio import app as app_module
    from lora_studio import paths

    with tempfile.TemporaryDirectory() as tmp:
        os.environ[paths.HOME_ENV] = tmp
        QApplication.instance() or app_module.create_application()
        shots = qasync.run(shoot(args.out, Path(tmp)))
    print(json.dumps({"screenshots": shots}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
