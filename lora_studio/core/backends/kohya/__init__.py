"""Core/kohya: the backend that runs kohya-ss/sd-scripts as a local subprocess.

Modules: `entry` (settings + registry entry), `command` (dataset TOML and argument list per model
family), `probe` (what the trainer's Python can do), `process` (start, watch, stop the trainer in
its own process group), `parse` (its console output → events), `backend` (`KohyaBackend`).
"""
