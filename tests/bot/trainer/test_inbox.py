"""The inbox reads Rasa's tracker store incrementally and lists what most needs a person first."""

import json
import sqlite3

import pytest

from bot.agent.conversations import CORRECTED_BY_KEY, CORRECTED_FROM_KEY
from bot.trainer import inbox
from bot.trainer.store import engine_for

SCHEMA = (
    "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
    "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
    "action_name VARCHAR(255), data TEXT)"
)
T0 = 1_800_000_000.0  # a fixed moment; nothing here depends on today's date


def user(text, ranking, at, channel="socketio", fallback=False, metadata=None, entities=()):
    names = [{"name": n, "confidence": c} for n, c in ranking]
    if fallback:
        names = [{"name": "nlu_fallback", "confidence": 0.4}] + names
    return {
        "event": "user",
        "timestamp": at,
        "text": text,
        "input_channel": channel,
        "metadata": metadata or {},
        "parse_data": {
            "intent": names[0],
            "intent_ranking": names,
            "entities": list(entities),
            "text": text,
        },
    }


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "tracker.db"
    with sqlite3.connect(path) as db:
        db.execute(SCHEMA)

    def add(sender, *events):
        with sqlite3.connect(path) as db:
            for event in events:
                db.execute(
                    "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?,?,?,?)",
                    (sender, event["event"], event["timestamp"], json.dumps(event)),
                )

    add.url = f"sqlite:///{path}"
    return add


@pytest.fixture
def engine(tmp_path):
    return engine_for(f"sqlite:///{tmp_path / 'trainer.db'}")


def texts(entries):
    return [e["text"] for e in entries]


def test_order_is_fallback_then_corrected_then_low_margin_then_the_rest(store, engine):
    store(
        "a",
        user("还有货吗", [("ask_stock", 0.95), ("ask_gift", 0.02)], T0),
        user("这个能便宜不", [("ask_discount", 0.5), ("ask_gift", 0.4)], T0 + 1),
        user("嗯嗯那个啥", [("chitchat", 0.3), ("affirm", 0.2)], T0 + 2, fallback=True),
        user("裤子短了", [("report_quality_issue", 0.8), ("report_size_mismatch", 0.1)], T0 + 3),
        user(
            "裤子短了！", [("report_quality_issue", 0.8), ("report_size_mismatch", 0.1)], T0 + 3.5
        ),
        {"event": "rewind", "timestamp": T0 + 4},
        user(
            "裤子短了",
            [("report_size_mismatch", 1.0)],
            T0 + 4,
            metadata={CORRECTED_FROM_KEY: "report_quality_issue", CORRECTED_BY_KEY: "agent"},
        ),
        user("/greet", [("greet", 1.0)], T0 + 5),
        {"event": "bot", "timestamp": T0 + 6, "text": "亲在的"},
    )
    assert inbox.sync(engine, store.url) == 7  # the user events, the widget command included
    entries, total = inbox.page(engine, inbox.Filters())
    assert total == 4
    assert texts(entries) == ["嗯嗯那个啥", "裤子短了！", "这个能便宜不", "还有货吗"]
    fallback, corrected, close, rest = entries
    assert fallback["intent"] == "nlu_fallback" and fallback["guess"] == "chitchat"
    assert fallback["margin"] == pytest.approx(0.1) and fallback["priority"] == 0
    # the agent corrected the first of two near-duplicates: the group shows it, with its count
    assert corrected["suggested"] == "report_size_mismatch" and corrected["suggested_by"] == "agent"
    assert corrected["count"] == 2
    assert corrected["guess"] == "report_quality_issue"  # what the model read, not the correction
    assert close["priority"] == 2 and rest["priority"] == 3 and rest["channel"] == "socketio"


