"""The SQL tracker store: a conversation's events kept between its messages, rows read lean.

Rasa 3.6's `SQLTrackerStore` reads the whole current session of a conversation for every
customer message: an ORM query built and compiled anew, every row loaded as an ORM object only
for its `data` column, every row's JSON turned into an event again and replayed into a tracker;
a long conversation costs more with each message. Its `save` hands the new events to the event
broker (which retrieves the whole tracker a second time only to count its events), counts the
stored rows again in a session of its own and adds one ORM object per new event.

With `install`:
- Reading and counting use Core statements compiled once (same filters as Rasa's
  `_event_query`: this sender; the latest session, from the latest `session_started` event's
  timestamp on, unless all sessions are asked for; ordered by id) and select the `data` column
  alone.
- `save` counts the stored rows of the current session once, hands the events past them to the
  broker and inserts them in one statement: the same events published, the same rows stored, in
  the same order.
- A saved tracker's event objects are kept when they are exactly the rows of the current
  session: the tracker was read from those rows (or the conversation had none), and when a new
  session started among the new events, the current session's rows are all of its events. They
  are kept with the session's fingerprint: its number of rows and its start. The next `retrieve` asks for the fingerprint only and, when it is
  unchanged, builds the tracker from the kept events as Rasa builds it from parsed rows.
  Anything written to the conversation in between (another replica, a tool on the database)
  changes the fingerprint, and the rows are read. A new tracker is built each time, so no two
  callers share one; the events are shared, which also lets the dialogue states continue from
  the previous message (`bot.speedups.prior_states`).
"""

from __future__ import annotations

import collections
import functools
import json
from dataclasses import dataclass
from typing import Any, Callable, Coroutine, Dict, Optional, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

CONVERSATIONS_KEPT = 300
ROWS_READ = "_shop_rows_read"  # a tracker's attribute: the session's rows it was built from

