"""View-model: the dataset doctor — findings of the quick checks and of a full (decoding) check,
and applying their fixes.

Quick findings (headers, captions, buckets) arrive with every scan from the DatasetViewModel. A
full check decodes every picture (truncation, near-duplicates) with progress and cancel. Fixes
that rewrite or remove files are confirmed first through `fix_confirmation_requested`, which the
view answers with `confirm_fixes()` or `discard_fixes()`; the originals always land in one trash
batch, which `fixes_applied` hands to the DatasetViewModel for its undo stack and rescan.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Executor
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from lora_studio.core.plurals import plural
from lora_studio.viewmodels.dataset import core_adapter as core
from lora_studio.viewmodels.dataset.core_adapter import (
    CancelToken,
    DatasetScan,
    DoctorOptions,
    Finding,
    Fix,
    Severity,
)
from lora_studio.viewmodels.dataset.operation import OperationViewModel
from lora_studio.viewmodels.models.findings_model import FindingsModel, fix_label
from lora_studio.viewmodels.observable import Observable

FIXING = "Fixing"
# Fixes that only add text; everything else rewrites or removes a file and is confirmed first.
_ADDITIVE = {Fix.ADD_TRIGGER, Fix.CREATE_CAPTION}
# Findings that already say a picture cannot be decoded (from its header or a full check).
_DECODE_KINDS = frozenset(
    {
        core.Kind.TRUNCATED,
        core.Kind.DAMAGED,
        core.Kind.UNREADABLE,
        core.Kind.NOT_AN_IMAGE,
        core.Kind.EMPTY_FILE,
        core.Kind.DECOMPRESSION_BOMB,
    }
)


def summarize(findings: Sequence[Finding]) -> str:
    if not findings:
        return "No problems found."
    # Counted without building an enum member per finding: this runs on the GUI thread for every
    # finding of a 5,000-picture open, where that cost ~10 ms.
    by_value = Counter(finding.severity for finding in findings)  # StrEnum: a member == value
    counts = {severity: by_value.get(severity, 0) for severity in Severity}
    files = len({finding.path for finding in findings})
    parts = []
    for severity, word in ((Severity.ERROR, "error"), (Severity.WARNING, "warning")):
        if counts[severity]:
            parts.append(f"{counts[severity]} {word}{'s' if counts[severity] != 1 else ''}")
    if counts[Severity.INFO]:
        parts.append(f"{counts[Severity.INFO]} note{'s' if counts[Severity.INFO] != 1 else ''}")
    return f"{', '.join(parts)} in {files} file{'s' if files != 1 else ''}."


class DoctorViewModel(OperationViewModel):
    """Findings of one dataset and the fixes the artist applies to them."""

    summary_changed = Signal(str)
    full_check_done_changed = Signal(bool)
    findings_changed = Signal()
    pixel_findings_changed = Signal()  # a full check finished: badges may change
    fix_confirmation_requested = Signal(str)
    fixes_applied = Signal(object)  # core FixReport
    blocked_reason_changed = Signal(str)

    summary = Observable("Open a dataset folder to check it.")
    full_check_done = Observable(False)
    # Set by the DatasetViewModel while its own operation (open, import, delete…) changes the
    # dataset: checks and fixes wait for it, and this sentence says why.
    blocked_reason = Observable("")

    def __init__(self, executor: Executor | None, parent: QObject | None = None) -> None:
        super().__init__(executor, parent)
        self.findings_model = FindingsModel(self)
        self._root: Path | None = None
        self._scan: DatasetScan | None = None
        self._options = core.doctor_options(1024)
        self._quick: list[Finding] = []
        self._pixel: list[Finding] = []  # from the last full check: decoding and near-duplicates
        self._pending: list[Finding] = []
        # Full-check findings as they were before a fix or delete, per trash batch: Undo brings
        # the files back, and with them what the (slow) full check said about them.
        self._before_batch: dict[str, list[Finding]] = {}
        self.background: tuple[int, int, int] = (255, 255, 255)

    # -- state -------------------------------------------------------------------------------------
    @property
    def findings(self) -> list[Finding]:
        return self.findings_model.findings()

    @property
    def pixel_findings(self) -> list[Finding]:
        return list(self._pixel)

    @property
    def pending_fixes(self) -> list[Finding]:
        return list(self._pending)

    def set_dataset(
        self,
        root: Path | None,
        scan: DatasetScan | None,
        quick: Sequence[Finding],
        options: DoctorOptions,
    ) -> None:
        """A (re)scan: show its quick findings, keep full-check ones for files still there."""
        if root != self._root:
            self._pixel = []
            self.full_check_done = False
        self._root, self._scan, self._options = root, scan, options
        self._quick = list(quick)
        if scan is not None:
            self._pixel = core.surviving_findings(self._pixel, scan)
        self._publish()

    def forget_paths(self, paths: Sequence[Path], batch_id: str | None = None) -> None:
        """Pictures left the dataset (deleted into trash batch `batch_id`): drop their findings,
        and a near-duplicate finding whose every copy is gone."""
        gone = set(paths)
        if batch_id is not None:
            self._before_batch[batch_id] = list(self._pixel)
        self._quick = [f for f in self._quick if f.path not in gone]
        self._pixel = [
            f
            for f in self._pixel
            if f.path not in gone and (not f.related or any(p not in gone for p in f.related))
        ]
        self._publish()

    def note_decode_failure(self, path: Path, message: str) -> None:
        """A picture whose header read fine failed to decode (for its thumbnail): it is damaged,
        and the doctor says so at once — the same finding a full check would give."""
        if any(f.path == path and f.kind in _DECODE_KINDS for f in (*self._quick, *self._pixel)):
            return
        kind = core.Kind.TRUNCATED if "truncated" in message.lower() else core.Kind.DAMAGED
        self._pixel.append(Finding(path, kind, Severity.ERROR, message, Fix.MOVE_TO_TRASH))
        self._publish()

    def restore_findings(self, batch_id: str) -> None:
        """Undo of trash batch `batch_id`: its files return, so do their full-check findings.
        The rescan that follows (`set_dataset`) keeps those whose files are really back."""
        before = self._before_batch.pop(batch_id, None)
        if before:
            self._pixel = list(dict.fromkeys([*self._pixel, *before]))

    def _publish(self) -> None:
        if self._pixel:
            merged = core.sort_findings(list(dict.fromkeys([*self._quick, *self._pixel])))
        else:
            merged = self._quick  # quick findings arrive sorted; 10,000 need no second sort
        self.findings_model.set_findings(merged, self._root)
        self.summary = summarize(merged) if self._root is not None else self.summary
        self.findings_changed.emit()

    # -- full check --------------------------------------------------------------------------------
    def run(self) -> bool:
        """Decode every picture: truncated files and near-duplicates. Cancellable."""
        if self._scan is None:
            self.error = "Open a dataset folder first; the doctor checks the open dataset."
            return False
        if self.blocked_reason:
            self.error = self.blocked_reason
            return False
        scan, options = self._scan, self._options
        return self._start(
            "Checking every picture", lambda token: self._run_full(scan, options, token)
        )

    async def _run_full(
        self, scan: DatasetScan, options: DoctorOptions, token: CancelToken
    ) -> None:
        progress = self._progress_reporter("Checked")
        report = await self._in_executor(
            core.full_check, scan, options, cancel=token, progress=progress
        )
        if scan is not self._scan:
            return  # the folder changed meanwhile; its own findings are already shown
        quick = set(self._quick)
        self._pixel = [finding for finding in report.findings if finding not in quick]
        self.full_check_done = not report.cancelled
        self._publish()
        self.pixel_findings_changed.emit()
        if report.cancelled:
            self.summary = f"Check cancelled — {self.summary[0].lower()}{self.summary[1:]}"

    # -- fixes -------------------------------------------------------------------------------------
    def fix_rows(self, rows: Sequence[int]) -> bool:
        """Fix the findings at these rows of `findings_model` (those that have a fix)."""
        findings = [self.findings_model.finding_at(r) for r in sorted(set(rows))]
        return self.request_fixes([f for f in findings if f.fix is not None])

    def fix_similar(self, row: int) -> bool:
        """Fix every finding of the same kind (and fix) as the one at `row`."""
        chosen = self.findings_model.finding_at(row)
        if chosen.fix is None:
            self.error = "This problem has no automatic fix; the message says what to do."
            return False
        similar = [f for f in self.findings if f.kind == chosen.kind and f.fix == chosen.fix]
        return self.request_fixes(similar)

    def request_fixes(self, findings: Sequence[Finding]) -> bool:
        findings = [f for f in findings if f.fix is not None]
        if not findings:
            self.error = "Select a problem that has a fix (the Fix column says which)."
            return False
        if self._root is None:
            self.error = "Open a dataset folder first."
            return False
        if self.blocked_reason:
            self.error = self.blocked_reason
            return False
        if all(Fix(f.fix) in _ADDITIVE for f in findings):  # type: ignore[arg-type]
            return self._start_fixes(findings)
        self._pending = list(findings)
        self.fix_confirmation_requested.emit(self._confirmation_text(self._pending))
        return True

    def confirm_fixes(self) -> bool:
        findings, self._pending = self._pending, []
        return self._start_fixes(findings) if findings else False

    def discard_fixes(self) -> None:
        self._pending = []

    def _confirmation_text(self, findings: Sequence[Finding]) -> str:
        counts: dict[str, int] = {}
        for finding in findings:
            label = fix_label(finding.fix)
            counts[label] = counts.get(label, 0) + 1
        actions = "; ".join(f"{label}: {plural(count, 'file')}" for label, count in counts.items())
        kept = self._keepers(findings)
        stays = ""
        if kept:
            names = ", ".join(kept[:6]) + (" …" if len(kept) > 6 else "")
            stays = f"\n\nOne picture of each near-duplicate group stays: {names}."
        return (
            f"{actions}.{stays}\n\nThe originals are kept in the project trash; Undo (Ctrl+Z) "
            "on the Dataset page puts them back."
        )

    def _keepers(self, findings: Sequence[Finding]) -> list[str]:
        """Names of the near-duplicates that stay (their finding has no fix) for these groups."""
        groups = {f.group for f in findings if f.kind == core.Kind.NEAR_DUPLICATE and f.group}
        return [
            f.path.name
            for f in self.findings
            if f.kind == core.Kind.NEAR_DUPLICATE and f.group in groups and f.fix is None
        ]

    @property
    def fixing(self) -> bool:
        """Fixes are rewriting or trashing files of the dataset right now."""
        return self.label == FIXING

    def _start_fixes(self, findings: list[Finding]) -> bool:
        root = self._root
        if root is None:
            return False
        if self.blocked_reason:
            self.error = self.blocked_reason
            return False
        return self._start(FIXING, lambda token: self._run_fixes(root, findings, token))

    async def _run_fixes(self, root: Path, findings: list[Finding], token: CancelToken) -> None:
        progress = self._progress_reporter("Fixed")
        report = await self._in_executor(
            core.fix_findings,
            root,
            findings,
            trigger=self._options.trigger,
            background=self.background,
            cancel=token,
            progress=progress,
        )
        failures = [result.message for result in report.results if not result.ok]
        if failures:
            more = f" (and {len(failures) - 3} more)" if len(failures) > 3 else ""
            self.error = " ".join(failures[:3]) + more
        fixed = {(result.path, result.fix) for result in report.results if result.ok}
        if report.trash_batch is not None:
            self._before_batch[report.trash_batch] = list(self._pixel)
        self._pixel = [f for f in self._pixel if (f.path, f.fix) not in fixed]
        self.fixes_applied.emit(report)
