"""Core: captioning (pure Python, no Qt)."""
