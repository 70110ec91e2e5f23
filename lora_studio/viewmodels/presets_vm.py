"""View-model: the Presets page — pick a preset, edit every parameter with live validation and a
live estimate (steps, VRAM with a verdict, duration), save user presets, import and export them.

Values travel as text, exactly like `--set key=value` on the command line, and go through the same
`apply_overrides`, so the form and the CLI accept and refuse the same things with the same words.
Preset files are read and written in the executor.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

from lora_studio.core.config.estimates import estimate_training, format_estimate
from lora_studio.core.config.issues import InvalidConfigError
from lora_studio.core.config.overrides import apply_overrides
from lora_studio.core.config.presets import (
    Preset,
    check_name,
    delete_user_preset,
    export_preset_file,
    import_preset_file,
    load_presets,
    save_user_preset,
)
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.errors import LoraStudioError
from lora_studio.viewmodels.issue_text import field_label, marked_issue_text, refused_text
from lora_studio.viewmodels.observable import Observable

log = logging.getLogger(__name__)
T = TypeVar("T")

# Form sections, in the order an artist thinks about a training.
FIELD_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Model", ("base_model_family", "base_model", "output_name", "trigger_word")),
    ("Network", ("rank", "alpha")),
    (
        "Learning",
        (
            "learning_rate",
            "unet_lr",
            "text_encoder_lr",
            "optimizer",
            "lr_scheduler",
            "lr_warmup_steps",
        ),
    ),
    (
        "Length",
        (
            "epochs",
            "max_steps",
            "repeats",
            "batch_size",
            "gradient_accumulation",
            "save_every_n_epochs",
        ),
    ),
    (
        "Images",
        ("resolution", "bucketing", "min_bucket_reso", "max_bucket_reso", "bucket_reso_steps"),
    ),
    ("Captions", ("shuffle_caption", "keep_tokens")),
    ("Performance", ("mixed_precision", "gradient_checkpointing", "train_text_encoder", "seed")),
    ("Samples", ("sample_prompts",)),
)


@dataclass(frozen=True)
class FieldSpec:
    """How to edit one TrainingConfig field: 'choice' (combo), 'bool' (check box) or 'text'."""

    name: str
    label: str
    kind: str
    description: str
    choices: tuple[str, ...] = ()
    optional: bool = False


def _spec(name: str) -> FieldSpec:
    info = TrainingConfig.model_fields[name]
    annotation = info.annotation
    label = field_label(name)
    description = info.description or ""
    optional = info.default is None
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return FieldSpec(name, label, "choice", description, tuple(m.value for m in annotation))
    if annotation is bool:
        return FieldSpec(name, label, "bool", description)
    return FieldSpec(name, label, "text", description, optional=optional)


def field_specs() -> list[tuple[str, list[FieldSpec]]]:
    return [(title, [_spec(name) for name in names]) for title, names in FIELD_GROUPS]


def config_to_text(config: TrainingConfig) -> dict[str, str]:
    data = config.model_dump(mode="json")
    text: dict[str, str] = {}
    for name, value in data.items():
        if value is None:
            text[name] = ""
        elif isinstance(value, bool):
            text[name] = "true" if value else "false"
        elif isinstance(value, float):
            text[name] = f"{value:g}"
        elif isinstance(value, list):
            text[name] = " | ".join(str(item) for item in value)
        else:
            text[name] = str(value)
    return text


class PresetsViewModel(QObject):
    error_changed = Signal(str)
    busy_changed = Signal(bool)
    preset_names_changed = Signal(list)
    selected_preset_changed = Signal(str)
    values_changed = Signal(dict)
    field_errors_changed = Signal(dict)
    issues_text_changed = Signal(str)
    estimate_text_changed = Signal(str)
    is_builtin_changed = Signal(bool)
    dirty_changed = Signal(bool)
    description_changed = Signal(str)
    image_count_changed = Signal(int)
    gpu_vram_gb_changed = Signal(float)
    presets_loaded = Signal()
    saved = Signal(str)

    error = Observable("")
    busy = Observable(False)
    preset_names = Observable([])  # list of (name, title) pairs
    selected_preset = Observable("")
    values = Observable({})
    field_errors = Observable({})
    issues_text = Observable("")
    estimate_text = Observable("")
    is_builtin = Observable(True)
    dirty = Observable(False)
    description = Observable("")
    image_count = Observable(40)
    gpu_vram_gb = Observable(12.0)

    def __init__(self, config_dir: Path, executor: Executor, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._config_dir = config_dir
        self._executor = executor
        self._presets: dict[str, Preset] = {}
        self._config = TrainingConfig()
        self._pending: dict[str, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.specs = field_specs()

    @property
    def config(self) -> TrainingConfig:
        """The configuration as edited, with every accepted change applied."""
        return self._config

    # -- loading and choosing ------------------------------------------------------------------

    def load(self) -> None:
        self._run_io(lambda: load_presets(self._config_dir), self._handle_loaded)

    def _handle_loaded(self, result: Any) -> None:
        self._presets = {preset.name: preset for preset in result.presets}
        self.preset_names = [(p.name, p.title) for p in result.presets]
        if result.problems:
            self.error = " ".join(problem.user_message for problem in result.problems)
        if self._presets:
            # Re-select so built-in/user state and values match what is now on disk.
            current = self.selected_preset
            self.select(current if current in self._presets else next(iter(self._presets)))
        self.presets_loaded.emit()

    def select(self, name: str) -> None:
        preset = self._presets.get(name)
        if preset is None:
            self.error = f"There is no preset called '{name}'."
            return
        self.selected_preset = name
        self.is_builtin = preset.builtin
        self.description = preset.description
        self._config = preset.config.model_copy(deep=True)
        self._pending = {}
        self.field_errors = {}
        self.values = config_to_text(self._config)
        self.dirty = False
        self._recompute()

    # -- editing ---------------------------------------------------------------------------------

    def set_field(self, name: str, text: str) -> None:
        if self.values.get(name) == text and name not in self._pending:
            return
        self._pending[name] = text
        try:
            # Re-apply every pending text so fixing one field does not lose the others.
            self._config = apply_overrides(self._config, self._pending)
        except InvalidConfigError as exc:
            self.field_errors = {issue.field: issue.message for issue in exc.issues}
        else:
            self._pending = {}
            self.field_errors = {}
        values = dict(self.values)
        values[name] = text
        self.values = values
        self.dirty = True
        self._recompute()

    def set_image_count(self, count: int) -> None:
        self.image_count = max(1, count)
        self._recompute()

    def set_gpu_vram_gb(self, gigabytes: float) -> None:
        self.gpu_vram_gb = max(1.0, gigabytes)
        self._recompute()

    def _recompute(self) -> None:
        # Pure arithmetic on one config: microseconds, fine on the GUI thread.
        estimate = estimate_training(
            self._config, self.image_count, backend=None, gpu_vram_gb=self.gpu_vram_gb
        )
        length = estimate.length
        lines = [
            f"{length.total_steps:,} steps",
            f"VRAM {format_estimate(estimate.vram)}",
            f"Time {format_estimate(estimate.duration)} on a {self.gpu_vram_gb:g} GB GPU",
        ]
        if estimate.verdict is not None:
            lines.append(estimate.verdict.message)
        self.estimate_text = "\n".join(lines)
        # A refused value (a learning rate of "abc") is a problem too: it leads the list, so the
        # Checks never say "No problems found" beside a red field.
        refused = refused_text(self.field_errors)
        self.issues_text = "\n".join(
            refused + [marked_issue_text(issue) for issue in estimate.issues]
        )

    # -- saving, importing, exporting ------------------------------------------------------------

    def save_as(self, name: str, title: str = "", description: str = "") -> None:
        if self.field_errors:
            self.error = "Fix the fields marked in red before saving: " + ", ".join(
                self.field_errors
            )
            return
        try:
            # The title keeps the artist's spelling; the name is the file/CLI form ("My ink" → my_ink).
            preset = Preset(
                name=check_name(name),
                title=title.strip() or name.strip(),
                description=description or self.description,
                config=self._config,
            )
        except LoraStudioError as exc:
            self.error = exc.user_message
            return
        self._run_io(
            lambda: save_user_preset(preset, self._config_dir),
            lambda _: self._after_save(preset.name),
        )

    def _after_save(self, name: str) -> None:
        self.saved.emit(name)
        self.selected_preset = name
        self.load()

    def delete_selected(self) -> None:
        name = self.selected_preset
        self._run_io(
            lambda: delete_user_preset(name, self._config_dir), lambda _: self._after_delete()
        )

    def _after_delete(self) -> None:
        self.selected_preset = ""
        self.load()

    def import_file(self, path: str) -> None:
        self._run_io(
            lambda: import_preset_file(Path(path), self._config_dir),
            lambda preset: self._after_save(preset.name),
        )

    def export_selected(self, path: str) -> None:
        preset = Preset(
            name=self.selected_preset or "preset",
            title=self.selected_preset or "preset",
            description=self.description,
            config=self._config,
        )
        self._run_io(
            lambda: export_preset_file(preset, Path(path), self._config_dir),
            lambda target: self.saved.emit(str(target)),
        )

    # -- plumbing ----------------------------------------------------------------------------------

    def _run_io(self, work: Callable[[], T], done: Callable[[T], None]) -> None:
        self.error = ""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # No asyncio loop (self-test, scripts): do it now; preset files are small.
            try:
                done(work())
            except LoraStudioError as exc:
                self.error = exc.user_message
            return
        self.busy = True
        task = loop.create_task(self._run_in_executor(work, done))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_in_executor(self, work: Callable[[], T], done: Callable[[T], None]) -> None:
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self._executor, work)
        except LoraStudioError as exc:
            self.error = exc.user_message
            return
        finally:
            self.busy = False
        done(result)
