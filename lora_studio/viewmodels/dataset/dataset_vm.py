"""View-model: the Dataset page — open a folder, import pictures, delete and undo, filter and sort,
and the thumbnail fill; owns the detail, stats and doctor view-models and keeps them in step.

Opening a folder runs scan + quick checks + row building in the executor, then swaps the rows into
the grid model in one reset; thumbnails are filled afterwards by the ThumbnailLoader (visible rows
first). Deletes move pictures and captions to the project trash; each delete or batch of fixes is
one undo step. The view asks for folder and file choosers through `folder_open_requested`,
`import_files_requested` and `import_folder_requested` (dialogs belong to views, never to a
coroutine), for a new dataset's name through `new_dataset_requested`, and — when a folder is dropped
on an empty page — whether to copy it into a new dataset (the default: originals stay untouched) or
work on it in place, through `drop_choice_requested`, answered with `answer_drop()`.

`idle` says whether nothing runs that opening, importing or deleting would collide with (this
page's own operation or the doctor's fixes); `busy_reason` is the sentence the views show beside
the buttons they disable, and the one a request made anyway is refused with.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication

from lora_studio import paths
from lora_studio.viewmodels.dataset import core_adapter as core
from lora_studio.viewmodels.dataset import dataset_jobs as jobs
from lora_studio.viewmodels.dataset.core_adapter import CancelToken, DatasetScan, Finding
from lora_studio.viewmodels.dataset.detail_vm import DetailViewModel
from lora_studio.viewmodels.dataset.doctor_vm import DoctorViewModel
from lora_studio.viewmodels.dataset.grid_vm import GridViewModel
from lora_studio.viewmodels.dataset.intake import DatasetIntakeMixin
from lora_studio.viewmodels.dataset.operation import OperationViewModel
from lora_studio.viewmodels.dataset.rows import Badge, GridRow, SortKey
from lora_studio.viewmodels.dataset.stats_vm import StatsViewModel
from lora_studio.viewmodels.dataset.thumbnail_loader import ThumbnailLoader, device_side
from lora_studio.viewmodels.dataset.trash_edits import DatasetTrashMixin
from lora_studio.viewmodels.dataset.undo_stack import UndoStack
from lora_studio.viewmodels.message_bridge import MessageBridge
from lora_studio.viewmodels.models.thumbnail_grid_model import THUMBNAIL_SIDE, ThumbnailGridModel
from lora_studio.viewmodels.observable import Observable

log = logging.getLogger(__name__)

RESOLUTIONS = (512, 768, 1024)


class DatasetViewModel(DatasetIntakeMixin, DatasetTrashMixin, OperationViewModel):
    """State and commands of the Dataset page (see the module docstring)."""

    folder_changed = Signal(str)
    image_count_changed = Signal(int)
    resolution_changed = Signal(int)
    trigger_word_changed = Signal(str)
    thumbnails_done_changed = Signal(int)
    thumbnails_total_changed = Signal(int)
    thumbnails_filling_changed = Signal(bool)
    folder_open_requested = Signal(str)  # view: choose a folder, starting here
    import_files_requested = Signal(str)  # view: choose files to import
    import_folder_requested = Signal(str)  # view: choose a folder to import
    new_dataset_requested = Signal(str)  # view: ask for a name; the new folder goes in this one
    drop_choice_requested = Signal(str)  # view: "Copy into a new dataset" or "Work on this folder"
    folder_note_changed = Signal(str)
    reveal_requested = Signal(str)  # view: select and scroll to this picture
    opened = Signal(str)
    imported = Signal(int)
    contents_changed = Signal(str)  # pictures of this folder came or went (import, delete, undo…)
    idle_changed = Signal(bool)
    busy_reason_changed = Signal(str)

    folder = Observable("")
    image_count = Observable(0)
    resolution = Observable(1024)
    trigger_word = Observable("")
    thumbnails_done = Observable(0)
    thumbnails_total = Observable(0)
    thumbnails_filling = Observable(False)
    folder_note = Observable("")  # whether the open folder is a copy or the artist's own
    # Nothing runs that opening, importing or deleting would collide with (this page's own
    # operation, or the doctor's fixes); `busy_reason` says what runs, as a sentence.
    idle = Observable(True)
    busy_reason = Observable("")

    def __init__(
        self,
        executor: Executor | None,
        bridge: MessageBridge | None = None,
        *,
        thumbnail_side: int | None = None,
        pixmap_budget_bytes: int | None = None,
        datasets_dir: Path | None = None,
        thumbnail_cache_dir: Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(executor, parent)
        self._bridge = bridge
        # Where "New dataset" and "Copy into a new dataset" create folders.
        self.datasets_dir = datasets_dir or Path.home() / "LoRA Studio datasets"
        # Thumbnails of a read-only dataset (its sidecar cannot be written) go here.
        self.thumbnail_cache_dir = thumbnail_cache_dir or paths.thumbnail_cache_dir()
        self._pending_sources: list[Path] = []  # dropped before any dataset was open
        self._scan: DatasetScan | None = None
        self.undo_stack = UndoStack(self)
        self._recheck_generation = 0
        self._recheck_task: asyncio.Task[None] | None = None
        self._save_task: asyncio.Task[None] | None = None
        if thumbnail_side is None:
            # Pixels, not points: on a HiDPI screen the thumbnails stay sharp.
            screen = QGuiApplication.primaryScreen()
            ratio = screen.devicePixelRatio() if screen is not None else 1.0
            thumbnail_side = device_side(THUMBNAIL_SIDE, ratio)
        self.loader = ThumbnailLoader(executor, side=thumbnail_side, parent=self)
        self.grid = GridViewModel(
            self.loader.request, pixmap_budget_bytes=pixmap_budget_bytes, parent=self
        )
        self.grid_model: ThumbnailGridModel = self.grid.model
        self.proxy = self.grid.proxy
        self.detail = DetailViewModel(executor, self)
        self.stats = StatsViewModel(executor, self)
        self.doctor = DoctorViewModel(executor, self)
        self._connect()

    def _connect(self) -> None:
        self.loader.thumbnail_ready.connect(self.grid_model.set_thumbnail)
        self.loader.thumbnail_failed.connect(self._handle_thumbnail_failed)
        self.loader.fill_progress.connect(self._handle_fill_progress)
        self.loader.fill_finished.connect(
            lambda _seconds: setattr(self, "thumbnails_filling", False)
        )
        self.doctor.pixel_findings_changed.connect(self._handle_doctor_findings)
        self.grid.error_changed.connect(lambda text: setattr(self, "error", text) if text else None)
        self.doctor.fixes_applied.connect(self._handle_fixes_applied)
        self.busy_changed.connect(self._update_idle)
        self.doctor.busy_changed.connect(self._update_idle)

    # -- properties --------------------------------------------------------------------------------
    @property
    def scan(self) -> DatasetScan | None:
        return self._scan

    @property
    def root(self) -> Path | None:
        return self._scan.root if self._scan is not None else None

    # -- open / refresh ----------------------------------------------------------------------------
    def request_open_folder(self) -> None:
        if self._refused():
            return
        self.folder_open_requested.emit(self.folder or str(Path.home()))

    def open_folder(self, path: str) -> bool:
        """Open a dataset folder: the grid fills with placeholders as soon as the scan is done."""
        if not path.strip():
            self.error = "Choose a folder to open."
            return False
        if self._refused():
            return False
        root = Path(path).expanduser()
        self.doctor.cancel()  # a full check of the previous folder is of no use any more
        return self._start("Opening the dataset", lambda token: self._run_open(root, token))

    async def _run_open(self, root: Path, token: CancelToken) -> None:
        progress = self._progress_reporter("Reading")
        model = self.grid_model
        scanned = await self._in_executor(
            jobs.scan_folder,
            root,
            model.sort_key,
            model.descending,
            thumbnail_fallback=self.thumbnail_cache_dir,
            cancel=token,
            progress=progress,
        )
        scan = scanned.scan
        # The dataset's own settings (its manifest) win; a dataset without any keeps the
        # resolution shown but starts without a trigger word.
        saved = scanned.settings
        if saved.resolution in RESOLUTIONS:
            self.resolution = saved.resolution
        self.trigger_word = saved.trigger_word or ""
        resolution, trigger = self.resolution, self.trigger_word
        # Phase one: the grid shows every picture with a placeholder and thumbnails start. Rows
        # and loader switch in the same turn of the event loop, so no paint asks one dataset's
        # loader for another's pictures (its cache is in that dataset's sidecar); the page's
        # labels follow a turn later, so they and the model reset (~15 ms for 5,000 rows) with
        # its first paint are not one stall.
        self._scan = scan
        self._recheck_generation += 1  # a recheck of the previous folder must not land here
        self.undo_stack.clear()
        # The order was computed for the sort at the time of the call; re-sort if it changed since.
        self.grid_model.set_rows(scanned.rows, already_ordered=scanned.order == self._sort_state())
        self.loader.start(scanned.thumbnails, [row.path for row in self.grid_model.rows()])
        await asyncio.sleep(0)
        self.thumbnails_filling = self.loader.filling
        self.folder = str(scan.root)
        self.folder_note = self._describe_folder(scan.root)
        self.image_count = len(scanned.rows)
        self.detail.show(None, resolution)
        # Phase two: quick checks give badges and the doctor's first findings.
        self.progress_text = "Checking captions, sizes and buckets…"
        version = model.version
        findings, rows = await self._in_executor(
            jobs.recheck_in_order, scan, resolution, trigger, (), model.rows()
        )
        if scan is not self._scan:
            return
        if not model.replace_all(rows, version):
            self.grid_model.update_rows(jobs.diff_rows(model.rows(), rows).changed)
        self.doctor.set_dataset(scan.root, scan, findings, self._options())
        # Thumbnails that failed while the checks ran: their badge and finding were replaced.
        for path, message in self.loader.failures.items():
            self._handle_thumbnail_failed(path, message)
        self.stats.update(self.grid_model.rows(), resolution)
        self.opened.emit(self.folder)

    def refresh(self) -> bool:
        """Rescan the open folder and apply only the differences to the grid."""
        if self._scan is None:
            return False
        root = self._scan.root
        return self._start("Refreshing", lambda token: self._rescan(root, token))

    async def _rescan(self, root: Path, token: CancelToken | None) -> None:
        model = self.grid_model
        version = model.version
        loaded = await self._in_executor(
            jobs.rescan,
            root,
            self.resolution,
            self.trigger_word,
            cancel=token,
            extra_findings=self.doctor.pixel_findings,
            current=model.rows(),
        )
        if self._scan is None or loaded.scan.root != self._scan.root:
            return  # another folder was opened meanwhile
        # The diff was computed against a snapshot; redo it here only if the grid moved since.
        diff = (
            loaded.diff if model.version == version else jobs.diff_rows(model.rows(), loaded.rows)
        )
        self._scan = loaded.scan
        model.remove_paths(diff.removed)
        self.loader.forget(diff.removed)
        model.update_rows(diff.changed)
        model.insert_rows(diff.added)
        self.image_count = self.grid_model.rowCount()
        self.doctor.set_dataset(loaded.scan.root, loaded.scan, loaded.findings, self._options())
        self._after_rows_changed()
        self.contents_changed.emit(str(loaded.scan.root))

    # -- import ------------------------------------------------------------------------------------
    def _describe_folder(self, root: Path) -> str:
        try:
            inside = root.resolve().is_relative_to(self.datasets_dir.resolve())
        except OSError:
            inside = False
        if inside:
            return (
                "A dataset in your datasets folder: pictures come in as copies, the originals "
                "stay where they were."
            )
        return (
            "Working on this folder itself: deletes and fixes change it (what they replace goes "
            "to its trash; Undo brings it back)."
        )

    # -- selection, filters, settings --------------------------------------------------------------
    def set_current(self, path: str) -> None:
        """The artist selected one picture (or none, with '')."""
        number = self.grid_model.row_for_path(Path(path)) if path else None
        row = self.grid_model.row_at(number) if number is not None else None
        self.detail.show(row, self.resolution)

    def reveal(self, path: str) -> None:
        """Show a picture named elsewhere (a doctor finding) in the grid and the detail pane."""
        if self.grid.row(Path(path)) is None:
            return
        if not self.grid.is_visible(Path(path)):
            self.grid.clear_filters()  # the filters hide it: show everything
        self.set_current(path)
        self.reveal_requested.emit(path)

    def set_resolution(self, resolution: int) -> None:
        """Training resolution: changes 'too small' badges, buckets, crops and stats."""
        if resolution not in RESOLUTIONS:
            self.error = f"Choose a resolution of {', '.join(map(str, RESOLUTIONS))}."
            return
        if resolution != self.resolution:
            self.resolution = resolution
            self.detail.set_resolution(resolution)  # cheap: the pane follows at once
            self._recheck()
            self._save_settings()

    def set_trigger_word(self, text: str) -> None:
        text = text.strip()
        if text != self.trigger_word:
            self.trigger_word = text
            self._recheck()
            self._save_settings()

    def stop_thumbnails(self) -> None:
        self.loader.stop_fill()

    def shutdown(self) -> None:
        """Stop background work (the page is closing)."""
        self.cancel()
        self.doctor.cancel()
        self.loader.shutdown()
        self.stats.shutdown()

    def _save_settings(self) -> None:
        """Remember resolution and trigger word in the dataset's manifest (in the background)."""
        if self._scan is None:
            return
        settings = core.ProjectSettings(self.resolution, self.trigger_word or None)
        root = self._scan.root
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a synchronous caller): nothing is remembered, nothing breaks
        self._save_task = loop.create_task(self._run_save_settings(root, settings))

    async def _run_save_settings(self, root: Path, settings: core.ProjectSettings) -> None:
        try:
            await self._in_executor(core.save_project_settings, root, settings)
        except core.LoraStudioError as exc:
            # A read-only dataset still works; it only cannot remember its settings.
            log.info("dataset settings not saved: %s", exc)
            if self._bridge is not None:
                self._bridge.warning(exc.user_message)

    def _sort_state(self) -> tuple[SortKey, bool]:
        return self.grid_model.sort_key, self.grid_model.descending

    def _options(self) -> core.DoctorOptions:
        return core.doctor_options(self.resolution, self.trigger_word)

    def _recheck(self) -> None:
        """Quick checks again (no rescan) after the resolution or trigger changed.

        Building 10,000 rows takes ~100 ms, so it runs in the executor; a newer change supersedes
        an older one still computing."""
        scan = self._scan
        if scan is None:
            return
        self._recheck_generation += 1
        job = (
            scan,
            self.resolution,
            self.trigger_word,
            self.doctor.pixel_findings,
            self.grid_model.rows(),
        )
        version = self.grid_model.version
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._apply_recheck(scan, version, *jobs.recheck_in_order(*job))
            return
        self._recheck_task = loop.create_task(
            self._run_recheck(self._recheck_generation, version, job)
        )

    async def _run_recheck(self, generation: int, version: int, job: tuple[Any, ...]) -> None:
        findings, rows = await self._in_executor(jobs.recheck_in_order, *job)
        if generation == self._recheck_generation and job[0] is self._scan:
            self._apply_recheck(job[0], version, findings, rows)

    def _apply_recheck(
        self, scan: DatasetScan, version: int, findings: list[Finding], rows: list[GridRow]
    ) -> None:
        model = self.grid_model
        if not model.replace_all(rows, version):
            model.update_rows(jobs.diff_rows(model.rows(), rows).changed)
        self.doctor.set_dataset(scan.root, scan, findings, self._options())
        self._after_rows_changed()

    def _current_row(self, path: Path) -> GridRow | None:
        return self.grid.row(path)

    # -- conflicts ---------------------------------------------------------------------------------
    def _update_idle(self, *_args: object) -> None:
        if self.busy:
            reason = f"{self.label} is still running. Wait for it to finish or cancel it."
        elif self.doctor.fixing:
            reason = "The doctor is fixing pictures. Wait for it to finish or cancel it."
        else:
            reason = ""
        self.busy_reason = reason
        self.idle = not reason
        # The doctor's checks and fixes wait while this page changes the dataset.
        self.doctor.blocked_reason = reason if self.busy else ""

    def _refused(self) -> bool:
        """True, with the reason in `error`, while a conflicting operation runs."""
        if self.idle:
            return False
        self.error = self.busy_reason
        return True

    # -- handlers ----------------------------------------------------------------------------------
    def _after_rows_changed(self) -> None:
        self.stats.update(self.grid_model.rows(), self.resolution)
        if self.detail.row is not None:
            current = self._current_row(self.detail.row.path)
            self.detail.show(current, self.resolution)

    def _handle_doctor_findings(self) -> None:
        """A full check finished: its near-duplicate and decoding findings become badges (rows
        are rebuilt in the executor, like after a resolution change)."""
        self._recheck()

    def _handle_thumbnail_failed(self, path: Path, message: str) -> None:
        """A picture failed to decode: the grid, the doctor and the statistics all say so."""
        self.grid_model.set_thumbnail_failed(path, message)
        row = self._current_row(path)
        if row is not None and Badge.UNREADABLE not in row.badges:
            self.grid_model.update_rows([row.with_badges(row.badges | {Badge.UNREADABLE})])
            if row.entry.ok:  # the header read fine, so no quick finding names it yet
                self.doctor.note_decode_failure(path, message)
            self.stats.update(self.grid_model.rows(), self.resolution)

    def _handle_fill_progress(self, done: int, total: int) -> None:
        self.thumbnails_total = total
        self.thumbnails_done = done
        self.thumbnails_filling = self.loader.filling
