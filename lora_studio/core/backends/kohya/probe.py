"""Core/kohya: what the trainer's Python can do — torch, CUDA and VRAM, bitsandbytes, accelerate.

The probe is a few lines run by *that* interpreter (sd-scripts has its own venv), printing one JSON
object; it imports nothing of LoRA Studio. Each gap becomes a sentence the artist can act on.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

PROBE = r"""
import importlib.util, json, sys
found = {"python": sys.version.split()[0]}
for name in ("accelerate", "bitsandbytes", "safetensors", "diffusers", "transformers"):
    found[name] = importlib.util.find_spec(name) is not None
try:
    import torch
    found["torch"] = torch.__version__
    found["cuda"] = bool(torch.cuda.is_available())
    if found["cuda"]:
        props = torch.cuda.get_device_properties(0)
        found["gpu"] = props.name
        found["vram_gb"] = round(props.total_memory / 1024**3, 1)
    found["mps"] = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
except Exception as exc:
    found["torch_error"] = type(exc).__name__ + ": " + str(exc)[:200]
print("LORASTUDIO_PROBE " + json.dumps(found))
"""


@dataclass(frozen=True)
class ProbeResult:
    ok: bool  # the interpreter ran and reported
    facts: dict[str, object]
    problem: str = ""  # one sentence when `ok` is False

    @property
    def torch(self) -> str | None:
        value = self.facts.get("torch")
        return str(value) if value else None

    @property
    def cuda(self) -> bool:
        return bool(self.facts.get("cuda"))

    def has(self, module: str) -> bool:
        return bool(self.facts.get(module))


def default_python(sd_scripts: Path) -> str:
    """sd-scripts' own venv when there is one, else python3 on PATH."""
    for venv in ("venv", ".venv"):
        for candidate in (
            sd_scripts / venv / "bin" / "python",
            sd_scripts / venv / "Scripts" / "python.exe",
        ):
            if candidate.exists():
                return str(candidate)
    return shutil.which("python3") or shutil.which("python") or "python3"


async def probe_python(
    python: str,
    cwd: Path,
    timeout: float = 120.0,  # noqa: ASYNC109 - at the deadline the probe is killed, a result returned
) -> ProbeResult:
    """Run the probe with `python`; never raises for an expected problem."""
    try:
        process = await asyncio.create_subprocess_exec(
            python,
            "-c",
            PROBE,
            cwd=str(cwd) if await asyncio.to_thread(cwd.is_dir) else None,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        return ProbeResult(
            False,
            {},
            f"The Python for kohya ({python}) cannot be started: {exc.strerror or exc}. Set the "
            "Python of your sd-scripts install in Settings → Backends (or --python).",
        )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        return ProbeResult(
            False, {}, f"{python} did not answer within {timeout:.0f} s while importing torch."
        )
    for line in out.decode("utf-8", "replace").splitlines():
        if line.startswith("LORASTUDIO_PROBE "):
            try:
                return ProbeResult(True, json.loads(line.split(" ", 1)[1]))
            except ValueError:
                break
    tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
    return ProbeResult(False, {}, f"{python} could not run a Python check ({tail[0][:200]}).")


def gaps(result: ProbeResult, *, eight_bit: bool) -> tuple[list[str], list[str]]:
    """(blocking problems, warnings) as sentences."""
    if not result.ok:
        return [result.problem], []
    errors: list[str] = []
    warnings: list[str] = []
    python = result.facts.get("python", "?")
    if not result.torch:
        detail = result.facts.get("torch_error") or "it is not installed"
        errors.append(
            f"PyTorch cannot be imported in the kohya Python (Python {python}: {detail}). Install "
            "sd-scripts' requirements into it (pip install -r requirements.txt plus torch)."
        )
        return errors, warnings
    for module in ("accelerate", "safetensors", "diffusers", "transformers"):
        if not result.has(module):
            errors.append(
                f"The kohya Python has no '{module}' package; install sd-scripts' "
                "requirements into it (pip install -r requirements.txt)."
            )
    if not result.cuda:
        warnings.append(
            "No CUDA GPU is visible to PyTorch in the kohya Python: training will run on the CPU "
            "and take many times longer."
        )
    if eight_bit and not result.has("bitsandbytes"):
        errors.append(
            "The chosen 8-bit optimizer needs the 'bitsandbytes' package, which the kohya Python "
            "does not have: pip install bitsandbytes, or pick AdamW."
        )
    return errors, warnings
