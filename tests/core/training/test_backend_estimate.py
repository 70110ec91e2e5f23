"""One estimate for the wizard's review and the CLI: it follows what the backend reported (GPU,
its memory, or the CPU), prefers speeds measured on earlier runs, and says when it cannot know."""

from __future__ import annotations

from lora_studio.core.backends.base import BackendCheck
from lora_studio.core.backends.comfyui.diagnose import diagnose
from lora_studio.core.config.estimates import GpuClass
from lora_studio.core.config.training_config import TrainingConfig
from lora_studio.core.training.backend_estimate import estimate_on_backend

CONFIG = TrainingConfig(base_model="sdxl_base.safetensors")


def test_the_estimate_follows_the_backend_report() -> None:
    cpu = BackendCheck(True, "ok", facts={"device": "cpu"})
    gpu = BackendCheck(True, "ok", gpu_name="NVIDIA RTX 4090", vram_gb=24.0)
    on_cpu = estimate_on_backend(CONFIG, 23, "comfyui", cpu)
    on_gpu = estimate_on_backend(CONFIG, 23, "comfyui", gpu)
    unknown = estimate_on_backend(CONFIG, 23, "comfyui", None)
    assert on_cpu.estimate.gpu_class == GpuClass.CPU and on_cpu.hardware_known
    assert "the CPU (no GPU)" in on_cpu.duration_text
    assert on_cpu.estimate.duration.value > 50 * on_gpu.estimate.duration.value
    assert on_gpu.hardware_known and "as the backend reported" in on_gpu.duration_text
    assert on_gpu.estimate.verdict is not None  # VRAM checked against the reported 24 GB
    assert not unknown.hardware_known
    assert unknown.duration_text.startswith("cannot be known yet")


def test_measured_speeds_win_over_the_table() -> None:
    cpu = BackendCheck(True, "ok", facts={"device": "cpu"})
    measured = estimate_on_backend(CONFIG, 23, "comfyui", cpu, [2.0, 2.2, 0.0])
    assert measured.measured_runs == 2
    assert "from the speed of 2 earlier runs here" in measured.duration_text
    steps = measured.estimate.length.total_steps
    assert measured.estimate.duration.value < 2.2 * steps + 600  # not the CPU table


def test_comfyui_check_says_when_it_runs_on_the_cpu() -> None:
    stats = {"system": {"comfyui_version": "0.3"}, "devices": [{"type": "cpu", "name": "cpu"}]}
    assert diagnose("ComfyUI", stats, {}, {}).facts.get("device") == "cpu"
    assert "device" not in diagnose("ComfyUI", {"system": {}}, {}, {}).facts
