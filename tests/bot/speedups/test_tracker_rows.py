"""The SQL tracker store reads lean and keeps events between messages (bot/speedups/tracker_rows.py).

A real SQLite tracker store: what it gives back equals what Rasa's own retrieval gives.
"""

import asyncio
import json
import sqlite3

import pytest
import sqlalchemy
from rasa.core.brokers.broker import EventBroker
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

from bot.speedups import tracker_rows
from tests.bot.rasa_methods import installed_once, rasa_original

RASA_RETRIEVE = rasa_original(SQLTrackerStore, "_retrieve", "data_column_only")
RASA_SAVE = rasa_original(SQLTrackerStore, "save", "counted_once")


class Collected(EventBroker):
    """A broker keeping what is published, in order."""

    def __init__(self):
        self.published = []

    def publish(self, event):
        self.published.append(event)


DOMAIN = Domain.from_dict(
    {
        "intents": ["ask_stock", "inform"],
        "slots": {
            "product": {"type": "text", "mappings": [{"type": "custom"}]},
            "order_id": {"type": "text", "mappings": [{"type": "custom"}]},
        },
    }
)


def session(start: float, product: str):
    return [
        ActionExecuted("action_session_start", timestamp=start),
        SessionStarted(timestamp=start + 0.1),
        ActionExecuted("action_listen", timestamp=start + 0.2),
        UserUttered(
            f"{product}还有货吗",
            {"name": "ask_stock", "confidence": 0.93},
            [{"entity": "product", "value": product, "start": 0, "end": 3}],
            timestamp=start + 1,
        ),
        SlotSet("product", product, timestamp=start + 1.1),
        ActionExecuted("action_check_stock", timestamp=start + 1.2),
        BotUttered("有货", {"elements": None}, {"utter_action": "utter_in_stock"}, start + 1.3),
        ActionExecuted("action_listen", timestamp=start + 1.4),
    ]


@pytest.fixture()
def store(tmp_path):
    store = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "trackers.db"))
    for sender, products in (("alice", ["H16", "T7"]), ("bob", ["B3"])):
        events = [e for n, p in enumerate(products) for e in session(1000.0 * (n + 1), p)]
        tracker = DialogueStateTracker.from_events(sender, events, DOMAIN.slots)
        asyncio.run(store.save(tracker))
    return store


@pytest.mark.parametrize("all_sessions", [False, True])
@pytest.mark.parametrize("sender", ["alice", "bob", "nobody"])
def test_the_same_tracker_as_rasa_reads(store, sender, all_sessions):
    lean = tracker_rows.data_column_only(RASA_RETRIEVE)
    expected = asyncio.run(RASA_RETRIEVE(store, sender, all_sessions))
    got = asyncio.run(lean(store, sender, all_sessions))
    if sender == "nobody":
        assert expected is None and got is None
        return
    assert got.events == expected.events
    assert got.current_slot_values() == expected.current_slot_values()
    sessions = [e for e in got.events if isinstance(e, SessionStarted)]
    assert len(sessions) == (2 if sender == "alice" and all_sessions else 1)
    assert got.get_slot("product") == ("T7" if sender == "alice" else "B3")


def rows(db):
    with sqlite3.connect(db) as connection:
        return connection.execute(
            "SELECT id, sender_id, type_name, timestamp, intent_name, action_name, data"
            " FROM events ORDER BY id"
        ).fetchall()


@pytest.mark.parametrize("sender", ["alice", "carol"])  # a stored conversation and a new one
def test_a_save_stores_and_streams_what_rasa_s_own_save_does(tmp_path, sender):
    outcome = {}
    counted = tracker_rows.counted_once(RASA_SAVE, tracker_rows.KeptEvents())
    for name, save in (("rasa", RASA_SAVE), ("counted", counted)):
        db = tmp_path / f"{name}.db"
        store = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db))
        stored = [e for n, p in enumerate(["H16", "T7"]) for e in session(1000.0 * (n + 1), p)]
        asyncio.run(RASA_SAVE(store, DialogueStateTracker.from_events("alice", stored)))
        store.event_broker = Collected()
        old = asyncio.run(RASA_RETRIEVE(store, sender, False))
        events = list(old.events) if old is not None else []
        events += session(5000.0, "E6")[2:]  # a next message and its answer, same session
        asyncio.run(save(store, DialogueStateTracker.from_events(sender, events, DOMAIN.slots)))
        outcome[name] = (rows(db), store.event_broker.published)
    assert outcome["counted"] == outcome["rasa"]
    stored_rows, published = outcome["rasa"]
    assert len(published) == 6 and [e["event"] for e in published][:2] == ["action", "user"]
    assert [row[1] for row in stored_rows].count(sender) == (22 if sender == "alice" else 6)
    assert stored_rows[-5][4] == "ask_stock" and stored_rows[-3][5] == "action_check_stock"


# Events kept between a conversation's messages.

RASA_RETRIEVE_LATEST = rasa_original(SQLTrackerStore, "retrieve", "from_kept")


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
    kept = tracker_rows.KeptEvents(size=4)
    monkeypatch.setattr(
        SQLTrackerStore, "retrieve", tracker_rows.from_kept(RASA_RETRIEVE_LATEST, kept)
    )
    monkeypatch.setattr(SQLTrackerStore, "_retrieve", tracker_rows.data_column_only(RASA_RETRIEVE))
    monkeypatch.setattr(SQLTrackerStore, "save", tracker_rows.counted_once(RASA_SAVE, kept))
    return kept


@pytest.fixture()
def db(tmp_path):
    return tmp_path / "trackers.db"


def store_at(db):
    return SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db))


def as_rows(tracker):
    return [event.as_dict() for event in tracker.events]


def rasa_reads(db, sender):
    return asyncio.run(RASA_RETRIEVE(store_at(db), sender, False))


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


def test_a_failed_save_keeps_nothing(kept, db):
    store = store_at(db)
    tracker = DialogueStateTracker.from_events("dan", opening(100) + turn(101, "H16"), DOMAIN.slots)
    asyncio.run(store.save(tracker))
    assert kept.get("dan") is not None

    with sqlite3.connect(db) as connection:  # the table goes away under the store
        connection.execute("ALTER TABLE events RENAME TO events_elsewhere")
    tracker.update(SlotSet("product", "T7", timestamp=300))
    with pytest.raises(sqlalchemy.exc.OperationalError):
        asyncio.run(store.save(tracker))
    assert kept.get("dan") is None
    with sqlite3.connect(db) as connection:
        connection.execute("ALTER TABLE events_elsewhere RENAME TO events")
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
    originals = {"_retrieve": RASA_RETRIEVE, "retrieve": RASA_RETRIEVE_LATEST, "save": RASA_SAVE}
    installed = installed_once(monkeypatch, tracker_rows.install, SQLTrackerStore, originals)
    assert installed[0].data_column_only and installed[1].from_kept and installed[2].counted_once
