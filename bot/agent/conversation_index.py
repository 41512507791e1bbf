"""The console's index of conversations: who waits for a person, who is with an agent, and since when.

Rasa's tracker store stays the only record of what was said; this index only remembers, for each
conversation, what the console lists it by (`bot.agent.conversations.Summary`): its state
(`waiting` for a person, `with_agent`, or with the `bot`), the queue it waits in, why and since
when, the holder, the customer's latest words and how angry they read, and the customer's words
for searching. The waiting queue is read from it whole, never from a window of recent
conversations, so a flood of new conversations cannot push a waiting customer out; the list of
active conversations is read a page at a time, and can be searched.

The index follows the tracker store incrementally: it keeps the id of the last event it has read,
and each refresh reads the events stored since, re-summarises just the conversations they belong
to (from all their events) and upserts their rows. A row is only replaced by a summary of the same
or newer events, so two web app processes refreshing at once cannot put an older state back. Ids
a concurrent writer has not committed yet (a gap below newer ids, possible with PostgreSQL) are
waited for a few seconds before they are passed. When the tracker store starts over (its newest id
is below the index's), the index is rebuilt.

The index lives in the web app's own small database, never in the shop's: the SQLite file
`console.db` under `var/` (readable by the owner only), or the database `CONSOLE_DATABASE_URL`
names (PostgreSQL when several web app processes share one index). Its two tables are created on
first use.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    create_engine,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url

from bot.agent import trackers
from bot.agent.anger import anger_of
from bot.agent.conversations import Summary, summarise
from shop.conversation import is_customer_text
from shop.text.normalise import normalise

DATABASE_URL_ENV = "CONSOLE_DATABASE_URL"
STATES = ("waiting", "with_agent", "bot")
BATCH_EVENTS = 2000
GAP_GRACE_SECONDS = 10.0
SEARCH_CHARS = 2000
PAGE_SIZE = 30
MAX_PAGE_SIZE = 100
MAX_QUEUE = 500
MAX_QUERY_CHARS = 64

metadata = MetaData()
conversations = Table(
    "console_conversations",
    metadata,
    Column("conversation_id", String(64), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("queue", String(16), nullable=False),
    Column("for_supervisor", Boolean, nullable=False, default=False),
    Column("mode", String(8), nullable=False),
    Column("agent", String(64)),
    Column("agent_role", String(16)),
    Column("reasons", String(200), nullable=False, default=""),
    Column("waiting_since", Float),
    Column("last_activity", Float, nullable=False),
    Column("last_customer_at", Float),
    Column("last_customer_text", String(80), nullable=False, default=""),
    Column("customer_id", Integer),
    Column("customer_messages", Integer, nullable=False),
    Column("anger", Float, nullable=False, default=0.0),
    Column("search_text", Text, nullable=False, default=""),
    Column("last_event_id", BigInteger, nullable=False),
    Index("ix_console_conversations_waiting", "state", "waiting_since"),
    Index("ix_console_conversations_activity", "last_activity"),
)
cursor = Table(
    "console_index_cursor",
    metadata,
    Column("name", String(16), primary_key=True),
    Column("event_id", BigInteger, nullable=False),
)
CURSOR_NAME = "events"


def database_url(var_dir: Path) -> str:
    """The index's database: `CONSOLE_DATABASE_URL`, else `console.db` under the var folder."""
    return os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{Path(var_dir).resolve() / 'console.db'}"


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, future=True, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))  # owner only, before any row
        path.chmod(0o600)
    return create_engine(url, future=True, connect_args={"timeout": 15})


Entry = Tuple[Summary, Dict[str, Any]]


@dataclass
class Page:
    """One page of the active conversations."""

    rows: List[Entry]
    total: int
    page: int
    pages: int
    per_page: int


def _state(summary: Summary) -> str:
    if summary.needs_human:
        return "waiting"
    return "with_agent" if summary.mode != "auto" else "bot"


