"""Core: dataset (pure Python, no Qt)."""
