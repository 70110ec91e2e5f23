"""Views of the Jobs page: dialogs, the desktop notifier and the samples grid."""
