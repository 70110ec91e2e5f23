"""Reusable widgets (error banner, loss plot, delegates, drop areas)."""
