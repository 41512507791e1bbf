"""The SQL tracker store reads only the events' JSON (bot/speedups/tracker_rows.py).

A real SQLite tracker store: what it gives back equals what Rasa's own retrieval gives.
"""

import asyncio
import sqlite3

import pytest
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

RASA_RETRIEVE = SQLTrackerStore.__dict__["_retrieve"]
if getattr(RASA_RETRIEVE, "data_column_only", False):  # installed in this process already
    RASA_RETRIEVE = RASA_RETRIEVE.__wrapped__
RASA_SAVE = SQLTrackerStore.__dict__["save"]
if getattr(RASA_SAVE, "counted_once", False):
    RASA_SAVE = RASA_SAVE.__wrapped__


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
    for name, save in (("rasa", RASA_SAVE), ("counted", tracker_rows.counted_once(RASA_SAVE))):
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


def test_installed_once(monkeypatch):
    monkeypatch.setattr(SQLTrackerStore, "_retrieve", RASA_RETRIEVE)
    monkeypatch.setattr(SQLTrackerStore, "save", RASA_SAVE)
    tracker_rows.install()
    installed = SQLTrackerStore._retrieve, SQLTrackerStore.save
    tracker_rows.install()
    assert (SQLTrackerStore._retrieve, SQLTrackerStore.save) == installed
    assert installed[0].data_column_only and installed[1].counted_once
