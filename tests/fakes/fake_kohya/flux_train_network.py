"""Test fake: the SDXL/Flux trainer scripts behave like the fake train_network.py."""

import runpy
from pathlib import Path

runpy.run_path(str(Path(__file__).with_name("train_network.py")), run_name="__main__")
