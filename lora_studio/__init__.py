"""LoRA Studio: turn a folder of pictures into a trained LoRA."""

__version__ = "0.1.0"
APP_NAME = "LoRA Studio"
APP_ID = "io.github.lorastudio.LoraStudio"
