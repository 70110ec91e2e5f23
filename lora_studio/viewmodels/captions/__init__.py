"""View-models of the Captions page: the shared caption session, the editor, tags, batch and
auto-caption."""
