"""Core/Replicate: the backend for trainings in Replicate's cloud (HTTPS polling).

Modules: `entry` (registry entry and settings), `client` (HTTP routes), `problems` (error
wording), `diagnose` (the check), `dataset_zip` (the flat training zip), `upload` (zip + files
API), `inputs` (config → trainer inputs, what it ignores), `trainings` (create once, reconcile),
`state` (re-attach record), `follow` (polling),
`weights` (download and safe unpacking), `backend` (`ReplicateBackend`).
"""
