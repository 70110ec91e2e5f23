"""View-model: the Train wizard's first two steps — the dataset folder and its captions check.

Both come from one read of the folder, done in the executor: `load_training_dataset` (counts,
folders and repeats, and the pictures left out because they do not decode — known verdicts are
reused, the rest decoded with progress shown in `progress_text`) and the doctor's
`quick_findings` plus those decode failures, summarised for the captions step. A new read
cancels the one still running. The settings of the preset chosen so far (resolution,
trigger word, batch size, repeats) are used; the review step re-reads the dataset with the final
settings, so nothing here has to be redone when they change.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.dataset import DoctorOptions, Finding, Fix, Severity, quick_findings
from lora_studio.core.dataset.buckets import BucketSettings
from lora_studio.core.dataset.concurrency import CancelToken, ProgressCallback
from lora_studio.core.errors import CancelledByUserError, LoraStudioError
from lora_studio.core.training.dataset_input import TrainingDataset, load_training_dataset
from lora_studio.viewmodels.background import throttled_progress
from lora_studio.viewmodels.observable import Observable
from lora_studio.viewmodels.train.background import BackgroundWork
from lora_studio.viewmodels.train.summaries import (
    EMPTY_SUMMARY,
    FindingsSummary,
    caption_callout,
    describe_folders,
    describe_skipped,
    summarise_findings,
)

log = logging.getLogger(__name__)


PROGRESS_INTERVAL_S = 0.1


def inspect_dataset(
    folder: Path,
    config: TrainingConfig,
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[TrainingDataset, list[Finding]]:
    """Executor work: the training view of `folder` plus the doctor's quick findings and the
    pictures that do not decode (the same findings the doctor's full check gives)."""
    dataset = load_training_dataset(folder, config, cancel=cancel, progress=progress)
    # The buckets the trainer will use (the preset's min/max side and step), so a finding
    # about cropping describes this training, not a default.
    options = DoctorOptions(
        resolution=config.resolution,
        trigger=config.trigger_word or None,
        batch_size=config.batch_size,
        buckets=BucketSettings(
            resolution=config.resolution,
            min_reso=min(config.min_bucket_reso, config.resolution),
            max_reso=max(config.max_bucket_reso, config.resolution),
            step=config.bucket_reso_steps,
            enabled=config.bucketing,
        ),
    )
    undecodable = [
        Finding(failure.path, failure.kind, Severity.ERROR, failure.message, Fix.MOVE_TO_TRASH)
        for failure in dataset.decode_failures
    ]
    return dataset, quick_findings(dataset.scan, options) + undecodable


def checked_with(config: TrainingConfig) -> str:
    trigger = f" with the trigger word “{config.trigger_word}”" if config.trigger_word else ""
    return (
        f"Checked for training at {config.resolution} px{trigger}. The review step checks again "
        "with the settings you choose next."
    )


class DatasetStepViewModel(QObject):
    """State of the Dataset and Captions-check steps; `loaded` fires after every successful read."""

    error_changed = Signal(str)
    busy_changed = Signal(bool)
    folder_changed = Signal(str)
    image_count_changed = Signal(int)
    folders_text_changed = Signal(str)
    skipped_text_changed = Signal(str)
    progress_text_changed = Signal(str)
    findings_counts_changed = Signal(list)
    findings_examples_changed = Signal(list)
    caption_callout_changed = Signal(str)
    needs_acknowledgement_changed = Signal(bool)
    acknowledged_changed = Signal(bool)
    checked_with_changed = Signal(str)
    loaded = Signal()
    captions_page_requested = Signal(str)  # app: show this folder on the Captions page

    error = Observable("")
    busy = Observable(False)
    folder = Observable("")
    image_count = Observable(0)
    folders_text = Observable("")
    skipped_text = Observable("")
    progress_text = Observable("")  # while busy: what the read is doing, with counts
    findings_counts = Observable([])  # (label, severity, count), worst first
    findings_examples = Observable([])  # the first few doctor messages
    caption_callout = Observable("")
    needs_acknowledgement = Observable(False)
    acknowledged = Observable(False)
    checked_with = Observable("")  # the settings the check assumed, in a sentence

    def __init__(
        self,
        executor: Executor,
        current_config: Callable[[], TrainingConfig],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._work = BackgroundWork(executor)
        self._current_config = current_config
        self._dataset: TrainingDataset | None = None
        self._summary: FindingsSummary = EMPTY_SUMMARY
        # Bumped by every read, so an older read that finishes late cannot overwrite a newer one.
        self._generation = 0
        self._cancel: CancelToken | None = None  # the running read's decode check

    # -- state other steps read ----------------------------------------------------------------

    @property
    def dataset(self) -> TrainingDataset | None:
        return self._dataset

    @property
    def summary(self) -> FindingsSummary:
        return self._summary

    @property
    def is_ready(self) -> bool:
        """The Dataset step is done: a folder with trainable images has been read."""
        return self._dataset is not None and not self.busy

    @property
    def captions_ok(self) -> bool:
        """The Captions step is done: no warnings, or the artist chose to continue anyway."""
        return self.is_ready and (not self.needs_acknowledgement or self.acknowledged)

    # -- intent --------------------------------------------------------------------------------

    def set_folder(self, path: str) -> None:
        path = path.strip()
        if not path:
            self.error = "Choose the folder that holds your training images."
            return
        self.folder = str(Path(path).expanduser())
        self._read()

    def recheck(self) -> None:
        """Read the same folder again, e.g. after captions were written on the Captions page."""
        if not self.folder:
            self.error = "Choose a dataset folder first."
            return
        self._read()

    def request_captions_page(self) -> None:
        """Fix captions now: the Captions page opens on this step's folder."""
        self.captions_page_requested.emit(self.folder)

    def set_acknowledged(self, acknowledged: bool) -> None:
        self.acknowledged = acknowledged

    def shutdown(self) -> None:
        self._generation += 1  # a late progress report from a worker is dropped
        if self._cancel is not None:
            self._cancel.cancel()
        self._work.cancel()

    # -- background ----------------------------------------------------------------------------

    def _read(self) -> None:
        self._generation += 1
        if self._cancel is not None:
            self._cancel.cancel()  # the older read stops decoding: its result is dropped anyway
        self._cancel = CancelToken()
        self.error = ""
        self._dataset = None  # Next stays off until the new read is in
        self.progress_text = "Reading the folder…"
        self.busy = True
        self._work.spawn(self._run_read(self._generation, Path(self.folder), self._cancel))

    def _progress_reporter(self, generation: int) -> ProgressCallback:
        """A thread-safe `progress(done, total)` for the decode check, at most 10 updates a
        second, shown on the GUI thread."""
        return throttled_progress(
            functools.partial(self._show_progress, generation), PROGRESS_INTERVAL_S
        )

    def _show_progress(self, generation: int, done: int, total: int) -> None:
        if generation == self._generation and self.busy:
            self.progress_text = f"Checking that the pictures decode… {done:,} of {total:,} (new or changed ones only)"

    async def _run_read(self, generation: int, folder: Path, cancel: CancelToken) -> None:
        config = self._current_config()
        try:
            dataset, findings = await self._work.blocking(
                inspect_dataset, folder, config, cancel, self._progress_reporter(generation)
            )
        except CancelledByUserError:
            return  # a newer read took over
        except LoraStudioError as exc:
            if generation == self._generation:
                self._show_failure(exc.user_message)
            return
        except OSError as exc:
            if generation == self._generation:
                self._show_failure(f"The folder {folder} cannot be read: {exc.strerror or exc}.")
            return
        if generation != self._generation:
            return
        self._dataset = dataset
        self._summary = summarise_findings(findings)
        self.image_count = dataset.image_count
        self.folders_text = describe_folders(dataset)
        self.skipped_text = describe_skipped(dataset)
        self.findings_counts = [list(row) for row in self._summary.counts]
        self.findings_examples = list(self._summary.examples)
        self.caption_callout = caption_callout(self._summary.missing_captions, dataset.image_count)
        self.checked_with = checked_with(config)
        self.acknowledged = False  # new findings need a new decision
        self.needs_acknowledgement = self._summary.needs_acknowledgement
        self.progress_text = ""
        self.busy = False
        self.loaded.emit()

    def _show_failure(self, message: str) -> None:
        self._summary = EMPTY_SUMMARY
        self.image_count = 0
        self.folders_text = ""
        self.skipped_text = ""
        self.findings_counts = []
        self.findings_examples = []
        self.caption_callout = ""
        self.needs_acknowledgement = False
        self.acknowledged = False
        self.error = message
        self.progress_text = ""
        self.busy = False
