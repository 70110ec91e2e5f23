"""Core: weights (pure Python, no Qt)."""
