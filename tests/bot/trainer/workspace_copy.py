"""A copy of the files the workbench edits, so tests never write the repository's data."""

import shutil
from pathlib import Path

from bot.settings import ROOT


def copy_workspace(target: Path) -> Path:
    """Copies data/, config.yml, domain.yml and the held-out set into `target`; returns it."""
    shutil.copytree(ROOT / "data", target / "data")
    for name in ("config.yml", "domain.yml"):
        shutil.copy(ROOT / name, target / name)
    (target / "tests" / "nlu").mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "nlu" / "heldout.yml", target / "tests" / "nlu" / "heldout.yml")
    return target
