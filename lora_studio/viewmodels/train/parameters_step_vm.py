"""View-model: the Train wizard's preset-and-parameters step.

The artist picks a preset and changes a few key settings. Values travel as text through the same
`apply_overrides` as `--set key=value` on the command line, one field at a time, so a refused
value marks only its own field while the others still apply. Settings that belong to this training
rather than to the preset (base model, trigger word, output name) survive a change of preset.
Presets are read in the executor; the small estimate shown here is pure arithmetic.
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from lora_studio.core.config.estimates import estimate_training, format_estimate
from lora_studio.core.config.issues import InvalidConfigError, Issue
from lora_studio.core.config.overrides import apply_overrides, fit_buckets_to_resolution
from lora_studio.core.config.presets import Preset, PresetLoadResult, load_presets
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.config.training_length import DatasetShape
from lora_studio.core.errors import LoraStudioError
from lora_studio.core.jobs.naming import run_base
from lora_studio.viewmodels.issue_text import field_label, marked_issue_text, refused_text
from lora_studio.viewmodels.observable import Observable
from lora_studio.viewmodels.presets_vm import config_to_text
from lora_studio.viewmodels.train.background import BackgroundWork, has_running_loop

log = logging.getLogger(__name__)

KEY_FIELDS = (
    "base_model",
    "trigger_word",
    "output_name",
    "rank",
    "learning_rate",
    "epochs",
    "max_steps",
    "resolution",
    "sample_prompts",
)
# About this training, not the preset: kept when another preset is chosen.
TRAINING_FIELDS = frozenset({"base_model", "trigger_word", "output_name", "sample_prompts"})
_DEFAULT_PRESET = "sdxl"
_UNSAFE_NAME_CHARS = re.compile(r'[\\/:*?"<>|\x00-\x1f\s]+')


@dataclass(frozen=True)
class ParameterField:
    """One editable setting: config name, label, one-line explanation, whether empty is ok."""

    name: str
    label: str
    description: str
    optional: bool


def parameter_fields() -> list[ParameterField]:
    fields = []
    for name in KEY_FIELDS:
        info = TrainingConfig.model_fields[name]
        fields.append(
            ParameterField(name, field_label(name), info.description or "", info.default is None)
        )
    return fields


def output_name_for(folder: Path) -> str:
    """A LoRA file name from a dataset folder name ('My cat pics' → 'My_cat_pics')."""
    name = _UNSAFE_NAME_CHARS.sub("_", folder.name).strip("._")
    return name[:120] or "my_lora"


class ParametersStepViewModel(QObject):
    """The chosen preset, the key settings as text, their errors, and the resulting config."""

    error_changed = Signal(str)
    busy_changed = Signal(bool)
    preset_names_changed = Signal(list)
    selected_preset_changed = Signal(str)
    description_changed = Signal(str)
    values_changed = Signal(dict)
    field_errors_changed = Signal(dict)
    issues_text_changed = Signal(str)
    estimate_text_changed = Signal(str)
    checkpoints_changed = Signal(list)
    is_valid_changed = Signal(bool)

    error = Observable("")
    busy = Observable(False)
    preset_names = Observable([])  # (name, title) pairs
    selected_preset = Observable("")
    description = Observable("")
    values = Observable({})  # field → text, for KEY_FIELDS
    field_errors = Observable({})  # field → sentence
    issues_text = Observable("")
    estimate_text = Observable("")
    checkpoints = Observable([])  # what the backend offers, for the base-model combo
    is_valid = Observable(False)

    def __init__(self, config_dir: Path, executor: Executor, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name_folder: Path | None = None  # the dataset the output name follows
        self._config_dir = config_dir
        self._work = BackgroundWork(executor)
        self.fields = parameter_fields()
        self._presets: dict[str, Preset] = {}
        self._config = TrainingConfig()
        self._edits: dict[str, str] = {}  # what the artist typed, by field
        self._restored: dict[str, str] = {}  # a saved draft's edits, applied once presets load
        self._suggested: dict[str, str] = {}  # defaults from the dataset (output name)
        self._shape: DatasetShape | None = None
        self._has_errors = False

    @property
    def config(self) -> TrainingConfig:
        """The configuration with every accepted value applied."""
        return self._config

    @property
    def preset_title(self) -> str:
        preset = self._presets.get(self.selected_preset)
        return preset.title if preset else ""

    @property
    def loaded(self) -> bool:
        return bool(self._presets)

    # -- presets ---------------------------------------------------------------------------------

    def load(self) -> None:
        """Read the built-in and user presets (in the executor when the app's loop runs)."""
        if not has_running_loop():
            # The self-test and scripts have no loop; preset files are small.
            self._handle_loaded(load_presets(self._config_dir))
            return
        self.busy = True
        self._work.spawn(self._run_load())

    async def _run_load(self) -> None:
        try:
            result = await self._work.blocking(load_presets, self._config_dir)
        except LoraStudioError as exc:
            self.error = exc.user_message
            return
        finally:
            self.busy = False
        self._handle_loaded(result)

    def _handle_loaded(self, result: PresetLoadResult) -> None:
        self._presets = {preset.name: preset for preset in result.presets}
        self.preset_names = [(p.name, p.title) for p in result.presets]
        if result.problems:
            self.error = " ".join(problem.user_message for problem in result.problems)
        if not self._presets:
            return
        wanted = self.selected_preset or _DEFAULT_PRESET
        self.select_preset(wanted if wanted in self._presets else next(iter(self._presets)))
        self._apply_restored()

    def select_preset(self, name: str) -> None:
        if name not in self._presets:
            self.error = f"There is no preset called '{name}'."
            return
        self.selected_preset = name
        self.description = self._presets[name].description
        if self._name_folder is not None:
            self._suggested["output_name"] = run_base(self._name_folder, name)
        # The preset brings its own rank, rate, length and size; keep only this training's own.
        self._edits = {k: v for k, v in self._edits.items() if k in TRAINING_FIELDS}
        self._recompute()

    # -- editing -----------------------------------------------------------------------------------

    @property
    def edits(self) -> dict[str, str]:
        """What the artist typed, by field (for the wizard's saved draft)."""
        return dict(self._edits)

    def restore(self, preset: str, edits: dict[str, str]) -> None:
        """Bring back a saved draft: the preset is chosen when presets load, edits apply now."""
        if preset:
            self.selected_preset = preset
        self._restored = {name: text for name, text in edits.items() if name in KEY_FIELDS}
        if self._presets:
            self.select_preset(preset if preset in self._presets else next(iter(self._presets)))
            self._apply_restored()

    def _apply_restored(self) -> None:
        # After the preset is chosen: choosing one keeps only training-specific edits, but a
        # restored draft brings back everything the artist had typed.
        if self._restored:
            self._edits.update(self._restored)
            self._restored = {}
            self._recompute()

    def set_field(self, name: str, text: str) -> None:
        if name not in KEY_FIELDS:
            raise ValueError(f"{name} is not a field of the wizard")
        if self.values.get(name) == text and name not in self.field_errors:
            return
        self._edits[name] = text
        self._recompute()

    def suggest_output_name(self, folder: Path) -> None:
        """Name the LoRA `<dataset>_<preset>` unless the artist named it; the review adds the
        run number (core.jobs.naming: one rule with the CLI)."""
        self._name_folder = folder
        self._suggested["output_name"] = run_base(folder, self.selected_preset)
        if "output_name" not in self._edits:
            self._recompute()

    @property
    def output_name_is_automatic(self) -> bool:
        """The artist did not type an output name: the run gets `<dataset>_<preset>_<n>`."""
        return "output_name" not in self._edits

    def suggest_trigger_word(self, word: str) -> None:
        """The trigger word set on the Dataset page, unless the artist typed one here."""
        word = word.strip()
        if word:
            self._suggested["trigger_word"] = word
        else:
            self._suggested.pop("trigger_word", None)
        if "trigger_word" not in self._edits:
            self._recompute()

    def set_checkpoints(self, checkpoints: list[str]) -> None:
        """The backend's checkpoints: the base model is checked against them."""
        self.checkpoints = list(checkpoints)
        self._recompute()

    def set_dataset_shape(self, shape: DatasetShape | None) -> None:
        self._shape = shape
        self._recompute()

    def _recompute(self) -> None:
        preset = self._presets.get(self.selected_preset)
        config = preset.config if preset else TrainingConfig()
        errors: dict[str, str] = {}
        # One field at a time: a bad rank must not stop a good trigger word from applying.
        for name, text in {**self._suggested, **self._edits}.items():
            try:
                config = apply_overrides(config, {name: text})
            except InvalidConfigError as exc:
                if name in self._edits:
                    errors[name] = "; ".join(issue.message for issue in exc.issues)
        if "resolution" in self._edits and "resolution" not in errors:
            # The bucket bounds are not fields here: they follow the resolution typed.
            config = fit_buckets_to_resolution(config)
        if not config.base_model and "base_model" not in errors:
            errors["base_model"] = "Choose the checkpoint to train on."

        self._config = config
        texts = config_to_text(config)
        # A refused value stays in its field as typed, so the artist can correct it.
        self.values = {
            name: (self._edits.get(name, texts[name]) if name in errors else texts[name])
            for name in KEY_FIELDS
        }
        self.field_errors = errors
        issues = self._estimate(config)
        # A refused value (a learning rate of "abc", no checkpoint) leads the Checks, as on the
        # Presets page: they never say "No problems found" beside a field marked in red.
        refused = refused_text(errors)
        self.issues_text = "\n".join([*refused, self.issues_text] if self.issues_text else refused)
        if self.checkpoints and config.base_model and config.base_model not in self.checkpoints:
            # A warning, not a red field: the backend is chosen in the next step, and a cloud
            # trainer takes model ids this server's list does not hold. ComfyUI's own check
            # on the Backend step refuses a checkpoint it does not have.
            unknown = (
                f"⚠ The server checked last has no checkpoint “{config.base_model}”; choose one "
                f"of its {len(self.checkpoints)} from the list to train there."
            )
            self.issues_text = "\n".join(line for line in (unknown, self.issues_text) if line)
        self._has_errors = bool(errors) or any(issue.is_error for issue in issues)
        self.is_valid = bool(preset) and not self._has_errors

    def _estimate(self, config: TrainingConfig) -> list[Issue]:
        if self._shape is None or not self._shape.images:
            self.estimate_text = ""
            self.issues_text = ""
            return []
        # Pure arithmetic on one config: microseconds, fine on the GUI thread.
        estimate = estimate_training(config, self._shape)
        length = estimate.length
        how = (
            "limited by max steps"
            if length.limited_by_max_steps
            else f"{length.epochs} epochs × {length.steps_per_epoch:,} steps"
        )
        self.estimate_text = (
            f"{length.total_steps:,} steps ({how})\nVRAM {format_estimate(estimate.vram)}"
        )
        self.issues_text = "\n".join(marked_issue_text(issue) for issue in estimate.issues)
        return estimate.issues

    def shutdown(self) -> None:
        self._work.cancel()
