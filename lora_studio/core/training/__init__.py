"""Core: training orchestration shared by the CLI and the GUI — load a dataset for training,
run a job on a backend while recording every event, download and stamp the weights, re-attach
to unfinished jobs at start-up. No Qt."""
