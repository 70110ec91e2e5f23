"""Core: config (pure Python, no Qt)."""