def _row(conversation_id: str, newest_id: int, events: List[Dict[str, Any]], key: str) -> dict:
    summary = summarise(conversation_id, events, key)
    typed = [e for e in events if is_customer_text(e)]
    words = "\n".join(str(e.get("text")) for e in typed)[-SEARCH_CHARS:]
    latest = typed[-1] if typed else None
    return {
        "conversation_id": conversation_id,
        "state": _state(summary),
        "queue": summary.queue,
        "for_supervisor": summary.waits_for_supervisor,
        "mode": summary.mode,
        "agent": summary.agent,
        "agent_role": summary.agent_role,
        "reasons": ",".join(summary.reasons),
        "waiting_since": summary.waiting_since,
        "last_activity": summary.last_activity,
        "last_customer_at": float(latest.get("timestamp") or 0.0) if latest else None,
        "last_customer_text": summary.last_customer_text,
        "customer_id": summary.customer_id,
        "customer_messages": summary.customer_messages,
        "anger": anger_of(str(latest.get("text"))) if latest else 0.0,
        "search_text": normalise(words),
        "last_event_id": newest_id,
    }


def _entry(row: Any) -> Entry:
    """A row as the console lists it: the summary, and what only the index knows."""
    extra = {"state": row.state, "anger": row.anger, "last_customer_at": row.last_customer_at}
    return _summary(row), extra


def _summary(row: Any) -> Summary:
    return Summary(
        conversation_id=row.conversation_id,
        mode=row.mode,
        agent=row.agent,
        agent_role=row.agent_role,
        reasons=[reason for reason in (row.reasons or "").split(",") if reason],
        waiting_since=row.waiting_since,
        last_activity=row.last_activity,
        last_customer_text=row.last_customer_text,
        customer_id=row.customer_id,
        customer_messages=row.customer_messages,
    )


def _like(text: str) -> str:
    """A LIKE pattern matching the text anywhere, its wildcards taken literally."""
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


