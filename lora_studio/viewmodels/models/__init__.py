"""Qt item models: thin adapters over view-model-owned lists."""
