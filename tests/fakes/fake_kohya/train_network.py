"""Test fake of kohya sd-scripts' `train_network.py`: replays a real recording.

Run by the backend exactly like the real script (`python train_network.py --flags…`, cwd = this
folder). It replays `tests/fixtures/kohya-sd-scripts/<run>/events.jsonl` — both streams, the real
chunking, `\\r` bar updates and log lines glued to them — with the recorded paths rewritten to the
`--output_dir`/`--output_name` it was given, writes a real-layout LoRA file whenever the recording
says `saving checkpoint:` (header from the real file's dump; alpha/dim/seed/precision/optimizer
from the arguments, as kohya does), and exits with the recorded status. It checks the dataset
TOML like kohya: no image with a caption → the real "No data found" run (exit 0!).

Environment: FAKE_KOHYA_RUN (default A_rich), FAKE_KOHYA_TIME_SCALE (default 0.02),
FAKE_KOHYA_FAULT = nan | killed | missing_output | hang, FAKE_KOHYA_ARGV (write argv as JSON).
SIGINT/SIGTERM keep their default meaning (KeyboardInterrupt / termination), as in Python.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from tests.fakes.lora_from_header_dump import build_from_header_dump  # noqa: E402
from tests.fakes.recordings import KOHYA_FIXTURES  # noqa: E402

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}


def flag(argv: list[str], name: str, default: str | None = None) -> str | None:
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return default


def dataset_has_data(toml_path: str | None) -> bool:
    if not toml_path:
        return False
    data = tomllib.loads(Path(toml_path).read_text(encoding="utf-8"))
    for dataset in data.get("datasets", []):
        for subset in dataset.get("subsets", []):
            folder = Path(subset["image_dir"])
            for image in folder.iterdir():
                if image.suffix.lower() in IMAGE_SUFFIXES and image.with_suffix(".txt").exists():
                    return True
    return False


def write_lora(path: Path, argv: list[str], step: int | None) -> None:
    dump = json.loads(
        (KOHYA_FIXTURES / "A_rich" / "lstok_test.safetensors.header.json").read_text()
    )
    dim = int(flag(argv, "--network_dim", "4") or 4)
    alpha = flag(argv, "--network_alpha", "1") or "1"
    metadata = dict(dump["__metadata__"])
    metadata.update(
        ss_network_dim=str(dim),
        ss_network_alpha=str(float(alpha)),
        ss_output_name=flag(argv, "--output_name", "last") or "last",
        ss_seed=flag(argv, "--seed", "0") or "0",
        ss_mixed_precision=flag(argv, "--mixed_precision", "no") or "no",
        ss_optimizer=f"torch.optim.adamw.{flag(argv, '--optimizer_type', 'AdamW')}",
        ss_learning_rate=flag(argv, "--learning_rate", "") or "",
        ss_training_comment=flag(argv, "--training_comment", "") or "",
    )
    if step is not None:
        metadata["ss_steps"] = str(step)
    tensors = {}
    for name, spec in dump["tensors"].items():
        shape = list(spec["shape"])
        if name.endswith("lora_down.weight"):
            shape[0] = dim
        elif name.endswith("lora_up.weight"):
            shape[1] = dim
        tensors[name] = {**spec, "shape": shape}
    path.parent.mkdir(parents=True, exist_ok=True)
    build_from_header_dump({"__metadata__": metadata, "tensors": tensors}, path)


def write_samples(folder: Path, name: str, step: int, prompts: list[str]) -> None:
    """kohya's sample images: `<name>_<step:06d>_<idx:02d>_<YYYYmmddHHMMSS>_<seed>.png`."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d%H%M%S")
    for index, prompt in enumerate(p for p in prompts if p.strip()):
        seed = re.search(r"--d (\d+)", prompt)
        suffix = f"_{seed.group(1)}" if seed else ""
        path = folder / f"{name}_{step:06d}_{index:02d}_{stamp}{suffix}.png"
        Image.new("RGB", (64, 64), (step * 20 % 255, 80, 160)).save(path)


def main() -> int:
    argv = sys.argv[1:]
    if os.environ.get("FAKE_KOHYA_ARGV"):
        Path(os.environ["FAKE_KOHYA_ARGV"]).write_text(json.dumps([Path(sys.argv[0]).name, *argv]))
    model = flag(argv, "--pretrained_model_name_or_path", "") or ""
    if model.endswith(".safetensors") and not os.path.isfile(model):
        # As sd-scripts fails when loading the checkpoint, relative to its own folder (the cwd).
        sys.stderr.write(
            "Traceback (most recent call last):\n"
            f'FileNotFoundError: No such file or directory: "{model}"\n'
        )
        return 1
    run = os.environ.get("FAKE_KOHYA_RUN", "A_rich")
    prompts_file = flag(argv, "--sample_prompts")
    if run == "A_rich" and prompts_file:
        run = "N_samples"  # the real run with --sample_prompts
    if run in ("A_rich", "N_samples") and not dataset_has_data(flag(argv, "--dataset_config")):
        run = "D_fail_norepeat"
    scale = float(os.environ.get("FAKE_KOHYA_TIME_SCALE", "0.02"))
    fault = os.environ.get("FAKE_KOHYA_FAULT", "")
    out_dir = flag(argv, "--output_dir", "/tmp") or "/tmp"
    name = flag(argv, "--output_name", "last") or "last"
    folder = KOHYA_FIXTURES / run
    recorded = json.loads((folder / "run.json").read_text())
    start = time.monotonic()
    streams = {"stdout": sys.stdout, "stderr": sys.stderr}
    prompts = Path(prompts_file).read_text().splitlines() if prompts_file else []
    if prompts and "--sample_at_first" in argv:
        write_samples(Path(out_dir) / "sample", name, 0, prompts)
    for line in (folder / "events.jsonl").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event["stream"] not in streams:
            continue
        delay = event["t"] * scale - (time.monotonic() - start)
        if delay > 0:
            time.sleep(delay)
        text = event["text"].replace("/data/output", out_dir).replace("lstok_test", name)
        if fault in ("nan", "killed", "hang"):
            reached = [int(n) for n in re.findall(r"steps:\s+\d+%\|[^|]*\|\s*(\d+)/", text)]
            if fault == "killed" and any(n >= 4 for n in reached):
                os.kill(os.getpid(), signal.SIGKILL)
            if fault == "hang" and any(n >= 4 for n in reached):
                streams["stderr"].write(text)
                streams["stderr"].flush()
                time.sleep(60)  # long enough to be stopped; never an orphan forever
                return 1
            if fault == "nan" and any(n >= 3 for n in reached):
                text = re.sub(r"avr_loss=[0-9.]+", "avr_loss=nan", text)
        for match in re.finditer(r"サンプル画像生成 ステップ: (\d+)", text):
            write_samples(Path(out_dir) / "sample", name, int(match.group(1)), prompts)
        for match in re.finditer(r"saving checkpoint: (\S+\.safetensors)", text):
            target = Path(match.group(1))
            final = target.name == f"{name}.safetensors"
            if not (final and fault == "missing_output"):
                step = re.search(r"-step(\d{8})", target.name)
                write_lora(target, argv, int(step.group(1)) if step else None)
        streams[event["stream"]].write(text)
        streams[event["stream"]].flush()
    code = int(recorded["returncode"])
    if code < 0:
        os.kill(os.getpid(), -code)
        time.sleep(5)
    return code


if __name__ == "__main__":
    sys.exit(main())
