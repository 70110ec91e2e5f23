"""Views of the Train wizard: one widget per step plus the step indicator; the page that holds
them is `views/pages/train_page.py`."""
