"""Build hook: the wheel carries `resources/` (icons) and `docs/` (the guide the Help menu opens).

Both folders sit at the top of the source tree, where `lora_studio/paths.py` finds them in a
checkout or an editable install. A built wheel has no source tree, so `build_py` copies them into
the package as `lora_studio/resources/` (docs under `resources/docs/`), the first place
`paths.resource_dir()` looks. Everything else is declared in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildPyWithResources(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the source tree itself
        target = Path(self.build_lib) / "lora_studio" / "resources"
        shutil.copytree(ROOT / "resources", target, dirs_exist_ok=True)
        shutil.copytree(ROOT / "docs", target / "docs", dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithResources})
