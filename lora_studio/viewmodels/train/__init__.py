"""View-models of the Train wizard: one per step (the dataset one serves two) and the wizard that
owns them. Import `TrainWizardViewModel` from here."""

from lora_studio.viewmodels.train.train_wizard_vm import STEP_TITLES, TrainWizardViewModel

__all__ = ["STEP_TITLES", "TrainWizardViewModel"]
