"""Shared test set-up: offscreen Qt, an isolated data dir per test, and a running qasync loop.

`qloop` follows docs/architecture.md: a QEventLoop marked as already running (httpx/anyio need a running
loop), driven by pytest-qt's nested Qt loops (`qtbot.waitSignal`). It is torn down without
`loop.stop()`, which would call `app.exit()` and make every later wait return at once.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    # As the app does (lora_studio/responsiveness.py): no automatic garbage collection, which
    # CPython starts in whichever thread allocates — a worker, an HTTP fake's thread — and which
    # then destroys the Qt objects of earlier tests' garbage off the GUI thread (a run crashed in
    # QApplication.allWidgets() that way). Collections happen between tests, on this thread.
    gc.disable()


@pytest.fixture(autouse=True)
def collect_on_the_main_thread() -> Iterator[None]:
    yield
    from lora_studio.responsiveness import GC_THRESHOLDS, due_generation

    gc.disable()  # a test may have given collection back to CPython
    generation = due_generation(gc.get_count(), GC_THRESHOLDS)
    if generation is not None:
        gc.collect(generation)


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets its own LORA_STUDIO_HOME so nothing touches the real user dirs."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("LORA_STUDIO_HOME", str(home))
    return home


# ComfyUI's default address (`core/backends/comfyui/entry.py`). A real ComfyUI may listen there on
# a developer's machine; a test that reached it (a backend built from default settings) would pass
# or fail depending on what happens to run. Outside the opt-in real-server tests the port is made
# to look closed, the same on every machine.
DEFAULT_COMFYUI_PORT = 8188


@pytest.fixture(autouse=True)
def default_comfyui_port_closed(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if request.node.get_closest_marker("real_comfyui") is not None:
        return
    import errno
    import socket

    def refuse(address: object) -> None:
        if isinstance(address, tuple) and len(address) >= 2 and address[1] == DEFAULT_COMFYUI_PORT:
            raise ConnectionRefusedError(
                errno.ECONNREFUSED, f"port {DEFAULT_COMFYUI_PORT} is closed in tests"
            )

    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guarded_connect(self: socket.socket, address: object) -> None:
        refuse(address)
        connect(self, address)  # type: ignore[arg-type]

    def guarded_connect_ex(self: socket.socket, address: object) -> int:
        try:
            refuse(address)
        except ConnectionRefusedError:
            return errno.ECONNREFUSED
        return connect_ex(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)


_CLOSED_QT_LOOPS: list[asyncio.AbstractEventLoop] = []


@pytest.fixture
def qloop(qapp) -> Iterator[asyncio.AbstractEventLoop]:  # type: ignore[no-untyped-def]
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    asyncio.events._set_running_loop(loop)
    try:
        yield loop
    finally:
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        # Let cancelled tasks run their cleanup, bounded so a stuck task cannot hang the suite.
        for _ in range(200):
            if all(task.done() for task in pending):
                break
            qapp.processEvents()
        loop._QEventLoop__is_running = False  # type: ignore[attr-defined]
        asyncio.events._set_running_loop(None)
        loop.close()
        asyncio.set_event_loop(None)
        # Keep the closed loop (and its Qt timers' Python objects) alive: collected later, in the
        # middle of another test, a timer of it fired on a deleted QObject and crashed Qt.
        _CLOSED_QT_LOOPS.append(loop)


@pytest.fixture
def python_exe() -> str:
    return sys.executable