class ConversationIndex:
    """The index of one tracker store's conversations, kept in the console's own database."""

    def __init__(self, url: str, store_url: str, key: str) -> None:
        """Opens nothing yet: the database is opened (and its tables made) on first use.

        Args:
            url: SQLAlchemy URL of the index's database (`database_url`).
            store_url: SQLAlchemy URL of Rasa's tracker store.
            key: The shared signing key (to tell signed-in customers).
        """
        self.url, self.store_url, self.key = url, store_url, key
        self._engine: Optional[Engine] = None
        self._lock = threading.Lock()
        self._gaps: Dict[int, float] = {}  # missing event id → when it was first missed

    @property
    def engine(self) -> Engine:
        """The index database's engine, with its tables created."""
        if self._engine is None:
            engine = _engine(self.url)
            metadata.create_all(engine, checkfirst=True)
            self._engine = engine
        return self._engine

    def _cursor(self, connection: Any) -> int:
        found = connection.execute(
            select(cursor.c.event_id).where(cursor.c.name == CURSOR_NAME)
        ).scalar()
        return int(found or 0)

    def _set_cursor(self, connection: Any, event_id: int) -> None:
        done = connection.execute(
            update(cursor).where(cursor.c.name == CURSOR_NAME).values(event_id=event_id)
        )
        if not done.rowcount:
            connection.execute(cursor.insert().values(name=CURSOR_NAME, event_id=event_id))

    def _upsert(self, connection: Any, row: dict) -> None:
        """Writes a row unless the index already holds a summary of newer events."""
        dialect = connection.dialect.name
        if dialect in ("sqlite", "postgresql"):
            insert = (sqlite if dialect == "sqlite" else postgresql).insert(conversations)
            statement = insert.values(**row).on_conflict_do_update(
                index_elements=[conversations.c.conversation_id],
                set_={name: insert.excluded[name] for name in row if name != "conversation_id"},
                where=conversations.c.last_event_id <= insert.excluded.last_event_id,
            )
            connection.execute(statement)
            return
        key = conversations.c.conversation_id == row["conversation_id"]
        held = connection.execute(select(conversations.c.last_event_id).where(key)).scalar()
        if held is None:
            connection.execute(conversations.insert().values(**row))
        elif held <= row["last_event_id"]:
            connection.execute(update(conversations).where(key).values(**row))

    def _next_cursor(self, start: int, ids: List[int], now: float) -> int:
        """The id read up to: the newest, unless a fresh gap below it may still be filled."""
        expected = start + 1
        missing: List[int] = []
        for event_id in ids:
            missing.extend(range(expected, min(event_id, expected + 1000)))
            expected = event_id + 1
        for event_id in missing:
            self._gaps.setdefault(event_id, now)
        fresh = [e for e in missing if now - self._gaps[e] < GAP_GRACE_SECONDS]
        for event_id in [e for e in self._gaps if e not in missing]:
            del self._gaps[event_id]
        return min(fresh) - 1 if fresh else ids[-1]

    def refresh(self, now: Optional[float] = None) -> int:
        """Reads the events stored since the last refresh into the index.

        Args:
            now: Unix time (for how long a gap in the event ids is waited for).

        Returns:
            How many conversations were re-summarised.
        """
        now = time.time() if now is None else now
        touched = 0
        with self._lock:
            while True:
                with self.engine.begin() as connection:
                    start = self._cursor(connection)
                    if start and trackers.newest_event_id(self.store_url) < start:
                        connection.execute(delete(conversations))  # the store started over
                        start = 0
                        self._gaps.clear()
                    rows = trackers.events_after(self.store_url, start, BATCH_EVENTS)
                    if not rows:
                        self._set_cursor(connection, start)
                        return touched
                    senders = list(dict.fromkeys(sender for _, sender in rows))
                    found = trackers.events_of(self.store_url, senders)
                    for conversation_id, (newest, events) in found.items():
                        self._upsert(connection, _row(conversation_id, newest, events, self.key))
                    touched += len(found)
                    ids = [event_id for event_id, _ in rows]
                    next_cursor = self._next_cursor(start, ids, now)
                    self._set_cursor(connection, next_cursor)
                if len(rows) < BATCH_EVENTS or next_cursor < ids[-1]:
                    return touched

    def queue(self, role: str) -> Tuple[List[Entry], int]:
        """The conversations waiting for a person that a staff role sees, longest waiting first.

        A frontline agent sees the agents' queue; a supervisor sees every queue, and also what
        waits for a supervisor while a frontline agent holds it.

        Args:
            role: `agent` or `supervisor`.

        Returns:
            The first MAX_QUEUE of them, and how many there are.
        """
        waiting = conversations.c.state == "waiting"
        if role == "supervisor":
            visible = or_(waiting, conversations.c.for_supervisor.is_(True))
        else:
            visible = and_(waiting, conversations.c.queue == "agents")
        with self.engine.connect() as connection:
            total = connection.execute(
                select(func.count()).select_from(conversations).where(visible)
            ).scalar()
            rows = connection.execute(
                select(conversations)
                .where(visible)
                .order_by(
                    conversations.c.waiting_since.is_(None),
                    conversations.c.waiting_since,
                    conversations.c.conversation_id,
                )
                .limit(MAX_QUEUE)
            ).all()
        return [_entry(row) for row in rows], int(total or 0)

    def active(self, page: int = 1, per_page: int = PAGE_SIZE, query: str = "") -> Page:
        """A page of the active conversations (the customer wrote, or a person holds it).

        Args:
            page: From 1.
            per_page: Rows on a page (at most MAX_PAGE_SIZE).
            query: Finds conversations by id, customer id (`2` or `#2`) or the customer's words
                (compared as `shop.text.normalise` reads text: any width, any script).

        Returns:
            The page, most recently active first.
        """
        per_page = max(1, min(MAX_PAGE_SIZE, per_page))
        active = or_(conversations.c.customer_messages > 0, conversations.c.mode != "auto")
        query = query.strip()[:MAX_QUERY_CHARS]
        if query:
            found = [
                conversations.c.conversation_id.like(_like(query), escape="\\"),
                conversations.c.search_text.like(_like(normalise(query).strip()), escape="\\"),
            ]
            number = query.lstrip("#＃").strip()
            if number.isascii() and number.isdigit() and len(number) < 10:
                found.append(conversations.c.customer_id == int(number))
            active = and_(active, or_(*found))
        with self.engine.connect() as connection:
            total = int(
                connection.execute(
                    select(func.count()).select_from(conversations).where(active)
                ).scalar()
                or 0
            )
            pages = max(1, -(-total // per_page))
            page = max(1, min(page, pages))
            rows = connection.execute(
                select(conversations)
                .where(active)
                .order_by(conversations.c.last_activity.desc(), conversations.c.conversation_id)
                .offset((page - 1) * per_page)
                .limit(per_page)
            ).all()
        return Page([_entry(row) for row in rows], total, page, pages, per_page)


@lru_cache(maxsize=8)
def index_for(url: str, store_url: str, key: str) -> ConversationIndex:
    """The one index object per database, tracker store and key in this process."""
    return ConversationIndex(url, store_url, key)
