"""Composition root: builds the QApplication, services, view-models and the main window.

The only place that constructs services. The GUI runs on a qasync loop started with `qasync.run`;
closing the window sets an event that `main()` awaits, then tasks are cancelled and clients closed
before the loop ends, so the process exits 0 without "Event loop stopped before Future completed".
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QSettings, QSize
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QWidget

from lora_studio import APP_ID, APP_NAME, __version__, paths
from lora_studio.core.backends.base import BackendCheck
from lora_studio.core.config.settings import Settings, load_settings, save_settings
from lora_studio.core.errors import LoraStudioError
from lora_studio.core.jobs import JobStore
from lora_studio.core.plurals import plural
from lora_studio.core.training.service import TrainingService
from lora_studio.local_backends import build_local_backend
from lora_studio.logging_setup import route_qt_messages, setup_logging
from lora_studio.responsiveness import (
    apply_gui_settings,
    freeze_long_lived,
    lower_worker_priority,
)
from lora_studio.viewmodels.captions.captions_vm import CaptionsViewModel
from lora_studio.viewmodels.dataset.dataset_vm import DatasetViewModel
from lora_studio.viewmodels.help_vm import HelpViewModel
from lora_studio.viewmodels.jobs_vm import JobsViewModel
from lora_studio.viewmodels.message_bridge import MessageBridge
from lora_studio.viewmodels.presets_vm import PresetsViewModel
from lora_studio.viewmodels.settings_vm import SettingsViewModel
from lora_studio.viewmodels.train import TrainWizardViewModel
from lora_studio.views.crash_dialog import make_excepthook
from lora_studio.views.help_menu import install_help_menu
from lora_studio.views.main_window import MainWindow, PageSpec
from lora_studio.views.pages.captions_page import CaptionsPage
from lora_studio.views.pages.dataset_page import DatasetPage
from lora_studio.views.pages.jobs_page import JobsPage
from lora_studio.views.pages.placeholder_page import PLACEHOLDER_TEXT, PlaceholderPage
from lora_studio.views.pages.presets_page import PresetsPage
from lora_studio.views.pages.settings_page import SettingsPage
from lora_studio.views.pages.train_page import TrainPage
from lora_studio.views.theme import apply_theme

log = logging.getLogger(__name__)

ICON_SIZES = (16, 32, 48, 64, 128, 256)


@dataclass
class Services:
    """Long-lived services shared by view-models; closed in order at shutdown."""

    settings: Settings
    config_dir: Path
    data_dir: Path
    cache_dir: Path
    bridge: MessageBridge
    executor: ThreadPoolExecutor
    job_store: JobStore
    training: TrainingService
    tasks: set[asyncio.Task[object]] = field(default_factory=set)

    async def aclose(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        # Stop following jobs (they keep running on their backends and are re-attached at the
        # next start), then close network clients, then the workers and the job store.
        await self.training.aclose()
        self.executor.shutdown(wait=True, cancel_futures=True)
        # View-models save settings on worker threads; a save still queued when the window
        # closed was just cancelled. Every view-model edits this one Settings object, so one
        # last write, after no worker can race it, keeps the artist's latest choices.
        try:
            save_settings(self.config_dir, self.settings)
        except LoraStudioError as exc:
            log.warning("settings not saved at exit: %s", exc.user_message)
        self.job_store.close()


def ensure_platform() -> None:
    """Use the offscreen platform when there is no display (CI, ssh, self-test on a server)."""
    if sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM"):
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ["QT_QPA_PLATFORM"] = "offscreen"


def create_application(argv: list[str] | None = None) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    ensure_platform()
    app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName("LoRA Studio")
    app.setDesktopFileName(APP_ID)
    return app


def app_icon() -> QIcon:
    icon = QIcon()
    for size in ICON_SIZES:
        png = paths.resource("icons", f"lora-studio-{size}.png")
        if png.exists():
            icon.addFile(str(png), QSize(size, size))
    if icon.isNull():
        icon = QIcon(str(paths.resource("icons", "lora-studio.svg")))
    return icon


def build_services() -> Services:
    config_dir = paths.config_dir()
    settings = load_settings(config_dir)
    bridge = MessageBridge()
    job_store = JobStore(paths.job_store_file())
    output_dir = Path(settings.output_dir) if settings.output_dir else paths.output_dir()
    return Services(
        settings=settings,
        config_dir=config_dir,
        data_dir=paths.data_dir(),
        cache_dir=paths.cache_dir(),
        bridge=bridge,
        executor=ThreadPoolExecutor(
            max_workers=2, thread_name_prefix="lora-io", initializer=lower_worker_priority
        ),
        job_store=job_store,
        training=TrainingService(
            job_store,
            output_dir,
            backend_settings=settings.backend_settings(),
            backend_factory=build_local_backend,
            notify=bridge.warning,
        ),
    )


async def check_backend(settings: dict[str, object]) -> BackendCheck:
    """Build a throw-away backend from `settings` and ask it whether it can train."""
    backend = build_local_backend(settings)
    try:
        return await backend.check()
    finally:
        await backend.aclose()


def build_window(app: QApplication, services: Services) -> MainWindow:
    settings_vm = SettingsViewModel(
        services.settings,
        services.config_dir,
        paths={
            "Settings and presets": str(services.config_dir),
            "Job records": str(services.data_dir),
            "Thumbnail cache": str(services.cache_dir),
            "Log files": str(paths.log_dir()),
            "Trained LoRAs": str(services.training.output_dir),
        },
        check_backend=check_backend,
    )
    settings_vm.backends_changed.connect(
        lambda: services.training.set_backend_settings(services.settings.backend_settings())
    )
    apply_theme(app, settings_vm.theme)
    settings_vm.theme_changed.connect(lambda choice: apply_theme(app, choice))

    jobs_vm = JobsViewModel(
        services.job_store,
        services.executor,
        cancel_handler=services.training.cancel,
        events=services.training,
        retry_handler=_retry_handler(services),
        promote_handler=services.training.promote_checkpoint,
    )
    presets_vm = PresetsViewModel(services.config_dir, services.executor)
    presets_vm.load()
    datasets_dir = services.settings.datasets_dir
    dataset_vm = DatasetViewModel(
        services.executor,
        services.bridge,
        datasets_dir=Path(datasets_dir) if datasets_dir else paths.datasets_dir(),
        thumbnail_cache_dir=paths.thumbnail_cache_dir(),
    )
    # Remembered as soon as the folder shows, even if the window closes during the checks.
    dataset_vm.folder_changed.connect(settings_vm.remember_dataset)
    # Shares the open dataset and current picture with the Dataset page (and its detail pane's
    # caption editor), so it is built before the Dataset page.
    captions_vm = CaptionsViewModel(
        dataset_vm,
        services.executor,
        settings=services.settings,
        save_settings=lambda snapshot: save_settings(services.config_dir, snapshot),
    )
    train_vm = TrainWizardViewModel(
        services.training, services.executor, services.config_dir, services.bridge
    )
    train_vm.load()
    jobs_page = JobsPage(jobs_vm, services.bridge)
    built_pages: dict[str, QWidget] = {
        "dataset": DatasetPage(dataset_vm),
        "captions": CaptionsPage(captions_vm),
        "presets": PresetsPage(presets_vm),
        "train": TrainPage(train_vm),
        "jobs": jobs_page,
    }
    pages: list[PageSpec] = [
        PageSpec(key, title, built_pages.get(key) or PlaceholderPage(title, text), tooltip=title)
        for key, (title, text) in PLACEHOLDER_TEXT.items()
    ]
    pages.append(PageSpec("settings", "Settings", SettingsPage(settings_vm), "Settings"))
    window_state = QSettings(
        str(services.config_dir / "window-state.ini"), QSettings.Format.IniFormat
    )
    window = MainWindow(pages, services.bridge, window_state, icon=app_icon())
    window.help_vm = HelpViewModel(services.bridge, parent=window)  # type: ignore[attr-defined]
    install_help_menu(window, window.help_vm)  # type: ignore[attr-defined]
    # The window owns the view-models of its pages; keep them alive as long as it lives.
    window.view_models = [settings_vm, jobs_vm, presets_vm, dataset_vm, captions_vm, train_vm]  # type: ignore[attr-defined]
    window.close_requested.connect(captions_vm.shutdown)  # first: a pending caption edit is saved
    window.close_requested.connect(dataset_vm.shutdown)
    window.close_requested.connect(train_vm.shutdown)
    window.close_requested.connect(jobs_vm.shutdown)
    # "Edit as new" on the Jobs page: the Train wizard, filled in with that job's settings.
    jobs_vm.edit_requested.connect(
        lambda folder, preset, config: _edit_job(window, train_vm, folder, preset, config)
    )
    # The folder open on the Dataset page is the one the Train wizard starts from.
    dataset_vm.opened.connect(train_vm.set_dataset_folder)
    # …and stays in step with it: imports, deletes and fixes, and the trigger word set there.
    dataset_vm.contents_changed.connect(train_vm.follow_dataset_page)
    dataset_vm.trigger_word_changed.connect(train_vm.parameters.suggest_trigger_word)
    train_vm.job_started.connect(lambda job_id: _show_job(window, jobs_vm, job_id))
    jobs_page.train_requested.connect(lambda: window.show_page("train"))
    train_vm.dataset.captions_page_requested.connect(
        lambda folder: _show_captions(window, dataset_vm, folder)
    )
    return window


def _show_captions(window: MainWindow, dataset_vm: DatasetViewModel, folder: str) -> None:
    """The Train wizard's "Edit captions…": the Captions page, on the wizard's folder."""
    window.show_page("captions")
    if folder and Path(folder) != dataset_vm.root and not dataset_vm.busy:
        dataset_vm.open_folder(folder)


def _retry_handler(services: Services) -> Callable[[str], Awaitable[str]]:
    async def retry(job_id: str) -> str:
        return (await services.training.retry(job_id)).id

    return retry


def _edit_job(
    window: MainWindow,
    train_vm: TrainWizardViewModel,
    folder: str,
    preset: str,
    config: dict[str, object],
) -> None:
    train_vm.load_job(folder, preset, config)
    window.show_page("train")


def _show_job(window: MainWindow, jobs_vm: JobsViewModel, job_id: str) -> None:
    window.show_page("jobs")
    jobs_vm.select(job_id)


async def _run_main_window(app: QApplication, services: Services) -> int:
    closed = asyncio.Event()
    window = build_window(app, services)
    window.close_requested.connect(closed.set)
    sys.excepthook = make_excepthook(str(paths.log_file()), lambda: window)
    asyncio.get_running_loop().set_exception_handler(_report_task_exception)
    window.show()
    # Everything built so far (Qt wrappers, imported modules: ~110,000 objects) lives as long as
    # the app: keep it out of full garbage collections, which otherwise scan it all holding the
    # GIL and stalled the window for 50–150 ms at a time (bench_jobs_monitor, bench_grid_open).
    freeze_long_lived()
    _reopen_last_dataset(window, services)
    await _reattach_jobs(services)
    await closed.wait()
    await services.aclose()
    return 0


def _reopen_last_dataset(window: MainWindow, services: Services) -> None:
    """Open the dataset the artist worked on last time (if it is still there)."""
    last = services.settings.last_dataset_dir
    dataset_vm = next(
        (vm for vm in getattr(window, "view_models", []) if isinstance(vm, DatasetViewModel)),
        None,
    )
    if last and dataset_vm is not None and Path(last).is_dir():
        dataset_vm.open_folder(last)


def _report_task_exception(loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
    """A bug in a background task reaches the crash dialog, like one in a slot would."""
    exception = context.get("exception")
    if isinstance(exception, BaseException) and not isinstance(exception, asyncio.CancelledError):
        sys.excepthook(type(exception), exception, exception.__traceback__)
    else:
        loop.default_exception_handler(context)


async def _reattach_jobs(services: Services) -> None:
    """Follow again the jobs that were running when LoRA Studio last closed (the store is read
    on its own thread: the window is already up and stays responsive)."""
    results = await services.training.reattach()
    following = sum(result.outcome == "following" for result in results)
    elsewhere = sum(result.outcome == "followed_elsewhere" for result in results)
    if following:
        services.bridge.info(
            f"Following {plural(following, 'unfinished job')} from the last session."
        )
    if elsewhere:
        services.bridge.info(
            f"{plural(elsewhere, 'job')} {'is' if elsewhere == 1 else 'are'} being followed by another "
            "LoRA Studio process."
        )


def run_gui() -> int:
    """Start the desktop application; returns the process exit code."""
    import qasync

    setup_logging(paths.log_file())
    route_qt_messages()
    app = create_application()
    app.setQuitOnLastWindowClosed(False)
    # The GIL back to the GUI thread within 0.2 ms; garbage collection on the GUI thread only:
    # never a pause in a worker, never a Qt object destroyed off the GUI thread.
    apply_gui_settings(app)
    services = build_services()
    log.info("LoRA Studio %s starting", __version__)
    code = qasync.run(_run_main_window(app, services))
    log.info("LoRA Studio exiting with %s", code)
    return int(code or 0)
