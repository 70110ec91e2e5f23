"""Core: configuration (pure Python, no Qt).

- `settings`: application settings.
- `training_config`: `TrainingConfig`, every training parameter with field-level validation.
- `validation`: cross-field rules → `Issue` errors and warnings (`issues` holds the type).
- `overrides`: `key=value` text (the CLI's `--set`) applied to a config.
- `presets` / `builtin_presets`: built-in and user presets, import/export.
- `training_length`: kohya-exact, bucket-aware step arithmetic.
- `estimates`: VRAM (with a fit verdict), duration and cost before submitting.
"""
