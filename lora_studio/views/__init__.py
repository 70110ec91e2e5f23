"""Views: dumb QtWidgets bound to view-models; no I/O."""
