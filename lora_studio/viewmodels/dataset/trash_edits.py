"""View-model part: deletes and their undo on the Dataset page — pictures (with their captions)
go to the dataset's trash, and each delete or batch of doctor fixes is one undo step that brings
them back.

A mixin of `DatasetViewModel` (which declares the state used here: the grid model, the loader,
the doctor, the undo stack), kept in its own file so each stays small, as `intake.py` is for
imports. Both run as the view-model's operations (`_start`), their disk work in the executor.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lora_studio.core.plurals import plural
from lora_studio.viewmodels.dataset import core_adapter as core
from lora_studio.viewmodels.dataset.undo_stack import UndoStep

if TYPE_CHECKING:
    from lora_studio.viewmodels.dataset.dataset_vm import DatasetViewModel

    _Base = DatasetViewModel
else:
    _Base = object


class DatasetTrashMixin(_Base):
    """Delete, undo and the doctor's fix batches as undo steps; state lives in
    `DatasetViewModel`."""

    def delete_paths(self, paths: Sequence[str]) -> bool:
        """Move pictures (with their captions) to the project trash; undo brings them back."""
        targets = [Path(p) for p in paths if self.grid_model.row_for_path(Path(p)) is not None]
        if self._scan is None or not targets or self._refused():
            return False
        root = self._scan.root
        return self._start(
            "Moving to the trash",
            lambda _token: self._run_delete(root, targets),
            cancellable=False,
        )

    async def _run_delete(self, root: Path, targets: list[Path]) -> None:
        outcome = await self._in_executor(core.move_to_trash, root, targets)
        moved = list(outcome.moved)
        rows = [
            self.grid_model.row_at(n)
            for p in moved
            if (n := self.grid_model.row_for_path(p)) is not None
        ]
        self.grid_model.remove_paths(moved)
        self.loader.forget(moved)
        self.doctor.forget_paths(moved, outcome.batch_id)
        self.image_count = self.grid_model.rowCount()
        if self.detail.row is not None and self.detail.row.path in set(moved):
            self.detail.show(None, self.resolution)
        if outcome.batch_id is not None and moved:
            label = f"Undo delete of {plural(len(moved), 'picture')}"
            self.undo_stack.push(UndoStep(label, outcome.batch_id, tuple(rows), overwrite=False))
        if outcome.error:
            self.error = outcome.error
        self._after_rows_changed()

    def undo(self) -> bool:
        step = self.undo_stack.top()
        if step is None or self._scan is None or self._refused():
            return False
        root = self._scan.root
        return self._start(
            "Restoring", lambda _token: self._run_undo(root, step), cancellable=False
        )

    async def _run_undo(self, root: Path, step: UndoStep) -> None:
        report = await self._in_executor(
            core.restore, root, step.batch_id, overwrite=step.overwrite
        )
        self.undo_stack.discard(step)
        self.doctor.restore_findings(step.batch_id)
        if report.conflicts:
            self.error = " ".join(message for _, message in report.conflicts)
        if step.overwrite or report.conflicts:
            await self._rescan(root, None)
            return
        restored = set(report.restored)
        self.grid_model.insert_rows([row for row in step.rows if row.path in restored])
        self.image_count = self.grid_model.rowCount()
        await self._rescan(root, None)  # badges and doctor findings for the returning files

    def _handle_fixes_applied(self, report: object) -> None:
        batch = getattr(report, "trash_batch", None)
        results = getattr(report, "results", ())
        fixed = sum(1 for result in results if result.ok)
        if batch:
            label = f"Undo fixes on {plural(fixed, 'file')}"
            self.undo_stack.push(UndoStep(label, batch, (), overwrite=True))
        if self._scan is not None and not self.busy:
            self.refresh()
