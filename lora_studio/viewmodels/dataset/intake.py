"""View-model part: how pictures come into a dataset on the Dataset page — a new dataset, a
dropped folder (copied into a new dataset, or worked on in place), files and archives imported.

A mixin of `DatasetViewModel` (which declares the signals and state used here), kept in its own
file so each stays small, as `jobs_vm_actions.py` is for the Jobs page. Copies and imports run as
the view-model's cancellable operations (`_start`), off the GUI thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lora_studio.core.dataset import new_dataset
from lora_studio.core.plurals import plural
from lora_studio.viewmodels.dataset import core_adapter as core
from lora_studio.viewmodels.dataset.core_adapter import CancelToken

if TYPE_CHECKING:
    from lora_studio.viewmodels.dataset.dataset_vm import DatasetViewModel

    _Base = DatasetViewModel
else:
    _Base = object


class DatasetIntakeMixin(_Base):
    """Intent methods and their coroutines; state lives in `DatasetViewModel`."""

    def request_import(self, folder: bool = False) -> None:
        """Choose pictures and zip archives (or, with `folder`, a whole folder) to copy in. With
        no dataset open, a new one is made first (its name is asked for)."""
        if self._refused():
            return
        if self._scan is None:
            self.request_new_dataset()
            return
        if folder:
            self.import_folder_requested.emit(self.folder)
        else:
            self.import_files_requested.emit(self.folder)

    def request_new_dataset(self) -> None:
        if self._refused():
            return
        self.new_dataset_requested.emit(str(self.datasets_dir))

    def create_dataset(self, name: str) -> bool:
        """Make `datasets_dir/name`, open it, then import what was dropped before (if anything)
        or ask the view for pictures to import."""
        try:
            cleaned = new_dataset.check_dataset_name(name)
        except core.LoraStudioError as exc:
            self.error = exc.user_message
            return False
        sources, self._pending_sources = self._pending_sources, []
        if self._refused():
            return False
        parent = self.datasets_dir
        return self._start(
            "Creating the dataset",
            lambda token: self._run_create(parent, cleaned, sources, token),
        )

    async def _run_create(
        self, parent: Path, name: str, sources: list[Path], token: CancelToken
    ) -> None:
        folder = await self._in_executor(new_dataset.create_dataset, parent, name)
        await self._run_open(folder, token)
        if sources:
            await self._run_import(folder, sources, token)
        else:
            self.import_files_requested.emit(str(folder))

    def answer_drop(self, copy: bool) -> bool:
        """The artist's answer to `drop_choice_requested`: copy the dropped folder into a new
        dataset (originals untouched), or work on the folder itself."""
        sources, self._pending_sources = self._pending_sources, []
        if len(sources) != 1 or self._refused():
            return False
        if not copy:
            return self.open_folder(str(sources[0]))
        parent = self.datasets_dir
        return self._start(
            "Copying into a new dataset", lambda token: self._run_copy(sources[0], parent, token)
        )

    def discard_drop(self) -> None:
        self._pending_sources = []

    async def _run_copy(self, source: Path, parent: Path, token: CancelToken) -> None:
        progress = self._progress_reporter("Copied")
        copied = await self._in_executor(
            new_dataset.copy_as_dataset, source, parent, cancel=token, progress=progress
        )
        if copied.cancelled:
            return
        await self._run_open(copied.folder, token)
        if self._bridge is not None:
            self._bridge.info(
                f"Copied {plural(copied.copied, 'picture')} from {source} into the new dataset "
                f"{copied.folder}; the original folder is untouched."
            )

    def import_sources(self, sources: Sequence[str]) -> bool:
        """Copy dropped or chosen files, folders and zip archives into the open dataset.

        With no dataset open, one dropped folder asks the view how to use it
        (`drop_choice_requested`); dropped files ask for a new dataset's name first."""
        paths = [Path(s) for s in sources if s]
        if not paths:
            self.error = "Nothing to import: drop pictures, folders or zip archives."
            return False
        if self._refused():
            return False
        if self._scan is None:
            self._pending_sources = paths
            if len(paths) == 1 and paths[0].is_dir():
                self.drop_choice_requested.emit(str(paths[0]))
            else:
                self.request_new_dataset()
            return True
        root = self._scan.root
        return self._start("Importing", lambda token: self._run_import(root, paths, token))

    async def _run_import(self, root: Path, sources: list[Path], token: CancelToken) -> None:
        progress = self._progress_reporter("Imported")
        try:
            report = await self._in_executor(
                core.import_into, root, sources, cancel=token, progress=progress
            )
        finally:
            # Whatever was copied before a failure or a cancel is complete: show it.
            await self._rescan(root, None)
        problems = core.import_problem_text(report)
        if problems:
            self.error = problems
        count = len(report.imported)
        self.imported.emit(count)
        if self._bridge is not None:
            suffix = " (cancelled)" if report.cancelled else ""
            self._bridge.info(f"Imported {count} picture{'s' if count != 1 else ''}{suffix}.")
