"""The workbench's audit log: who changed what, when, what it was before and after."""

from __future__ import annotations

import json
import time
from typing import Any, Dict, List, Optional

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from bot.trainer.store import audit


def record(
    engine: Engine,
    who: str,
    role: str,
    action: str,
    subject: str,
    before: Any = None,
    after: Any = None,
    reason: str = "",
    now: Optional[float] = None,
) -> None:
    """Appends one entry (entries are never changed or deleted).

    Args:
        engine: The workbench database.
        who: The staff username.
        role: Their role when they acted.
        action: What they did (`label`, `ignore`, `dictionary_word`, `train`, `cancel`,
            `deploy`, `gate_override`, `rollback`, ...).
        subject: What it was done to (a message, a file, a model).
        before: The state before, JSON-serialisable.
        after: The state after, JSON-serialisable.
        reason: Why (required for a gate override).
        now: Unix time; the current time when omitted.
    """
    with engine.begin() as db:
        db.execute(
            insert(audit).values(
                at=time.time() if now is None else now,
                who=who,
                role=role,
                action=action,
                subject=subject,
                before=json.dumps(before, ensure_ascii=False),
                after=json.dumps(after, ensure_ascii=False),
                reason=reason,
            )
        )


def recent(engine: Engine, most: int = 200) -> List[Dict[str, Any]]:
    """The newest entries first."""
    with engine.connect() as db:
        rows = db.execute(select(audit).order_by(audit.c.id.desc()).limit(most)).mappings()
        return [
            {**row, "before": json.loads(row["before"]), "after": json.loads(row["after"])}
            for row in rows
        ]
