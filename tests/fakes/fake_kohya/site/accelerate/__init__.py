"""Test fake: an installed-looking accelerate for the kohya Python probe (nothing else)."""
