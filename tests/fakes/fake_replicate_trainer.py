"""Test fake: what `ostris/flux-dev-lora-trainer` does on Replicate, for `fake_replicate`.

Written from docs/protocols.md §3.6–3.7: the log lines it prints before training (environment,
gradient-checkpointing notice, zip extraction, one captioner line per image, `Starting train
job`, ai-toolkit chatter, bars of other phases) and then the `flux_train_replicate:` tqdm bar with
an `lr: … loss: …` postfix; the output tar of `output/flux_train_replicate/` with a real
safetensors LoRA (diffusers/PEFT keys, alpha = rank, bf16) and the captions used.
"""

from __future__ import annotations

import io
import math
import random
import tarfile
import zipfile
from dataclasses import dataclass

from lora_studio.core.weights.header import TensorInfo
from lora_studio.core.weights.writer import encode_header

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".webp")
HIDDEN = 3072  # Flux's transformer width


@dataclass
class ExtractedDataset:
    images: list[str]
    captioned: set[str]
    captions: dict[str, str]


class InvalidZipError(Exception):
    pass


def read_zip(data: bytes) -> ExtractedDataset:
    """What the trainer's `extract_zip` sees (skips `__MACOSX/` and `._*`)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise InvalidZipError("input_images must be a zip file") from exc
    images, captions = [], {}
    for name in archive.namelist():
        base = name.rsplit("/", 1)[-1]
        if name.startswith("__MACOSX/") or base.startswith("._") or name.endswith("/"):
            continue
        stem, _, ext = base.rpartition(".")
        if "." + ext.lower() in IMAGE_EXTS:
            images.append(base)
        elif ext.lower() == "txt":
            captions[stem] = archive.read(name).decode("utf-8")
    captioned = {img for img in images if img.rpartition(".")[0] in captions}
    return ExtractedDataset(sorted(images), captioned, captions)


def preamble(dataset: ExtractedDataset, steps: int) -> list[str]:
    lines = [
        "Environment language: en_US.UTF-8",
        "Turning gradient checkpointing on and quantizing base model, GPU has less than 100 GB "
        "of memory",
        f"Extracted {len(dataset.images) + len(dataset.captions)} files from zip to input_images",
    ]
    for image in dataset.images:
        if image in dataset.captioned:
            lines.append(f"input_images/{image} is already captioned")
    lines += [
        "Starting train job",
        "Running 1 job",
        "{",
        '    "type": "sd_trainer",',
        '    "training_folder": "output",',
        "}",
        "#############################################",
        "# Running job: flux_train_replicate",
        "#############################################",
        "Loading Flux model",
        "Loading checkpoint shards: 100%|██████████| 3/3 [00:04<00:00,  1.45s/it]",
        "Quantizing transformer",
        f"Dataset: input_images  -  Found {len(dataset.images)} images",
        "Bucket sizes for input_images:",
        "1024x1024: 4 files",
        "Caching latents to disk",
        "Caching latents to disk: 100%|██████████| 4/4 [00:01<00:00,  3.10it/s]",
        # A bar of another phase under the job's own name: its total is not the steps.
        "flux_train_replicate:   0%|          | 0/2 [00:00<?, ?it/s]",
    ]
    del steps
    return lines


def loss_at(step: int) -> float:
    return 0.42 * math.exp(-step / 900.0) + 0.18 + 0.01 * math.sin(step)


def bar(step: int, steps: int, lr: float, elapsed_s: float, rate: float) -> str:
    pct = int(100 * step / steps)
    filled = int(10 * step / steps)
    cells = ("█" * filled).ljust(10)
    left = (steps - step) / rate if rate else 0

    def clock(seconds: float) -> str:
        minutes, secs = divmod(int(seconds), 60)
        return f"{minutes:02d}:{secs:02d}"

    return (
        f"flux_train_replicate: {pct:3d}%|{cells}| {step}/{steps} "
        f"[{clock(elapsed_s)}<{clock(left)}, {rate:5.2f}it/s, lr: {lr:.1e} "
        f"loss: {loss_at(step):.3e}]"
    )


def lora_bytes(rank: int, *, seed: int = 7, corrupt: bool = False) -> bytes:
    """A small but real Flux LoRA in ai-toolkit's diffusers/PEFT layout (bf16, no alpha keys:
    alpha = rank)."""
    rng = random.Random(seed)
    tensors: list[tuple[str, tuple[int, ...]]] = []
    for block in range(2):
        for proj in ("to_q", "to_k"):
            prefix = f"transformer.single_transformer_blocks.{block}.attn.{proj}"
            tensors.append((f"{prefix}.lora_A.weight", (rank, HIDDEN)))
            tensors.append((f"{prefix}.lora_B.weight", (HIDDEN, rank)))
    infos, data, position = [], bytearray(), 0
    for name, shape in sorted(tensors):
        size = 2 * shape[0] * shape[1]
        infos.append(TensorInfo(name, "BF16", shape, position, position + size))
        # Small bf16 values: the high byte of a float32 near ±0.01.
        chunk = bytearray(size)
        for i in range(0, size, 2):
            chunk[i] = rng.randrange(256)
            chunk[i + 1] = rng.choice((0x3C, 0xBC))
        data += chunk
        position += size
    metadata = {"format": "pt", "name": "flux_train_replicate", "version": "1.0"}
    blob = encode_header(infos, metadata) + bytes(data)
    return blob[: len(blob) // 2] if corrupt else blob


def weights_tar(
    rank: int, dataset: ExtractedDataset, *, corrupt: bool = False, evil: bool = False
) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:

        def add(name: str, payload: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            info.mtime = 1_700_000_000
            tar.addfile(info, io.BytesIO(payload))

        root = "output/flux_train_replicate"
        add(f"{root}/lora.safetensors", lora_bytes(rank, corrupt=corrupt))
        for stem, text in sorted(dataset.captions.items()):
            add(f"{root}/captions/{stem}.txt", text.encode())
        add(f"{root}/config.yaml", b"job: extension\nconfig:\n  name: flux_train_replicate\n")
        if evil:
            add("../../escaped.txt", b"should never be written")
    return buffer.getvalue()
