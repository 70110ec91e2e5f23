"""Core: jobs (pure Python, no Qt)."""
