"""A conversation's events are kept between its messages, not read and parsed again for each.

Rasa 3.6 reads the whole current session of a conversation from the SQL tracker store for every
customer message (`SQLTrackerStore.retrieve`): every row's JSON parsed and turned into an event
object again, then replayed into a new tracker; a long conversation costs more with each message.

With `install`, a save keeps the tracker's event objects when they are exactly what the store now
holds for the conversation's current session (as many events as rows), with the store's
fingerprint of that session: its number of rows and its highest row id. The next `retrieve` asks
the store for the fingerprint only (one aggregate query) and, when it is unchanged, builds the
tracker from the kept events, as Rasa builds it from the parsed rows. Anything else written to
the conversation in between (by another replica, by a tool on the database) changes the
fingerprint, and the rows are read as before. A new tracker is built each time, so no two
callers ever share one; the events themselves are shared, which also lets the dialogue states
continue from the previous message (`bot.speedups.prior_states`).
"""

from __future__ import annotations

import collections
import functools
from dataclasses import dataclass
from typing import Any, Callable, Coroutine, Optional, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

CONVERSATIONS_KEPT = 300

Fingerprint = Tuple[int, Optional[int]]  # rows of the current session, highest row id
Retrieve = Callable[[Any, str], Coroutine[Any, Any, Optional[DialogueStateTracker]]]
Save = Callable[[Any, DialogueStateTracker], Coroutine[Any, Any, None]]


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


def fingerprint(store: SQLTrackerStore, sender_id: str) -> Fingerprint:
    """The number of rows of the conversation's current session and the highest row id."""
    with store.session_scope() as session:
        query = store._event_query(session, sender_id, fetch_events_from_all_sessions=False)
        rows, highest = (
            query.order_by(None)
            .with_entities(sa.func.count(store.SQLEvent.id), sa.func.max(store.SQLEvent.id))
            .one()
        )
    return int(rows), highest


def from_kept(retrieve: Retrieve, kept: KeptEvents) -> Retrieve:
    """Rasa's `SQLTrackerStore.retrieve`, building the tracker from kept events when it can."""

    @functools.wraps(retrieve)
    async def _retrieve(store: SQLTrackerStore, sender_id: str) -> Optional[DialogueStateTracker]:
        known = kept.get(sender_id)
        if known is not None and store.domain is not None:
            if fingerprint(store, sender_id) == known.fingerprint:
                return DialogueStateTracker.from_events(
                    sender_id, list(known.events), store.domain.slots
                )
            kept.keep(sender_id, None)
        return await retrieve(store, sender_id)

    _retrieve.from_kept = True  # type: ignore[attr-defined]
    return _retrieve


def keeping(save: Save, kept: KeptEvents) -> Save:
    """Rasa's `SQLTrackerStore.save`, then keeping the events when they are what is stored."""

    @functools.wraps(save)
    async def _save(store: SQLTrackerStore, tracker: DialogueStateTracker) -> None:
        kept.keep(tracker.sender_id, None)  # nothing kept while the store changes
        await save(store, tracker)
        stored = fingerprint(store, tracker.sender_id)
        if stored[0] == len(tracker.events):
            kept.keep(tracker.sender_id, Kept(tuple(tracker.events), stored))

    _save.keeping = True  # type: ignore[attr-defined]
    return _save


def install() -> None:
    """Makes `SQLTrackerStore` keep each conversation's events between its messages (once)."""
    if getattr(SQLTrackerStore.retrieve, "from_kept", False):
        return
    kept = KeptEvents()
    SQLTrackerStore.retrieve = from_kept(SQLTrackerStore.retrieve, kept)  # type: ignore[method-assign]
    SQLTrackerStore.save = keeping(SQLTrackerStore.save, kept)  # type: ignore[method-assign]
