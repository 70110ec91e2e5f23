"""Test fake: an installed-looking diffusers for the kohya Python probe (nothing else)."""
