"""Fixtures for the Train page tests: the wizard fixtures of the view-model tests."""

from tests.viewmodels.train.train_helpers import executor, fake, service_for, wizard_for

__all__ = ["executor", "fake", "service_for", "wizard_for"]
