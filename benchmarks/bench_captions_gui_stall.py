"""Benchmark: how long the GUI event loop stalls while an auto-caption run goes on in the real
Captions page (offscreen) with the auto-caption dialog open. Prints one JSON object.

Set-up (issue 8): N pictures (default 200, 1024×768 JPEGs, so every upload is decoded, scaled and
re-encoded), the Ollama provider against the fake caption server with a fixed latency (default
200 ms), concurrency 4, overwrite mode. The page, the filmstrip, the tag table, the status list and
the grid rows all update for every finished caption, as they do for the artist. The fake server
runs in its own process, like a real one.

Measured:
- `max_stall_ms`: the longest a 5 ms heartbeat QTimer fired late during the run (target ≤ 50 ms);
- `p99_stall_ms`, `stalls_over_50ms`, `heartbeats`;
- `run_s` vs `ideal_s` = count × latency ÷ concurrency (the runner's own target is ≤ 1.15×).

    python benchmarks/bench_captions_gui_stall.py [--count 200] [--latency 0.2] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # tests.fakes (the fake caption server)

HEARTBEAT_MS = 5
BASELINE_S = 5.0


async def until_false(changed: Any, read: Callable[[], bool]) -> None:
    """Wait until `read()` is false, woken by its `changed(bool)` signal rather than by polling."""
    done = asyncio.Event()
    changed.connect(lambda value: None if value else done.set())
    if read():
        await done.wait()


async def heartbeat_gaps(seconds: float) -> list[float]:
    """Lateness (ms) of a 5 ms QTimer over `seconds` with nothing else going on: what the
    machine itself costs (other processes on a shared machine stall the GUI thread too)."""
    from PySide6.QtCore import QTimer

    gaps: list[float] = []
    last = [time.perf_counter()]

    def beat() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000 - HEARTBEAT_MS)
        last[0] = now

    timer = QTimer()
    timer.setInterval(HEARTBEAT_MS)
    timer.timeout.connect(beat)
    timer.start()
    await asyncio.sleep(seconds)
    timer.stop()
    return gaps


KEEP: list[object] = []


def make_pictures(folder: Path, count: int) -> None:
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        image = Image.linear_gradient("L").resize((1024, 768)).convert("RGB")
        draw = ImageDraw.Draw(image)
        for k in range(6):
            x, y = (i * 37 + k * 101) % 1024, (i * 53 + k * 67) % 768
            colour = ((i * 29 + k * 40) % 256, (i * 71) % 256, (k * 90) % 256)
            draw.rectangle((x, y, x + 256, y + 192), fill=colour)
        image.save(folder / f"img_{i:04d}.jpg", quality=85)
        if i % 2:
            (folder / f"img_{i:04d}.txt").write_text(f"ohwx, tag{i % 7}", encoding="utf-8")


SERVER_SCRIPT = """
import sys, time
sys.path.insert(0, sys.argv[1])
from tests.fakes.fake_caption_servers import FakeCaptionServer
with FakeCaptionServer(latency=float(sys.argv[2]), caption_text="a photo of a woman, red hair") as f:
    print(f.ollama_url, flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
"""


@contextlib.contextmanager
def fake_server_process(latency: float) -> Iterator[str]:
    """The fake Ollama server in its own process, as a real server would be: its request threads
    (which decode every upload) must not compete with the GUI thread for this process's GIL."""
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER_SCRIPT, str(REPO), str(latency)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=10)


