"""Where the workbench reads and writes: the training data it edits and its own state.

The workspace is the folder holding `data/`, `config.yml`, `domain.yml` and the held-out set
(`tests/nlu/heldout.yml`): the repository itself unless `SHOP_TRAINER_WORKSPACE` names a copy
(tests and benchmarks work on a copy). The workbench's own state (its SQLite index, candidate
models, job logs) lives in `<var>/trainer/`, readable by its owner only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bot.settings import ROOT, Settings

WORKSPACE_ENV = "SHOP_TRAINER_WORKSPACE"
REPLICAS_ENV = "SHOP_RASA_REPLICAS"
MAX_DROP_ENV = "SHOP_GATE_MAX_INTENT_DROP"
DEFAULT_MAX_DROP = 0.05


@dataclass(frozen=True)
class Workspace:
    """The files a trainer edits and the folder the workbench keeps its state in."""

    root: Path
    state_dir: Path
    models_dir: Path

    @property
    def nlu_dir(self) -> Path:
        """`data/nlu/`: one topic file per group of intents."""
        return self.root / "data" / "nlu"

    @property
    def dicts_dir(self) -> Path:
        """`data/dicts/`: the jieba user dictionaries."""
        return self.root / "data" / "dicts"

    @property
    def shop_dictionary(self) -> Path:
        """The dictionary new words are added to."""
        return self.dicts_dir / "shop.txt"

    @property
    def saved_stories(self) -> Path:
        """`tests/stories/trainer_saved.yml`: conversations saved as test stories."""
        return self.root / "tests" / "stories" / "trainer_saved.yml"

    @property
    def heldout(self) -> Path:
        """The held-out NLU set, written separately from the training data."""
        return self.root / "tests" / "nlu" / "heldout.yml"

    @property
    def domain(self) -> Path:
        """`domain.yml`."""
        return self.root / "domain.yml"

    @property
    def config(self) -> Path:
        """`config.yml`."""
        return self.root / "config.yml"

    @property
    def rasa_cache(self) -> Path:
        """Rasa's training cache of the workspace (`.rasa/cache`, where `make train` keeps it)."""
        return self.root / ".rasa" / "cache"

    @property
    def database_url(self) -> str:
        """The workbench's own SQLite database (inbox index, audit log, model list)."""
        return f"sqlite:///{self.state_dir / 'trainer.db'}"

    @property
    def candidates_dir(self) -> Path:
        """Models trained from the page wait here until deployed (never served before that)."""
        return self.state_dir / "candidates"

    @property
    def jobs_dir(self) -> Path:
        """Logs and results of training jobs."""
        return self.state_dir / "jobs"

    def prepare(self) -> None:
        """Creates the state folders, readable by the owner only."""
        for folder in (self.state_dir, self.candidates_dir, self.jobs_dir):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o700)


def workspace_for(settings: Settings) -> Workspace:
    """The workspace of a web app with these settings (`SHOP_TRAINER_WORKSPACE` or the repo)."""
    root = Path(os.environ.get(WORKSPACE_ENV) or ROOT)
    return Workspace(
        root=root, state_dir=settings.var_dir / "trainer", models_dir=settings.models_dir
    )


def replica_urls(settings: Settings) -> list:
    """Every Rasa server to load a deployed model into.

    `SHOP_RASA_REPLICAS` (comma-separated base URLs), or the one server of the settings.
    """
    listed = [u.strip().rstrip("/") for u in os.environ.get(REPLICAS_ENV, "").split(",")]
    return [u for u in listed if u] or [settings.rasa_url]


def max_intent_drop() -> float:
    """How much an intent's F1 may fall before the deploy gate closes (default 0.05)."""
    try:
        return float(os.environ.get(MAX_DROP_ENV) or DEFAULT_MAX_DROP)
    except ValueError:
        return DEFAULT_MAX_DROP


def copy_workspace(source: Path, target: Path, with_training_cache: bool = False) -> Path:
    """Copies the files a workbench edits (data/, config.yml, domain.yml, the held-out set).

    For trials away from the real data (tests, benchmarks): point `SHOP_TRAINER_WORKSPACE` at
    the copy.

    Args:
        source: The workspace to copy (the repository).
        target: The folder to copy into.
        with_training_cache: Also copy Rasa's training cache (`.rasa/cache`, filled by `make
            train`), so a training in the copy restores what did not change (the dialogue
            policies) instead of training it again. The cached results are hard links (Rasa
            never writes into one); the cache's index is a consistent copy of its own.

    Returns:
        `target`.
    """
    shutil.copytree(source / "data", target / "data")
    for name in ("config.yml", "domain.yml"):
        shutil.copy(source / name, target / name)
    heldout = Path("tests") / "nlu" / "heldout.yml"
    (target / heldout).parent.mkdir(parents=True)
    shutil.copy(source / heldout, target / heldout)
    cache = Path(".rasa") / "cache"
    if with_training_cache and (source / cache).is_dir():
        shutil.copytree(source / cache, target / cache, copy_function=_link_or_copy)
    return target


def _link_or_copy(source: str, destination: str) -> None:
    name = Path(source).name
    if name.startswith("cache.db"):
        if name == "cache.db":  # SQLite writes in place: a copy of its own, taken whole
            with contextlib.closing(sqlite3.connect(source)) as index:
                with contextlib.closing(sqlite3.connect(destination)) as copy:
                    index.backup(copy)
        return
    try:
        os.link(source, destination)
    except OSError:  # another file system
        shutil.copy2(source, destination)
