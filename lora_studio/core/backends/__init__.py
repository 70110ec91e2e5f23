"""Core: training backends — the `TrainingBackend` protocol (`base`), shared HTTP rules (`http`),
safe local files (`files`), the settings → backend `registry`, and one subpackage per engine
(`comfyui`; Replicate and kohya follow). Pure Python, no Qt."""
