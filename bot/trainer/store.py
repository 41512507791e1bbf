"""The workbench's own SQLite database: the inbox index, the audit log and the model list.

Nothing here is a second transcript: the inbox index holds what the trainer needs to find and
page through customer messages fast (the reading, the priority, the trainer's decision) and the
tracker store's event id of each, so a conversation is always read from Rasa's store itself.
Tables are created on first use, never at import.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Dict

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine, make_url

metadata = MetaData()

# One row per customer message in the tracker store (its event id is the key).
messages = Table(
    "inbox_messages",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=False),
    Column("conversation_id", String(255), nullable=False),
    Column("timestamp", Float, nullable=False),
    Column("channel", String(64), nullable=False, default=""),
    Column("text", Text, nullable=False),
    Column("text_key", Text, nullable=False),
    Column("intent", String(128), nullable=False, default=""),
    Column("guess", String(128), nullable=False, default=""),
    Column("confidence", Float, nullable=False, default=0.0),
    Column("margin", Float, nullable=False, default=1.0),
    Column("second", String(128), nullable=False, default=""),
    Column("entities", Text, nullable=False, default="[]"),
    Column("suggested", String(128), nullable=False, default=""),
    Column("suggested_by", String(64), nullable=False, default=""),
    Column("priority", Integer, nullable=False),
    Index("ix_inbox_messages_key", "text_key"),
)

# One row per group of near-duplicates (equal after normalisation), kept up to date as messages
# are filed: what the inbox pages through. It shows its newest message; `urgency` and
# `least_margin` are the group's most urgent, `status` the trainer's decision for all of them.
groups = Table(
    "inbox_groups",
    metadata,
    Column("text_key", Text, primary_key=True),
    Column("newest", Integer, nullable=False),
    Column("count", Integer, nullable=False),
    Column("urgency", Integer, nullable=False),
    Column("least_margin", Float, nullable=False),
    Column("suggestion", String(128), nullable=False, default=""),
    Column("suggested_by", String(64), nullable=False, default=""),
    Column("status", String(16), nullable=False, default="open"),
    Column("label", String(128), nullable=False, default=""),
    Column("text", Text, nullable=False),
    Column("guess", String(128), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("timestamp", Float, nullable=False),
    Column("channel", String(64), nullable=False),
    Index("ix_inbox_groups_order", "status", "urgency", "least_margin", "newest"),
)

# How far the index has read each tracker store.
cursors = Table(
    "inbox_cursors",
    metadata,
    Column("store", String(512), primary_key=True),
    Column("last_event_id", Integer, nullable=False),
)

audit = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", Float, nullable=False),
    Column("who", String(64), nullable=False),
    Column("role", String(32), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", Text, nullable=False, default=""),
    Column("before", Text, nullable=False, default="null"),
    Column("after", Text, nullable=False, default="null"),
    Column("reason", Text, nullable=False, default=""),
)

models = Table(
    "models",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("path", Text, nullable=False),
    Column("data_version", String(64), nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Column("trained_by", String(64), nullable=False, default=""),
    Column("figures", Text, nullable=False, default="{}"),
    Column("gate", Text, nullable=False, default="{}"),
    Column("status", String(16), nullable=False, default="candidate"),
    Column("deployed_at", Float),
    Column("deployed_by", String(64), nullable=False, default=""),
    Column("override_reason", Text, nullable=False, default=""),
)

_lock = threading.Lock()
_engines: Dict[str, Engine] = {}


def _sqlite_pragmas(connection: object, _record: object) -> None:
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def engine_for(url: str) -> Engine:
    """The engine of the workbench database at `url`, its tables created on first use.

    A new SQLite file is made readable by its owner only.
    """
    with _lock:
        engine = _engines.get(url)
        if engine is not None:
            return engine
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database:
            path = Path(parsed.database)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600, exist_ok=True)
            path.chmod(0o600)
            engine = create_engine(
                url, future=True, connect_args={"check_same_thread": False, "timeout": 15}
            )
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, future=True, pool_pre_ping=True)
        metadata.create_all(engine)
        _engines[url] = engine
        return engine
