"""A copy of the files the workbench edits, so tests never write the repository's data."""

from pathlib import Path

from bot.settings import ROOT
from bot.trainer import workspace


def copy_workspace(target: Path, with_training_cache: bool = False) -> Path:
    """Copies the repository's workspace into `target` (`bot.trainer.workspace.copy_workspace`)."""
    return workspace.copy_workspace(ROOT, target, with_training_cache)
