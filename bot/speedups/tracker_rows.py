"""The SQL tracker store reads the events' JSON only, and streams new events without a re-read.

Rasa 3.6's `SQLTrackerStore._retrieve` loads every event of the conversation's current session
as an ORM object (all seven columns, identity map, instance state) only to read its `data`
column, for every customer message: the ORM's share was about a sixteenth of the Rasa process's
CPU under load. With `install`, the same query (same filters: this sender, the latest session
unless all are asked for; same order: by id) selects the `data` column alone.

With an event broker (the scaled topology's RabbitMQ, the web app's push), every save first
retrieved the whole tracker a second time only to count its events (`stream_events`: the new
events are those past the stored ones). With `install`, they are counted as `save` counts them
(`_additional_events`: the rows of the current session), the same events published.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Callable, Coroutine, Optional

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

Retrieve = Callable[[Any, str, bool], Coroutine[Any, Any, Optional[DialogueStateTracker]]]
StreamEvents = Callable[[Any, DialogueStateTracker], Coroutine[Any, Any, None]]


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


def counted_not_reread(stream_events: StreamEvents) -> StreamEvents:
    """Rasa's `stream_events` for the SQL store: the new events found by counting stored rows."""

    @functools.wraps(stream_events)
    async def _stream_events(store: SQLTrackerStore, tracker: DialogueStateTracker) -> None:
        if store.event_broker is None:
            return None
        with store.session_scope() as session:
            new_events = list(store._additional_events(session, tracker))
        await store._stream_new_events(store.event_broker, new_events, tracker.sender_id)
        return None

    _stream_events.counted_not_reread = True  # type: ignore[attr-defined]
    return _stream_events


def install() -> None:
    """Makes `SQLTrackerStore` read only the events' JSON and stream without a re-read (once)."""
    current = SQLTrackerStore._retrieve
    if not getattr(current, "data_column_only", False):
        SQLTrackerStore._retrieve = data_column_only(current)  # type: ignore[method-assign]
    streaming = SQLTrackerStore.stream_events
    if not getattr(streaming, "counted_not_reread", False):
        SQLTrackerStore.stream_events = counted_not_reread(streaming)  # type: ignore[method-assign]