def test_near_duplicates_are_one_entry_with_their_count(store, engine):
    store("a", user("還有貨嗎？", [("ask_stock", 0.9)], T0))
    store("b", user("还有货吗", [("ask_stock", 0.9)], T0 + 1))
    store("c", user("还有 货吗!!", [("ask_stock", 0.9)], T0 + 2))
    store("c", user("能开发票吗", [("ask_invoice", 0.9)], T0 + 3))
    inbox.sync(engine, store.url)
    entries, total = inbox.page(engine, inbox.Filters())
    assert total == 2
    grouped = next(e for e in entries if e["count"] == 3)
    assert grouped["text"] == "还有 货吗!!"  # the newest of the group stands for it


def test_sync_is_incremental_and_decisions_stay(store, engine):
    store("a", user("在吗", [("greet", 0.99)], T0))
    inbox.sync(engine, store.url)
    first = inbox.page(engine, inbox.Filters())[0][0]
    inbox.decide(engine, inbox.message(engine, first["id"])["text_key"], "ignored")
    store("a", user("在不在", [("greet", 0.99)], T0 + 1))
    assert inbox.sync(engine, store.url) == 1  # only the new event is read
    assert texts(inbox.page(engine, inbox.Filters())[0]) == ["在不在"]
    assert texts(inbox.page(engine, inbox.Filters(status="ignored"))[0]) == ["在吗"]
    store("b", user("在吗？", [("greet", 0.99)], T0 + 2))  # joins its decided group
    inbox.sync(engine, store.url)
    assert texts(inbox.page(engine, inbox.Filters())[0]) == ["在不在"]
    ignored = inbox.page(engine, inbox.Filters(status="ignored"))[0]
    assert texts(ignored) == ["在吗？"] and ignored[0]["count"] == 2


def test_filters_and_search(store, engine):
    store("a", user("快递到哪了", [("track_logistics", 0.9)], T0, channel="rest"))
    store("b", user("快递怎么还不到", [("track_logistics", 0.5)], T0 + 86400))
    store("c", user("能开发票吗", [("ask_invoice", 0.9)], T0 + 2 * 86400))
    inbox.sync(engine, store.url)

    def shown(**filters):
        return sorted(texts(inbox.page(engine, inbox.Filters(**filters))[0]))

    assert shown(intent="track_logistics") == ["快递到哪了", "快递怎么还不到"]
    assert shown(channel="rest") == ["快递到哪了"]
    assert shown(since=T0 + 3600, until=T0 + 86400 + 3600) == ["快递怎么还不到"]
    assert shown(max_confidence=0.6) == ["快递怎么还不到"]
    assert shown(search="快递") == ["快递到哪了", "快递怎么还不到"]
    assert shown(search="%") == [] and shown(search="_") == []  # LIKE wildcards are literal
    assert shown(corrected=True) == []
    assert len(shown(corrected=False)) == 3


def test_paging_walks_every_group_once(store, engine):
    for n in range(130):
        store(f"s{n}", user(f"第{n}号问题", [("chitchat", 0.9), ("greet", 0.01)], T0 + n))
    inbox.sync(engine, store.url, most=100)  # two calls: the cursor carries on
    inbox.sync(engine, store.url)
    seen = []
    for offset in range(0, 200, 50):
        entries, total = inbox.page(engine, inbox.Filters(), offset=offset, size=50)
        seen += texts(entries)
    assert total == 130 and len(seen) == 130 and len(set(seen)) == 130
    assert seen[0] == "第129号问题"  # same priority: the newest first


def test_unreadable_events_are_passed_over_and_never_read_again(store, engine, tmp_path):
    import sqlite3 as db_module

    path = tmp_path / "tracker.db"
    with db_module.connect(path) as db:
        db.execute(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?,?,?,?)",
            ("c-bad", "user", T0, "{broken"),
        )
    assert inbox.sync(engine, store.url) == 1
    assert inbox.sync(engine, store.url) == 0  # the cursor moved past it
    store("c-1", user("还有货吗", [("ask_stock", 0.9)], T0 + 1))
    assert inbox.sync(engine, store.url) == 1


def test_an_empty_or_missing_store_gives_an_empty_inbox(tmp_path, engine):
    assert inbox.sync(engine, f"sqlite:///{tmp_path / 'none.db'}") == 0
    assert inbox.page(engine, inbox.Filters()) == ([], 0)
