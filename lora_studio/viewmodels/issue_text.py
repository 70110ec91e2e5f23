"""How a configuration issue reads in the window: under the setting's label as the form shows it
("Base model: …"), not its config name ("base_model: …"); an issue about the whole training
(the backend, the dataset) is its sentence alone. The command line keeps `str(issue)`."""

from __future__ import annotations

from lora_studio.core.config.issues import Issue

# The labels the Parameters step and the Presets page show; other fields read as their names.
FIELD_LABELS = {
    "unet_lr": "UNet learning rate",
    "text_encoder_lr": "Text encoder learning rate",
    "lr_scheduler": "LR scheduler",
    "lr_warmup_steps": "Warm-up steps",
    "min_bucket_reso": "Min bucket side",
    "max_bucket_reso": "Max bucket side",
    "bucket_reso_steps": "Bucket step",
    "save_every_n_epochs": "Save every N epochs",
    "base_model_family": "Model family",
    "max_steps": "Max steps",
    "base_model": "Base model",
    "output_name": "Output name",
    "sample_prompts": "Sample prompts",
}
_WHOLE_TRAINING = frozenset({"backend", "dataset", "config"})


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name) or name.replace("_", " ").capitalize()


def issue_text(issue: Issue) -> str:
    if issue.field in _WHOLE_TRAINING:
        return issue.message
    return f"{field_label(issue.field)}: {issue.message}"


def marked_issue_text(issue: Issue) -> str:
    """With the mark of its severity, for lists that mix errors and warnings."""
    return ("✖ " if issue.is_error else "⚠ ") + issue_text(issue)


def refused_text(field_errors: dict[str, str]) -> list[str]:
    """A form's refused values ({field: why}) as the error lines that lead its Checks."""
    return [marked_issue_text(Issue(name, "error", why)) for name, why in field_errors.items()]
