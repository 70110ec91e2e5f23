"""Views of the Dataset page: thumbnail grid and delegate, detail pane, stats and doctor panels."""
