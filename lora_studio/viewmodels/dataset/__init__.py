"""View-models of the Dataset page: open/import/delete, the thumbnail grid, detail, stats, doctor."""
