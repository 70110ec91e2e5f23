"""Test fake: just enough `torch` for the kohya backend's Python probe (version, no CUDA).

The fake trainer never imports it; `check()` does, through the probe, in the trainer's Python.
`torch.cuda` and `torch.backends` are sub-modules in the real package: plain namespaces here.
"""

from types import SimpleNamespace

__version__ = "2.9.1+fake"

cuda = SimpleNamespace(is_available=lambda: False)
backends = SimpleNamespace(mps=None)
