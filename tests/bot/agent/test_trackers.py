"""The tracker store reader: events after an id, by type, unreadable rows passed over."""

import json
import sqlite3

import pytest

from bot.agent import trackers

SCHEMA = (
    "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
    "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
    "action_name VARCHAR(255), data TEXT)"
)


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "tracker.db"
    with sqlite3.connect(path) as db:
        db.execute(SCHEMA)
        rows = [
            ("c-1", "user", json.dumps({"event": "user", "text": "在吗"})),
            ("c-1", "bot", json.dumps({"event": "bot", "text": "亲在的"})),
            ("c-2", "user", "{not json"),
            ("c-2", "user", json.dumps(["a", "list"])),
            ("c-2", "user", json.dumps({"event": "user", "text": "还有货吗"})),
            ("c-1", "action", json.dumps({"event": "action", "name": "action_listen"})),
        ]
        db.executemany("INSERT INTO events (sender_id, type_name, data) VALUES (?,?,?)", rows)
    return f"sqlite:///{path}"


def test_events_after_an_id_come_oldest_first_with_their_conversation(store):
    found = trackers.stored_events_after(store, 0, 100)
    assert [(event_id, sender) for event_id, sender, _ in found] == [
        (1, "c-1"),
        (2, "c-1"),
        (3, "c-2"),
        (4, "c-2"),
        (5, "c-2"),
        (6, "c-1"),
    ]
    assert found[0][2] == {"event": "user", "text": "在吗"}
    assert [row[0] for row in trackers.stored_events_after(store, 4, 100)] == [5, 6]
    assert [row[0] for row in trackers.stored_events_after(store, 1, 2)] == [2, 3]
    assert trackers.stored_events_after(store, 6, 100) == []


def test_only_the_types_asked_for_and_unreadable_data_as_none(store):
    found = trackers.stored_events_after(store, 0, 100, kinds=("user",))
    assert [(event_id, event) for event_id, _, event in found] == [
        (1, {"event": "user", "text": "在吗"}),
        (3, None),  # not JSON: the cursor still moves past it
        (4, None),  # JSON, but not an event
        (5, {"event": "user", "text": "还有货吗"}),
    ]
    both = trackers.stored_events_after(store, 0, 100, kinds=("bot", "action"))
    assert [row[0] for row in both] == [2, 6]
    # a type name is a parameter, never SQL
    assert trackers.stored_events_after(store, 0, 100, kinds=("user' OR '1'='1",)) == []


def test_a_store_rasa_has_not_created_yet_has_no_events(tmp_path):
    assert trackers.stored_events_after(f"sqlite:///{tmp_path / 'none.db'}", 0, 10) == []
    assert not (tmp_path / "none.db").exists()
