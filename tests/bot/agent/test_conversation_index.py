"""The console's index of conversations, kept up to date from a tracker store in Rasa's schema."""

import json
import sqlite3
import stat

import pytest
from sqlalchemy import select

from bot.agent import conversation_index
from bot.agent.conversation_index import ConversationIndex, conversations, database_url

KEY = "index-test-key"
SCHEMA = (
    "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
    "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
    "action_name VARCHAR(255), data TEXT)"
)


def user(text, intent, t):
    return {
        "event": "user",
        "timestamp": t,
        "text": text,
        "metadata": {},
        "parse_data": {"intent": {"name": intent, "confidence": 0.9}, "entities": []},
    }


def pause(t, agent="agent", role="agent", mode="human"):
    return {
        "event": "pause",
        "timestamp": t,
        "metadata": {"mode": mode, "agent": agent, "role": role},
    }


@pytest.fixture()
def store(tmp_path):
    path = tmp_path / "tracker.db"
    with sqlite3.connect(path) as connection:
        connection.execute(SCHEMA)

    def add(sender, *events, event_id=None):
        with sqlite3.connect(path) as connection:
            for event in events:
                connection.execute(
                    "INSERT INTO events (id, sender_id, type_name, timestamp, data)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (event_id, sender, event["event"], event["timestamp"], json.dumps(event)),
                )

    add.url = f"sqlite:///{path}"
    add.path = path
    return add


@pytest.fixture()
def index(store, tmp_path):
    return ConversationIndex(f"sqlite:///{tmp_path / 'var' / 'console.db'}", store.url, KEY)


def ids(entries):
    return [summary.conversation_id for summary, _ in entries]


def test_a_flood_of_new_conversations_does_not_push_a_waiting_customer_out(store, index):
    store("a-waiting", user("转人工", "request_human", 100.0))
    for n in range(260):
        store(f"a-new{n:03d}", user("你好", "greet", 200.0 + n))
    index.refresh()
    queue, total = index.queue("agent")
    assert ids(queue) == ["a-waiting"] and total == 1
    assert queue[0][1]["state"] == "waiting"
    page = index.active(page=1, per_page=50)
    assert page.total == 261 and page.pages == 6 and len(page.rows) == 50
    assert ids(page.rows)[0] == "a-new259"  # the most recently active first
    last = index.active(page=6, per_page=50)
    assert ids(last.rows)[-1] == "a-waiting"
    seen = [cid for n in range(1, 7) for cid in ids(index.active(n, 50).rows)]
    assert len(seen) == len(set(seen)) == 261  # every conversation on exactly one page


def test_the_index_follows_new_events_and_reads_only_what_is_new(store, index):
    store("a-1", user("有货吗", "ask_stock", 10.0))
    assert index.refresh() == 1
    assert index.refresh() == 0  # nothing new: nothing re-read
    store("a-1", user("气死了 什么破东西", "complain", 20.0))
    assert index.refresh() == 1
    [(summary, extra)], _ = index.queue("agent")
    assert summary.reasons == ["angry_customer", "complaint"] and summary.waiting_since == 20.0
    assert extra["anger"] >= 0.5 and extra["last_customer_at"] == 20.0
    store("a-1", pause(30.0))
    index.refresh()
    assert index.queue("agent") == ([], 0)
    [(summary, extra)] = index.active().rows
    assert extra["state"] == "with_agent" and summary.agent == "agent"
    store("a-1", {"event": "resume", "timestamp": 40.0})
    index.refresh()
    assert index.active().rows[0][1]["state"] == "bot"


