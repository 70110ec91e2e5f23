"""Fixtures for the Train wizard view-model tests (from train_helpers, shared with the page)."""

from tests.viewmodels.train.train_helpers import executor, fake, service_for, wizard_for

__all__ = ["executor", "fake", "service_for", "wizard_for"]
