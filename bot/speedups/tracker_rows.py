"""The SQL tracker store reads the events' JSON only, not an ORM object per event.

Rasa 3.6's `SQLTrackerStore._retrieve` loads every event of the conversation's current session
as an ORM object (all seven columns, identity map, instance state) only to read its `data`
column, for every customer message: the ORM's share was about a sixteenth of the Rasa process's
CPU under load. With `install`, the same query (same filters: this sender, the latest session
unless all are asked for; same order: by id) selects the `data` column alone.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Callable, Coroutine, Optional

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

Retrieve = Callable[[Any, str, bool], Coroutine[Any, Any, Optional[DialogueStateTracker]]]


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


def install() -> None:
    """Makes `SQLTrackerStore` read only the events' JSON (once)."""
    current = SQLTrackerStore._retrieve
    if getattr(current, "data_column_only", False):
        return
    SQLTrackerStore._retrieve = data_column_only(current)  # type: ignore[method-assign]
