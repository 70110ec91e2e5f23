"""Views of the Captions page: the caption editor, tag chips and table, batch and auto-caption
dialogs."""
