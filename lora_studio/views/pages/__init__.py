"""Views: one module per page of the main window."""
