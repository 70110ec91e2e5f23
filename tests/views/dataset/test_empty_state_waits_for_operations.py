"""The empty-state buttons (New dataset / Open folder / Import…) and the Captions page's Open folder
wait while something runs that they would collide with — the Dataset page opening or importing, or
the doctor fixing pictures — say why, and come back when it finishes or is cancelled (issue 11).

The operations are real; a gate holds the worker-thread half until the test has looked, then lets
the real function run."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from lora_studio.viewmodels.dataset import core_adapter, dataset_jobs


class Gate:
    """Wraps a worker function: the call waits until `release()` (at most 10 s), then runs it."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self._func = func
        self.entered = threading.Event()
        self._open = threading.Event()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.entered.set()
        self._open.wait(10)
        return self._func(*args, **kwargs)

    def release(self) -> None:
        self._open.set()


@pytest.fixture
def gates(monkeypatch):  # type: ignore[no-untyped-def]
    made: list[Gate] = []

    def gate(module: object, name: str) -> Gate:
        held = Gate(getattr(module, name))
        monkeypatch.setattr(module, name, held)
        made.append(held)
        return held

    yield gate
    for held in made:  # never leave a worker thread waiting
        held.release()


def _enabled(page) -> list[bool]:  # type: ignore[no-untyped-def]
    return [button.isEnabled() for button in page.empty_state.buttons]


def test_start_buttons_wait_while_a_folder_opens(
    qtbot, qloop, make_dataset, page_factory, gates
) -> None:  # type: ignore[no-untyped-def]
    from lora_studio.viewmodels.captions.captions_vm import CaptionsViewModel
    from lora_studio.views.pages.captions_page import CaptionsPage

    page, vm = page_factory()
    captions = CaptionsPage(CaptionsViewModel(vm, None))
    qtbot.addWidget(captions)
    captions.show()
    assert page.empty_state.title.text() == "Start a dataset"
    assert _enabled(page) == [True, True] and captions.open_button.isEnabled()

    held = gates(dataset_jobs, "scan_folder")
    root = make_dataset(3)
    assert vm.open_folder(str(root))
    qtbot.waitUntil(held.entered.is_set, timeout=5000)
    # Still the "Start a dataset" state (nothing is open yet), but its buttons wait.
    assert page.empty_state.title.text() == "Start a dataset"
    assert _enabled(page) == [False, False]
    note = page.empty_state.note
    assert note.isVisible() and "Opening the dataset is still running" in note.text()
    assert page.empty_state.buttons[0].toolTip() == note.text()
    assert not page.new_button.isEnabled() and not page.open_button.isEnabled()
    assert not captions.open_button.isEnabled() and captions.open_note.isVisible()
    # Asked anyway (a shortcut, a stale click): refused with a sentence, no chooser opens.
    with qtbot.assertNotEmitted(vm.folder_open_requested):
        vm.request_open_folder()
    with qtbot.assertNotEmitted(vm.new_dataset_requested):
        vm.request_new_dataset()
    assert "still running" in vm.error

    with qtbot.waitSignal(vm.opened, timeout=10_000):
        held.release()
    assert vm.idle and vm.busy_reason == ""
    assert page.new_button.isEnabled() and page.open_button.isEnabled()
    assert not page.empty_state.isVisible()


def test_import_buttons_wait_during_an_import_and_return_after_cancel(
    qtbot, qloop, tmp_path, draw, page_factory, gates
) -> None:  # type: ignore[no-untyped-def]
    page, vm = page_factory()
    empty = tmp_path / "empty"
    empty.mkdir()
    with qtbot.waitSignal(vm.opened, timeout=10_000):
        vm.open_folder(str(empty))
    assert page.empty_state.title.text() == "This dataset has no pictures yet"
    assert _enabled(page) == [True, True]

    pictures = [draw(tmp_path / "in" / f"p{i}.jpg", i) for i in range(3)]
    held = gates(core_adapter, "import_into")
    assert vm.import_sources([str(p) for p in pictures])
    qtbot.waitUntil(held.entered.is_set, timeout=5000)
    assert _enabled(page) == [False, False]
    assert "Importing is still running" in page.empty_state.note.text()
    assert not page.import_button.isEnabled()
    with qtbot.assertNotEmitted(vm.import_files_requested):
        page.empty_state.buttons[0].click()  # disabled: nothing happens
        vm.request_import()  # asked anyway: refused with the reason
    assert "Importing is still running" in vm.error
    assert not vm.import_sources([str(pictures[0])])  # a second import is refused too

    with qtbot.waitSignal(vm.operation_finished, timeout=10_000) as finished:
        vm.cancel()
        held.release()
    assert finished.args == ["Importing", False]
    assert vm.idle and not page.empty_state.note.isVisible()
    assert page.import_button.isEnabled()
    if page.empty_state.isVisible():  # the cancel came before any picture was copied
        assert _enabled(page) == [True, True]


def test_doctor_fixes_and_page_operations_wait_for_each_other(
    qtbot, qloop, tmp_path, make_dataset, draw, page_factory, gates
) -> None:  # type: ignore[no-untyped-def]
    page, vm = page_factory()
    root = make_dataset(3)
    (root / "junk.png").write_bytes(b"")  # an empty file: its fix moves it to the trash
    with qtbot.waitSignal(vm.opened, timeout=10_000):
        vm.open_folder(str(root))
    junk = [f for f in vm.doctor.findings if f.path.name == "junk.png" and f.fix is not None]
    assert junk

    # The doctor fixes: opening another folder, importing or deleting waits, and the fix is
    # not cancelled underneath (it used to be, by open_folder).
    held = gates(core_adapter, "fix_findings")
    assert vm.doctor.request_fixes(junk) and vm.doctor.confirm_fixes()
    qtbot.waitUntil(held.entered.is_set, timeout=5000)
    assert not vm.idle and "The doctor is fixing pictures" in vm.busy_reason
    assert not page.open_button.isEnabled() and not page.import_button.isEnabled()
    other = make_dataset(2, name="other")
    assert not vm.open_folder(str(other))
    assert "The doctor is fixing pictures" in vm.error
    assert not vm.delete_paths([str(root / "img_000.jpg")])
    assert vm.doctor.busy and vm.doctor.cancellable  # still running, not cancelled
    with qtbot.waitSignal(vm.doctor.fixes_applied, timeout=10_000):
        held.release()
    qtbot.waitUntil(lambda: vm.idle, timeout=10_000)
    assert not (root / "junk.png").exists() and vm.folder == str(root)
    assert page.open_button.isEnabled()

    # The page imports: the doctor's buttons wait, and a fix asked for anyway is refused.
    page.side.setCurrentWidget(page.doctor)
    held_import = gates(core_adapter, "import_into")
    new = draw(tmp_path / "new.jpg", 99)
    assert vm.import_sources([str(new)])
    qtbot.waitUntil(held_import.entered.is_set, timeout=5000)
    assert not page.doctor.run_button.isEnabled()
    assert not vm.doctor.run()
    assert "Importing is still running" in vm.doctor.error
    with qtbot.waitSignal(vm.operation_finished, timeout=10_000):
        held_import.release()
    assert page.doctor.run_button.isEnabled() and vm.doctor.blocked_reason == ""
    assert (root / "new.jpg").exists() and vm.image_count == 4
