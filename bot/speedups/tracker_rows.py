"""The SQL tracker store reads the events' JSON only, and counts stored events once per save.

Rasa 3.6's `SQLTrackerStore._retrieve` loads every event of the conversation's current session
as an ORM object (all seven columns, identity map, instance state) only to read its `data`
column, for every customer message: the ORM's share was about a sixteenth of the Rasa process's
CPU under load. With `install`, the same query (same filters: this sender, the latest session
unless all are asked for; same order: by id) selects the `data` column alone.

Rasa's `save` first hands the new events to the event broker (`stream_events`, which retrieves
the whole tracker a second time only to count its events), then counts the stored rows again in
a session of its own and adds one ORM object per new event. With `install`, `save` counts the
stored rows once (`_additional_events`, the rows of the current session), hands the events past
them to the broker and inserts them in one statement: the same events published and the same
rows stored, in the same order.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Callable, Coroutine, Dict, Optional

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

Retrieve = Callable[[Any, str, bool], Coroutine[Any, Any, Optional[DialogueStateTracker]]]
Save = Callable[[Any, DialogueStateTracker], Coroutine[Any, Any, None]]


def data_column_only(retrieve: Retrieve) -> Retrieve:
    """Rasa's `SQLTrackerStore._retrieve`, reading only the events' `data` column."""

    @functools.wraps(retrieve)
    async def _retrieve(
        store: SQLTrackerStore, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        with store.session_scope() as session:
            query = store._event_query(
                session,
                sender_id,
                fetch_events_from_all_sessions=fetch_events_from_all_sessions,
            )
            rows = query.with_entities(store.SQLEvent.data).all()
            events = [json.loads(data) for (data,) in rows]
        if store.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, store.domain.slots)
        return None

    _retrieve.data_column_only = True  # type: ignore[attr-defined]
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


def counted_once(save: Save) -> Save:
    """Rasa's `SQLTrackerStore.save`, counting the stored events once (see the module doc)."""

    @functools.wraps(save)
    async def _save(store: SQLTrackerStore, tracker: DialogueStateTracker) -> None:
        with store.session_scope() as session:
            new_events = list(store._additional_events(session, tracker))
            if store.event_broker is not None:
                await store._stream_new_events(store.event_broker, new_events, tracker.sender_id)
            if new_events:
                rows = [event_row(tracker.sender_id, event) for event in new_events]
                session.execute(store.SQLEvent.__table__.insert(), rows)
            session.commit()

    _save.counted_once = True  # type: ignore[attr-defined]
    return _save


def install() -> None:
    """Makes `SQLTrackerStore` read only the events' JSON and count once when saving (once)."""
    current = SQLTrackerStore._retrieve
    if not getattr(current, "data_column_only", False):
        SQLTrackerStore._retrieve = data_column_only(current)  # type: ignore[method-assign]
    saving = SQLTrackerStore.save
    if not getattr(saving, "counted_once", False):
        SQLTrackerStore.save = counted_once(saving)  # type: ignore[method-assign]