def test_what_waits_for_a_supervisor_is_in_their_queue_even_while_a_frontline_agent_holds_it(
    store, index
):
    store(
        "a-money",
        user("差价两百", "price_protection", 10.0),
        {
            "event": "slot",
            "timestamp": 11.0,
            "name": "handoff_reason",
            "value": "compensation_above_limit",
        },
    )
    index.refresh()
    assert index.queue("agent") == ([], 0)
    assert ids(index.queue("supervisor")[0]) == ["a-money"]
    store("a-money", pause(12.0))  # the reason came up while a frontline agent held it
    index.refresh()
    assert ids(index.queue("supervisor")[0]) == ["a-money"]
    store("a-money", pause(13.0, agent="supervisor", role="supervisor"))
    index.refresh()
    assert index.queue("supervisor") == ([], 0)


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("a-cust", ["a-customer-2"]),
        ("坏了", ["a-customer-2"]),
        ("壞了", ["a-customer-2"]),  # Traditional finds Simplified
        ("ＸＬ", ["a-other"]),  # full-width finds half-width, any case
        ("#7", ["a-other"]),
        ("%", []),  # a wildcard is a character like any other
        ("_", []),
        ("没有这句话", []),
    ],
)
def test_active_conversations_are_found_by_id_customer_or_words(store, index, query, found):
    store("a-customer-2", user("收到的杯子坏了", "report_quality_issue", 10.0))
    other = user("xl码还有吗", "ask_stock", 11.0)
    other["metadata"] = {}
    store("a-other", other)
    index.refresh()
    with index.engine.begin() as connection:  # a signed-in customer (signing is tested elsewhere)
        connection.execute(
            conversations.update()
            .where(conversations.c.conversation_id == "a-other")
            .values(customer_id=7)
        )
    assert ids(index.active(query=query).rows) == found


def test_pages_out_of_range_and_sizes_are_clamped(store, index):
    for n in range(5):
        store(f"a-{n}", user("在吗", "greet", float(n)))
    index.refresh()
    page = index.active(page=99, per_page=2)
    assert (page.page, page.pages, ids(page.rows)) == (3, 3, ["a-0"])
    assert index.active(page=0, per_page=0).per_page == 1
    assert index.active(per_page=10_000).per_page == conversation_index.MAX_PAGE_SIZE


def test_an_older_summary_never_replaces_a_newer_one(store, index):
    store("a-1", user("转人工", "request_human", 10.0))
    index.refresh()
    with index.engine.begin() as connection:
        index._upsert(connection, {**_row_of(index, "a-1"), "state": "bot", "last_event_id": 0})
        held = connection.execute(select(conversations.c.state)).scalar()
    assert held == "waiting"


def _row_of(index, conversation_id):
    with index.engine.connect() as connection:
        row = connection.execute(
            select(conversations).where(conversations.c.conversation_id == conversation_id)
        ).one()
    return dict(row._mapping)


def test_a_gap_in_the_event_ids_is_waited_for_then_passed(store, index):
    store("a-1", user("在吗", "greet", 1.0), event_id=1)
    store("a-2", user("在吗", "greet", 2.0), event_id=3)  # id 2 not committed yet
    index.refresh(now=1000.0)
    with index.engine.connect() as connection:
        assert index._cursor(connection) == 1
    store("a-3", user("我要投诉", "complain", 3.0), event_id=2)  # the late writer commits
    index.refresh(now=1001.0)
    assert ids(index.queue("agent")[0]) == ["a-3"]
    store("a-4", user("在吗", "greet", 4.0), event_id=5)  # id 4 never comes
    index.refresh(now=1002.0)
    index.refresh(now=1002.0 + conversation_index.GAP_GRACE_SECONDS)
    with index.engine.connect() as connection:
        assert index._cursor(connection) == 5


def test_a_tracker_store_that_starts_over_rebuilds_the_index(store, index):
    for n in range(3):
        store(f"a-{n}", user("转人工", "request_human", float(n)))
    index.refresh()
    with sqlite3.connect(store.path) as connection:
        connection.execute("DELETE FROM events")
    store("a-new", user("在吗", "greet", 9.0), event_id=1)
    index.refresh()
    assert index.queue("agent") == ([], 0) and ids(index.active().rows) == ["a-new"]


def test_a_missing_tracker_store_is_an_empty_index(tmp_path):
    index = ConversationIndex(
        f"sqlite:///{tmp_path / 'console.db'}", f"sqlite:///{tmp_path / 'none.db'}", KEY
    )
    assert index.refresh() == 0
    assert index.queue("supervisor") == ([], 0) and index.active().total == 0


def test_the_index_file_is_the_owners_alone_and_its_place_can_be_configured(
    store, index, tmp_path, monkeypatch
):
    store("a-1", user("在吗", "greet", 1.0))
    index.refresh()
    mode = stat.S_IMODE((tmp_path / "var" / "console.db").stat().st_mode)
    assert mode == 0o600
    monkeypatch.delenv(conversation_index.DATABASE_URL_ENV, raising=False)
    assert database_url(tmp_path) == f"sqlite:///{tmp_path.resolve() / 'console.db'}"
    monkeypatch.setenv(conversation_index.DATABASE_URL_ENV, "postgresql://console@db/console")
    assert database_url(tmp_path) == "postgresql://console@db/console"