async def measure(folder: Path, latency: float, concurrency: int) -> dict[str, object]:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from lora_studio.responsiveness import lower_worker_priority
    from lora_studio.viewmodels.captions.captions_vm import CaptionsViewModel
    from lora_studio.viewmodels.dataset.dataset_vm import DatasetViewModel
    from lora_studio.views.pages.captions_page import CaptionsPage

    app = QApplication.instance()
    assert app is not None
    # The app's executor: two workers at a lower priority than the GUI thread (see app.py).
    executor = ThreadPoolExecutor(
        max_workers=2, thread_name_prefix="lora-io", initializer=lower_worker_priority
    )
    dataset = DatasetViewModel(executor)
    captions = CaptionsViewModel(dataset, executor)
    page = CaptionsPage(captions)
    page.resize(1360, 860)
    page.show()
    loaded = asyncio.Event()
    captions.session.loaded_changed.connect(lambda _v: loaded.set())
    dataset.open_folder(str(folder))
    await loaded.wait()
    await until_false(dataset.busy_changed, lambda: dataset.busy)
    # Thumbnails are another benchmark's business: wait until they are done.
    await until_false(dataset.thumbnails_filling_changed, lambda: dataset.thumbnails_filling)
    count = len(captions.session.images())
    baseline = sorted(await heartbeat_gaps(BASELINE_S))

    with fake_server_process(latency) as server_url:
        auto = captions.auto_caption
        captions.select(str(folder / "img_0000.jpg"))
        if os.environ.get("BENCH_DIALOG", "1") == "1":
            page.auto_button.click()
        auto.set_provider("ollama")
        auto.set_url(server_url)
        auto.set_model("qwen2.5vl:7b")
        auto.set_mode("overwrite")
        auto.set_concurrency(concurrency)

        gaps: list[float] = []
        last = [time.perf_counter()]

        long_ones: list[tuple[float, float, int]] = []

        def beat() -> None:
            now = time.perf_counter()
            gap = (now - last[0]) * 1000 - HEARTBEAT_MS
            gaps.append(gap)
            if gap > 30:
                # When (s into the run), how long, and how many pictures were done by then.
                long_ones.append((round(now - started, 2), round(gap, 1), auto.progress_value))
            last[0] = now

        heartbeat = QTimer()
        heartbeat.setInterval(HEARTBEAT_MS)
        heartbeat.timeout.connect(beat)
        finished = asyncio.Event()
        auto.finished.connect(lambda _ok: finished.set())
        started = time.perf_counter()
        last[0] = started
        heartbeat.start()
        auto.start()
        await finished.wait()
        run_s = time.perf_counter() - started
        heartbeat.stop()

    ordered = sorted(gaps)
    p99 = ordered[int(len(ordered) * 0.99) - 1] if ordered else 0.0
    result = {
        "count": count,
        "latency_s": latency,
        "concurrency": concurrency,
        "run_s": round(run_s, 2),
        "ideal_s": round(count * latency / concurrency, 2),
        "ratio": round(run_s / (count * latency / concurrency), 3),
        "summary": auto.summary,
        "error": auto.error,
        "heartbeats": len(gaps),
        "max_stall_ms": round(max(gaps, default=0.0), 1),
        "p99_stall_ms": round(p99, 1),
        "stalls_over_50ms": sum(1 for gap in gaps if gap > 50),
        "idle_baseline_max_stall_ms": round(baseline[-1] if baseline else 0.0, 1),
        "idle_baseline_p99_stall_ms": round(baseline[int(len(baseline) * 0.99) - 1], 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "stalls_over_30ms_at": long_ones,
    }
    # Close the dialog and the page while their view-models are still alive, as the app does.
    if page.auto_dialog is not None:
        page.auto_dialog.close()
    page.close()
    captions.shutdown()
    dataset.shutdown()
    await asyncio.sleep(0.2)
    executor.shutdown(wait=True)
    KEEP.extend([page, captions, dataset])  # destroyed with the application, not before it
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    import qasync
    from PySide6.QtWidgets import QApplication

    from lora_studio.responsiveness import apply_gui_settings

    app = QApplication(sys.argv[:1])
    apply_gui_settings(app)  # as run_gui() does: switch interval, collector on the GUI thread
    app.setQuitOnLastWindowClosed(False)
    work = Path(tempfile.mkdtemp(prefix="lora-captions-bench-"))
    try:
        make_pictures(work / "dataset", args.count)
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        with loop:
            result = loop.run_until_complete(
                measure(work / "dataset", args.latency, args.concurrency)
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
