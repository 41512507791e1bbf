"""The trainer workbench at /trainer: inbox, labels, training, evaluation, deploy and rollback."""
