"""Core: backends (pure Python, no Qt)."""