Fingerprint = Tuple[int, Optional[float]]  # rows of the current session, its start
Retrieve = Callable[..., Coroutine[Any, Any, Optional[DialogueStateTracker]]]
Save = Callable[[Any, DialogueStateTracker], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Statements:
    """The Core statements for one events table, built once."""

    session_rows: sa.sql.Select  # the current session's rows: count and start
    latest_data: sa.sql.Select  # the current session's events' JSON, in order
    all_data: sa.sql.Select  # every session's events' JSON, in order


@functools.lru_cache(maxsize=None)
def statements(events: sa.Table) -> Statements:
    """The statements reading `events` (Rasa's `SQLEvent` table)."""
    sender = events.c.sender_id == sa.bindparam("sender_id")
    start = (
        sa.select(sa.func.max(events.c.timestamp))
        .where(sender, events.c.type_name == SessionStarted.type_name)
        .scalar_subquery()
    )
    latest = sa.and_(sender, sa.or_(events.c.timestamp >= start, start.is_(None)))
    return Statements(
        session_rows=sa.select(sa.func.count(events.c.id), start).where(latest),
        latest_data=sa.select(events.c.data).where(latest).order_by(events.c.id),
        all_data=sa.select(events.c.data).where(sender).order_by(events.c.id),
    )


def current_session(store: SQLTrackerStore, session: Any, sender_id: str) -> Fingerprint:
    """The number of stored rows of the conversation's current session, and its start."""
    rows, start = session.execute(
        statements(store.SQLEvent.__table__).session_rows, {"sender_id": sender_id}
    ).one()
    return int(rows), start


@dataclass(frozen=True)
class Kept:
    """One conversation's events as the store held them after the last save."""

    events: Tuple[Event, ...]
    fingerprint: Fingerprint


class KeptEvents:
    """The kept events of the most recently saved conversations."""

    def __init__(self, size: int = CONVERSATIONS_KEPT) -> None:
        self.size = size
        self.kept: "collections.OrderedDict[str, Kept]" = collections.OrderedDict()

    def keep(self, sender_id: str, kept: Optional[Kept]) -> None:
        """Keeps (or, with None, forgets) a conversation's events."""
        self.kept.pop(sender_id, None)
        if kept is None:
            return
        self.kept[sender_id] = kept
        while len(self.kept) > self.size:
            self.kept.popitem(last=False)

    def get(self, sender_id: str) -> Optional[Kept]:
        """The kept events of a conversation, if any."""
        return self.kept.get(sender_id)


def data_column_only(retrieve: Retrieve) -> Retrieve:
    """Rasa's `SQLTrackerStore._retrieve`, reading only the events' `data` column."""

    @functools.wraps(retrieve)
    async def _retrieve(
        store: SQLTrackerStore, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        read = statements(store.SQLEvent.__table__)
        statement = read.all_data if fetch_events_from_all_sessions else read.latest_data
        with store.session_scope() as session:
            rows = session.execute(statement, {"sender_id": sender_id}).all()
        events = [json.loads(data) for (data,) in rows]
        if store.domain and events:
            tracker = DialogueStateTracker.from_dict(sender_id, events, store.domain.slots)
            if not fetch_events_from_all_sessions:
                setattr(tracker, ROWS_READ, len(events))
            return tracker
        return None

    _retrieve.data_column_only = True  # type: ignore[attr-defined]
    return _retrieve


def from_kept(retrieve: Retrieve, kept: KeptEvents) -> Retrieve:
    """Rasa's `SQLTrackerStore.retrieve`, building the tracker from kept events when it can."""

    @functools.wraps(retrieve)
    async def _retrieve(store: SQLTrackerStore, sender_id: str) -> Optional[DialogueStateTracker]:
        known = kept.get(sender_id)
        if known is not None and store.domain is not None:
            with store.session_scope() as session:
                stored = current_session(store, session, sender_id)
            if stored == known.fingerprint:
                tracker = DialogueStateTracker.from_events(
                    sender_id, list(known.events), store.domain.slots
                )
                setattr(tracker, ROWS_READ, len(known.events))
                return tracker
            kept.keep(sender_id, None)
        return await retrieve(store, sender_id)

    _retrieve.from_kept = True  # type: ignore[attr-defined]
    return _retrieve


def event_row(sender_id: str, event: Event) -> Dict[str, Any]:
    """The `events` row Rasa's `SQLTrackerStore.save` stores for an event."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


def counted_once(save: Save, kept: KeptEvents) -> Save:
    """Rasa's `SQLTrackerStore.save`, counting the stored events once (see the module doc)."""

    @functools.wraps(save)
    async def _save(store: SQLTrackerStore, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        kept.keep(sender_id, None)  # nothing kept while the store changes
        events = list(tracker.events)
        with store.session_scope() as session:
            stored, start = current_session(store, session, sender_id)
            new_events = events[stored:]
            if store.event_broker is not None:
                await store._stream_new_events(store.event_broker, new_events, sender_id)
            if new_events:
                rows = [event_row(sender_id, event) for event in new_events]
                session.execute(store.SQLEvent.__table__.insert(), rows)
            session.commit()
        if stored and getattr(tracker, ROWS_READ, None) != stored:
            return  # not read from these rows: its earlier events may differ from them
        after = (len(events), start)
        if any(isinstance(event, SessionStarted) for event in new_events):
            with store.session_scope() as session:  # a new session: which rows are in it now
                after = current_session(store, session, sender_id)
        if after[0] == len(events):
            kept.keep(sender_id, Kept(tuple(events), after))
            setattr(tracker, ROWS_READ, len(events))

    _save.counted_once = True  # type: ignore[attr-defined]
    return _save


def install() -> None:
    """Makes `SQLTrackerStore` read lean, count once and keep events between messages (once)."""
    if getattr(SQLTrackerStore.save, "counted_once", False):
        return
    kept = KeptEvents()
    SQLTrackerStore._retrieve = data_column_only(SQLTrackerStore._retrieve)  # type: ignore[method-assign]
    SQLTrackerStore.retrieve = from_kept(SQLTrackerStore.retrieve, kept)  # type: ignore[method-assign]
    SQLTrackerStore.save = counted_once(SQLTrackerStore.save, kept)  # type: ignore[method-assign]
