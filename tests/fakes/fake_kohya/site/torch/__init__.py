"""Test fake: just enough `torch` for the kohya backend's Python probe (version, no CUDA).

The fake trainer never imports it; `check()` does, through the probe, in the trainer's Python.
"""

__version__ = "2.9.1+fake"


class cuda:
    @staticmethod
    def is_available() -> bool:
        return False


class backends:
    mps = None
