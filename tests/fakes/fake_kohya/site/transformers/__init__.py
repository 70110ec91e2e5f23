"""Test fake: an installed-looking transformers for the kohya Python probe (nothing else)."""
