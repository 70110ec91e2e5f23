"""Test fake: an installed-looking safetensors for the kohya Python probe (nothing else)."""
