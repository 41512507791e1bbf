"""A conversation's events kept between its messages (bot/speedups/kept_events.py).

A real SQLite tracker store: what a retrieval gives back equals what Rasa reads from the rows,
and anything written to the conversation behind the store's back is read from the rows.
"""

import asyncio
import json
import sqlite3

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.speedups import kept_events

RASA_RETRIEVE = SQLTrackerStore.__dict__["retrieve"]
if getattr(RASA_RETRIEVE, "from_kept", False):  # installed in this process already
    RASA_RETRIEVE = RASA_RETRIEVE.__wrapped__
RASA_SAVE = SQLTrackerStore.__dict__["save"]
if getattr(RASA_SAVE, "keeping", False):
    RASA_SAVE = RASA_SAVE.__wrapped__

DOMAIN = Domain.from_dict(
    {
        "intents": ["ask_stock"],
        "slots": {"product": {"type": "text", "mappings": [{"type": "custom"}]}},
    }
)


def turn(start, product):
    return [
        UserUttered(
            f"{product}还有货吗", {"name": "ask_stock", "confidence": 0.9}, timestamp=start
        ),
        SlotSet("product", product, timestamp=start + 0.1),
        ActionExecuted("action_check_stock", timestamp=start + 0.2),
        BotUttered("有货", {"elements": None}, {}, start + 0.3),
        ActionExecuted("action_listen", timestamp=start + 0.4),
    ]


def opening(start):
    return [
        SessionStarted(timestamp=start),
        ActionExecuted("action_listen", timestamp=start + 0.1),
    ]


@pytest.fixture()
def kept(monkeypatch):
    kept = kept_events.KeptEvents(size=4)
    monkeypatch.setattr(SQLTrackerStore, "retrieve", kept_events.from_kept(RASA_RETRIEVE, kept))
    monkeypatch.setattr(SQLTrackerStore, "save", kept_events.keeping(RASA_SAVE, kept))
    return kept


@pytest.fixture()
def db(tmp_path):
    return tmp_path / "trackers.db"


def store_at(db):
    return SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db))


def as_rows(tracker):
    return [event.as_dict() for event in tracker.events]


def rasa_reads(db, sender):
    return asyncio.run(RASA_RETRIEVE(store_at(db), sender))


def test_the_next_message_gets_the_kept_events_as_rasa_reads_them(kept, db):
    store = store_at(db)
    first = DialogueStateTracker.from_events("alice", opening(100) + turn(101, "H16"), DOMAIN.slots)
    asyncio.run(store.save(first))
    second = asyncio.run(store.retrieve("alice"))
    assert second is not first and second.events[2] is first.events[2]  # the kept objects
    assert as_rows(second) == as_rows(rasa_reads(db, "alice"))
    assert second.get_slot("product") == "H16"

    for event in turn(102, "T7"):  # the conversation goes on: kept again after its save
        second.update(event)
    asyncio.run(store.save(second))
    third = asyncio.run(store.retrieve("alice"))
    assert third.events[-1] is second.events[-1] and len(third.events) == 12
    assert as_rows(third) == as_rows(rasa_reads(db, "alice"))
    assert third.get_slot("product") == "T7"


def test_a_row_written_behind_the_store_s_back_is_read(kept, db):
    store = store_at(db)
    tracker = DialogueStateTracker.from_events("bob", opening(100) + turn(101, "H16"), DOMAIN.slots)
    asyncio.run(store.save(tracker))
    other_replica = SlotSet("product", "B3", timestamp=200).as_dict()
    with sqlite3.connect(db) as connection:
        connection.execute(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
            ("bob", "slot", 200, json.dumps(other_replica)),
        )
    read = asyncio.run(store.retrieve("bob"))
    assert read.get_slot("product") == "B3" and len(read.events) == 8
    assert read.events[2] is not tracker.events[2]  # read from the rows
    assert kept.get("bob") is None


def test_a_tracker_holding_an_older_session_is_not_kept(kept, db):
    store = store_at(db)
    events = opening(100) + turn(101, "H16")
    events += [ActionExecuted("action_session_start", timestamp=500)]
    events += opening(501) + turn(502, "T7")
    tracker = DialogueStateTracker.from_events("carol", events, DOMAIN.slots)
    asyncio.run(store.save(tracker))
    assert kept.get("carol") is None
    read = asyncio.run(store.retrieve("carol"))
    assert as_rows(read) == as_rows(rasa_reads(db, "carol"))
    assert len(read.events) == 7  # the current session only, as Rasa reads it


def test_a_failed_save_keeps_nothing(kept, db, monkeypatch):
    store = store_at(db)
    tracker = DialogueStateTracker.from_events("dan", opening(100) + turn(101, "H16"), DOMAIN.slots)
    asyncio.run(store.save(tracker))
    assert kept.get("dan") is not None

    async def failing(store, tracker):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(SQLTrackerStore, "save", kept_events.keeping(failing, kept))
    tracker.update(SlotSet("product", "T7", timestamp=300))
    with pytest.raises(RuntimeError):
        asyncio.run(store.save(tracker))
    assert kept.get("dan") is None
    assert asyncio.run(store.retrieve("dan")).get_slot("product") == "H16"


def test_kept_conversations_are_bounded(kept, db):
    store = store_at(db)
    for n in range(6):
        sender = f"c{n}"
        asyncio.run(
            store.save(DialogueStateTracker.from_events(sender, opening(100), DOMAIN.slots))
        )
    assert list(kept.kept) == ["c2", "c3", "c4", "c5"]


def test_installed_once(monkeypatch):
    monkeypatch.setattr(SQLTrackerStore, "retrieve", RASA_RETRIEVE)
    monkeypatch.setattr(SQLTrackerStore, "save", RASA_SAVE)
    kept_events.install()
    installed = SQLTrackerStore.retrieve, SQLTrackerStore.save
    kept_events.install()
    assert (SQLTrackerStore.retrieve, SQLTrackerStore.save) == installed
    assert installed[0].from_kept and installed[1].keeping
