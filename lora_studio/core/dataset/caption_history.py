"""Core/dataset: the undo/redo history of a dataset's captions, in memory — no files.

`CaptionStore` (caption_store.py) owns the journal on disk and the caption files; it feeds each
journal record to `CaptionHistory.replay` when it opens, `add`s a step for each change, and moves
`position` on undo/redo. Keeping this part apart lets the journal rules (crash order, recovery)
read without the list bookkeeping, and lets compaction pick what to keep without touching a file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class CaptionChange:
    """One caption's change: `old` is None when the caption file did not exist."""

    path: str
    old: str | None
    new: str | None


@dataclass(slots=True)
class HistoryStep:
    """One undo step: a label and the changes in the order they were made."""

    id: int
    label: str
    group: str | None = None
    changes: list[CaptionChange] = field(default_factory=list)


class CaptionHistory:
    """Steps in order; `steps[:position]` are applied, `steps[position:]` can be redone."""

    def __init__(self) -> None:
        self.steps: list[HistoryStep] = []
        self.position = 0
        self.next_id = 1

    # -- reading ---------------------------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        return self.position > 0

    @property
    def can_redo(self) -> bool:
        return self.position < len(self.steps)

    @property
    def undo_label(self) -> str | None:
        step = self.to_undo()
        return step.label if step is not None else None

    @property
    def redo_label(self) -> str | None:
        step = self.to_redo()
        return step.label if step is not None else None

    def to_undo(self) -> HistoryStep | None:
        return self.steps[self.position - 1] if self.position > 0 else None

    def to_redo(self) -> HistoryStep | None:
        return self.steps[self.position] if self.position < len(self.steps) else None

    def applied(self) -> list[HistoryStep]:
        """Applied steps, oldest first (a copy, for display)."""
        return list(self.steps[: self.position])

    def find(self, step_id: Any) -> HistoryStep | None:
        return next((s for s in self.steps if s.id == step_id), None)

    # -- changing --------------------------------------------------------------------------
    def add(
        self, step_id: int, label: str, group: str | None, changes: list[CaptionChange]
    ) -> None:
        """A new change: it drops the redo branch, and merges into the top step of its group."""
        del self.steps[self.position :]
        top = self.steps[-1] if self.steps else None
        if group is not None and top is not None and top.group == group:
            top.changes.extend(changes)
        else:
            self.steps.append(HistoryStep(step_id, label, group, list(changes)))
            self.position = len(self.steps)
        self.next_id = max(self.next_id, step_id + 1)

    def replay(self, record: dict[str, Any]) -> bool:
        """Apply one journal record; False if it is not usable (a stray or damaged record)."""
        op, step_id = record.get("op"), record.get("id")
        if not isinstance(step_id, int):
            return False
        if op == "change":
            changes = [
                CaptionChange(str(c["path"]), c.get("old"), c.get("new"))
                for c in record.get("changes") or ()
                if isinstance(c, dict) and "path" in c
            ]
            group = record.get("group")
            self.add(
                step_id,
                str(record.get("label") or "Edit caption"),
                group if isinstance(group, str) else None,
                changes,
            )
            return True
        if op == "undo" and self.position > 0 and self.steps[self.position - 1].id == step_id:
            self.position -= 1
            return True
        if (
            op == "redo"
            and self.position < len(self.steps)
            and self.steps[self.position].id == step_id
        ):
            self.position += 1
            return True
        return False

    # -- compaction ------------------------------------------------------------------------
    def compacted(self, max_steps: int, budget_bytes: int | None) -> tuple[int, list[str]]:
        """The first step to keep and the journal lines that hold the history from there on:
        at most `max_steps` applied steps, and no more than `budget_bytes` of them (the last
        step always stays; None: no size limit), then the redo branch as undone steps."""
        start = max(0, self.position - max_steps)
        budget = budget_bytes
        for index in range(self.position - 1, start - 1, -1):
            if budget is None:
                break
            budget -= sum(
                len(c.path) + len(c.old or "") + len(c.new or "") + 40
                for c in self.steps[index].changes
            )
            if budget < 0 and index < self.position - 1:  # always keep the last step
                start = index + 1
                break
        lines: list[str] = []
        for step in self.steps[start:]:
            record = {
                "op": "change",
                "id": step.id,
                "label": step.label,
                "group": step.group,
                "changes": [{"path": c.path, "old": c.old, "new": c.new} for c in step.changes],
            }
            lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
            lines.append(json.dumps({"op": "done", "id": step.id}))
        for step in reversed(self.steps[self.position :]):
            lines.append(json.dumps({"op": "undo", "id": step.id}))
            lines.append(json.dumps({"op": "done", "id": step.id}))
        return start, lines

    def drop_before(self, start: int) -> None:
        """Forget the steps before `start` (after the journal was rewritten without them)."""
        self.steps = self.steps[start:]
        self.position -= start
