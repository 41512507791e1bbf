"""Conversations read from Rasa's tracker store (read-only); nothing here keeps a copy of one.

Listing needs the store itself (Rasa's HTTP API has no "all conversations" call): Rasa's SQL
tracker store, the embedded SQLite file (opened read-only) or the scale-out PostgreSQL database,
read with SQLAlchemy. Every write goes through Rasa's HTTP API (`bot.rasa_client`).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_CONVERSATIONS = 200


def valid_conversation_id(value: object) -> bool:
    """Tell whether a value may be a conversation id (anything else is refused before any I/O)."""
    return isinstance(value, str) and bool(CONVERSATION_ID.match(value))


def _decode(raw: Optional[str]) -> Optional[Dict[str, Any]]:
    try:
        event = json.loads(raw or "")
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


class _Store:
    """Read-only access to Rasa's SQL tracker store (its `events` table), SQLite or PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.sqlite_file = (
            Path(self.url.database or "") if self.url.get_backend_name() == "sqlite" else None
        )
        if self.sqlite_file is not None:
            # read-only: the console never writes Rasa's store (every write goes through Rasa)
            ro = f"sqlite:///file:{self.sqlite_file}?mode=ro&uri=true"
            self.engine = create_engine(ro, future=True, connect_args={"timeout": 5})
        else:
            self.engine = create_engine(url, future=True, pool_pre_ping=True, pool_size=5)

    def rows(self, sql: str, **params: Any) -> List[Any]:
        """The rows of a query; none while the store (or its table) does not exist yet."""
        if self.sqlite_file is not None and not self.sqlite_file.exists():
            return []
        try:
            with self.engine.connect() as connection:
                return list(connection.execute(text(sql), params))
        except (OperationalError, ProgrammingError):  # Rasa has not created its table yet
            return []


@lru_cache(maxsize=8)
def _store(url: str) -> _Store:
    return _Store(url)


def active_conversations(store_url: str, since: float) -> Dict[str, List[Dict[str, Any]]]:
    """Every conversation with an event after `since`, with all its events (oldest first).

    Args:
        store_url: SQLAlchemy URL of Rasa's tracker store.
        since: Unix time; quieter conversations are left out.

    Returns:
        Conversation id → its events as Rasa stores them (the newest MAX_CONVERSATIONS).
    """
    recent = _store(store_url).rows(
        "SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) >= :since"
        " ORDER BY MAX(timestamp) DESC LIMIT :most",
        since=since,
        most=MAX_CONVERSATIONS,
    )
    conversations: Dict[str, List[Dict[str, Any]]] = {}
    wanted = [row[0] for row in recent]
    for start in range(0, len(wanted), 50):
        chunk = wanted[start : start + 50]
        names = {f"s{i}": sender for i, sender in enumerate(chunk)}
        placeholders = ", ".join(f":{name}" for name in names)
        rows = _store(store_url).rows(
            f"SELECT sender_id, data FROM events WHERE sender_id IN ({placeholders}) ORDER BY id",
            **names,
        )
        for sender_id, raw in rows:
            event = _decode(raw)
            if event is not None:
                conversations.setdefault(sender_id, []).append(event)
    return conversations


def conversation_events(store_url: str, conversation_id: str) -> Optional[List[Dict[str, Any]]]:
    """All events of one conversation, oldest first; None when Rasa never saw it.

    Args:
        store_url: SQLAlchemy URL of Rasa's tracker store.
        conversation_id: Rasa's sender id (already validated).

    Returns:
        The events, or None.
    """
    rows = _store(store_url).rows(
        "SELECT data FROM events WHERE sender_id = :sender ORDER BY id", sender=conversation_id
    )
    events = [event for event in (_decode(raw) for (raw,) in rows) if event is not None]
    return events or None


def newest_event_id(store_url: str) -> int:
    """The id of the newest event in the store (0 when it has none)."""
    rows = _store(store_url).rows("SELECT MAX(id) FROM events")
    return int(rows[0][0] or 0) if rows else 0


def events_after(store_url: str, after_id: int, limit: int) -> List[Tuple[int, str]]:
    """`(event id, conversation id)` of the events stored after an id, oldest first.

    Args:
        store_url: SQLAlchemy URL of Rasa's tracker store.
        after_id: Only events with a greater id.
        limit: At most this many.

    Returns:
        The rows, by id.
    """
    rows = _store(store_url).rows(
        "SELECT id, sender_id FROM events WHERE id > :after ORDER BY id LIMIT :most",
        after=after_id,
        most=limit,
    )
    return [(int(event_id), str(sender)) for event_id, sender in rows]


def stored_events_after(
    store_url: str, after_id: int, limit: int, kinds: Sequence[str] = ()
) -> List[Tuple[int, str, Optional[Dict[str, Any]]]]:
    """`(event id, conversation id, event)` of the events stored after an id, oldest first.

    A reader that keeps a cursor moves it to the last id returned, also past an event whose
    stored data is unreadable (given as None).

    Args:
        store_url: SQLAlchemy URL of Rasa's tracker store.
        after_id: Only events with a greater id.
        limit: At most this many.
        kinds: Only events of these types (Rasa's `type_name`, e.g. "user"); every type when empty.

    Returns:
        The rows, by id; none while the store does not exist yet.
    """
    names = {f"k{i}": kind for i, kind in enumerate(kinds)}
    only = f" AND type_name IN ({', '.join(f':{name}' for name in names)})" if names else ""
    rows = _store(store_url).rows(
        f"SELECT id, sender_id, data FROM events WHERE id > :after{only} ORDER BY id LIMIT :most",
        after=int(after_id),
        most=int(limit),
        **names,
    )
    return [(int(event_id), str(sender), _decode(raw)) for event_id, sender, raw in rows]


def events_of(
    store_url: str, conversation_ids: Sequence[str]
) -> Dict[str, Tuple[int, List[Dict[str, Any]]]]:
    """Several conversations' events (oldest first) with the id of each one's newest event.

    Args:
        store_url: SQLAlchemy URL of Rasa's tracker store.
        conversation_ids: Rasa's sender ids.

    Returns:
        Conversation id → (newest event id, its events); conversations without events are left out.
    """
    found: Dict[str, Tuple[int, List[Dict[str, Any]]]] = {}
    wanted = list(dict.fromkeys(conversation_ids))
    for start in range(0, len(wanted), 50):
        names = {f"s{i}": sender for i, sender in enumerate(wanted[start : start + 50])}
        placeholders = ", ".join(f":{name}" for name in names)
        rows = _store(store_url).rows(
            f"SELECT id, sender_id, data FROM events WHERE sender_id IN ({placeholders})"
            " ORDER BY id",
            **names,
        )
        for event_id, sender_id, raw in rows:
            newest, events = found.get(sender_id, (0, []))
            event = _decode(raw)
            if event is not None:
                events.append(event)
            found[sender_id] = (max(newest, int(event_id)), events)
    return found


def latest_events(
    store_url: str, conversation_id: str, kinds: Sequence[str], limit: int
) -> List[Any]:
    """The newest events of the given types, newest first, as `(type_name, data)` rows."""
    names = {f"k{i}": kind for i, kind in enumerate(kinds)}
    placeholders = ", ".join(f":{name}" for name in names)
    return _store(store_url).rows(
        f"SELECT type_name, data FROM events WHERE sender_id = :sender"
        f" AND type_name IN ({placeholders}) ORDER BY id DESC LIMIT :most",
        sender=conversation_id,
        most=limit,
        **names,
    )
