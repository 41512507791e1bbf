"""Deploying a trained model behind a gate, the model list, and rollback.

The gate compares the new model with the serving one on the held-out set: macro-F1 must not be
lower, and no intent's F1 may fall by more than the allowed drop (`SHOP_GATE_MAX_INTENT_DROP`,
0.05). A supervisor may deploy through a closed gate with a reason (audited).

Deploying loads the model into every Rasa server with Rasa's own `PUT /model` (no restart):
when one fails to load it, the servers that already switched load the previous model again and
nothing else changes (Rasa keeps serving the old model on a failed load). Only after every server
has loaded it is the model copied into `models/`, where it is the newest and so the one served
after a restart. Rollback loads an earlier model from `models/` the same way and makes it the
newest again.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from bot.rasa_client import RasaClient, RasaUnavailable
from bot.trainer.store import models

LOAD_TIMEOUT = 600.0


@dataclass
class GateResult:
    """Whether a model may be deployed without an override, and why not."""

    passed: bool
    reasons: List[Dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        """JSON form."""
        return {"passed": self.passed, "reasons": self.reasons}


def gate(evaluation: Dict[str, Any], max_drop: float) -> GateResult:
    """Judges a model's held-out evaluation against the serving model.

    Args:
        evaluation: `evaluation.compare`'s result for the held-out set.
        max_drop: The largest fall of one intent's F1 allowed.

    Returns:
        Passed, or the reasons (`macro_f1_lower`, `intent_worse`) with their figures. Without a
        serving model to compare with, the gate passes.
    """
    new, serving = evaluation.get("new") or {}, evaluation.get("serving") or {}
    if serving.get("macro_f1") is None:
        return GateResult(True)
    reasons: List[Dict[str, Any]] = []
    if (new.get("macro_f1") or 0.0) < serving["macro_f1"]:
        reasons.append(
            {"code": "macro_f1_lower", "new": new.get("macro_f1"), "serving": serving["macro_f1"]}
        )
    for name, change in sorted((evaluation.get("diff") or {}).items()):
        if change < -max_drop - 1e-9:
            reasons.append({"code": "intent_worse", "intent": name, "change": change})
    return GateResult(not reasons, reasons)


class DeployFailed(RuntimeError):
    """A model did not load; the previous one still serves everywhere."""


async def load_everywhere(
    replicas: Sequence[str], token: str, model: Path, previous: Optional[Path]
) -> None:
    """Loads a model into every Rasa server, or into none.

    Args:
        replicas: Base URLs of the Rasa servers.
        token: Rasa's HTTP API token.
        model: The model file to load (readable by the servers).
        previous: The model serving before, loaded again where the new one got in when a later
            server refuses it.

    Raises:
        DeployFailed: when a server does not load the model.
    """
    switched: List[str] = []
    for url in replicas:
        try:
            await _load(url, token, model)
        except RasaUnavailable as failure:
            for done in switched:
                if previous is not None:
                    try:
                        await _load(done, token, previous)
                    except RasaUnavailable:
                        pass  # reported below with the rest
            raise DeployFailed(f"{url}: {failure}") from failure
        switched.append(url)


async def _load(url: str, token: str, model: Path) -> None:
    async with RasaClient(url, token) as rasa:
        await rasa.load_model(model, timeout=LOAD_TIMEOUT)


async def serving_model(url: str, token: str) -> str:
    """The file name of the model a Rasa server has loaded ("" when it does not answer)."""
    try:
        async with RasaClient(url, token, timeout=5.0) as rasa:
            status = await rasa.status()
    except RasaUnavailable:
        return ""
    return Path(str(status.get("model_file") or "")).name


def install(model: Path, models_dir: Path) -> Path:
    """Copies a deployed model into `models/` (atomically) as the newest file there."""
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / model.name
    if model.resolve() != target.resolve():
        handle, temporary = tempfile.mkstemp(dir=str(models_dir), prefix=".installing-")
        os.close(handle)
        try:
            shutil.copyfile(model, temporary)
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    os.utime(target)  # Rasa serves the newest model in the folder after a restart
    return target


def register(
    engine: Engine,
    name: str,
    path: Path,
    data_version: str,
    trained_by: str,
    figures: Dict[str, Any],
    gate_result: Dict[str, Any],
    now: Optional[float] = None,
) -> None:
    """Adds a trained candidate to the model list."""
    with engine.begin() as db:
        db.execute(
            insert(models).values(
                name=name,
                path=str(path),
                data_version=data_version,
                created_at=time.time() if now is None else now,
                trained_by=trained_by,
                figures=json.dumps(figures, ensure_ascii=False),
                gate=json.dumps(gate_result, ensure_ascii=False),
                status="candidate",
            )
        )


def entry(engine: Engine, name: str) -> Optional[Dict[str, Any]]:
    """One model of the list, or None."""
    with engine.connect() as db:
        row = db.execute(select(models).where(models.c.name == name)).mappings().first()
    return None if row is None else _decoded(row)


def _decoded(row: Any) -> Dict[str, Any]:
    found = dict(row)
    found["figures"] = json.loads(found["figures"] or "{}")
    found["gate"] = json.loads(found["gate"] or "{}")
    return found


def mark_serving(
    engine: Engine, name: str, path: Path, who: str, reason: str = "", now: Optional[float] = None
) -> None:
    """Records a model as serving (deployed or rolled back to) by `who`; the others retire."""
    now = time.time() if now is None else now
    with engine.begin() as db:
        db.execute(update(models).where(models.c.status == "serving").values(status="retired"))
        known = db.execute(select(models.c.name).where(models.c.name == name)).first()
        values = dict(
            status="serving",
            path=str(path),
            deployed_at=now,
            deployed_by=who,
            override_reason=reason,
        )
        if known is None:
            db.execute(insert(models).values(name=name, created_at=now, **values))
        else:
            db.execute(update(models).where(models.c.name == name).values(**values))


def listing(engine: Engine, models_dir: Path, serving: str) -> List[Dict[str, Any]]:
    """Every model the workbench knows and every model in `models/`, newest first.

    Each has `name`, `data_version`, `figures`, `trained_by`, `deployed_by`, `deployed_at`,
    `status` (`candidate`, `serving`, `retired`, or `on_disk` for models it did not train),
    whether its file is still there (`available`) and whether it is the one serving now.
    """
    with engine.connect() as db:
        rows = [_decoded(r) for r in db.execute(select(models)).mappings()]
    known = {row["name"] for row in rows}
    for path in models_dir.glob("*.tar.gz") if models_dir.exists() else []:
        if path.name not in known:
            rows.append(
                {
                    "name": path.name,
                    "path": str(path),
                    "data_version": "",
                    "created_at": path.stat().st_mtime,
                    "trained_by": "",
                    "figures": {},
                    "gate": {},
                    "status": "on_disk",
                    "deployed_at": None,
                    "deployed_by": "",
                    "override_reason": "",
                }
            )
    for row in rows:
        row["available"] = Path(row["path"]).exists()
        row["serving_now"] = row["name"] == serving
        row["in_models"] = (models_dir / row["name"]).exists()
    rows.sort(key=lambda r: -(r["created_at"] or 0))
    return rows
