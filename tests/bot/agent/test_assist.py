"""Suggestion cache, the waiting customer message in the tracker store, and decision records."""

import asyncio
import json
import sqlite3
import time

import pytest

from bot.agent import assist
from bot.agent.accounts import StaffSession
from bot.agent.wakeups import FALLBACK_SECONDS, ConversationSignals
from bot.rasa_client import RasaUnavailable

CONVERSATION = "web-3f2a9c"
T0 = 1_718_000_000.0
SCHEMA = (
    "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
    "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
    "action_name VARCHAR(255), data TEXT)"
)
STAFF = StaffSession(
    agent_id=7,
    username="xiaomei",
    display_name="小美",
    role="agent",
    compensation_limit_fen=5000,
    nonce="0" * 32,
    issued=0,
)
SUGGESTION = {
    "rank": 1,
    "source": "bot",
    "intent": "ask_delivery_time",
    "confidence": 0.93,
    "text": "亲，今天下午三点前付款当天发货哦",
    "action": "utter_delivery_time",
    "compensation_fen": 0,
    "cards": [{"type": "order", "order_number": "E20240610001"}],
}


def user(text, message_id, intent="ask_delivery_time", timestamp=T0):
    return {
        "event": "user",
        "timestamp": timestamp,
        "text": text,
        "parse_data": {"intent": {"name": intent, "confidence": 0.9}, "entities": []},
        "message_id": message_id,
        "metadata": {},
    }


def bot(text, sender=None):
    event = {"event": "bot", "text": text, "data": {}, "metadata": {}}
    if sender:
        event["metadata"] = {"sender": sender}
    return event


def marker(kind):
    return {"event": kind}


def store(db, events, sender=CONVERSATION):
    """Appends events as Rasa's SQL tracker store does (one row each, JSON in `data`)."""
    with sqlite3.connect(db) as connection:
        for event in events:
            event.setdefault("timestamp", T0)
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            connection.execute(
                "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name,"
                " data) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    sender,
                    event["event"],
                    event["timestamp"],
                    intent,
                    event.get("name"),
                    json.dumps(event, ensure_ascii=False),
                ),
            )


def url(path):
    """The SQLAlchemy URL of a tracker store file, as the console is configured with it."""
    return f"sqlite:///{path}"


@pytest.fixture
def tracker_db(tmp_path):
    path = tmp_path / "rasa.db"
    with sqlite3.connect(path) as connection:
        connection.execute(SCHEMA)
    return path


# SuggestionCache


def test_cache_keeps_a_set_per_conversation_message_and_authority():
    cache = assist.SuggestionCache()
    found = {"message_id": "m1", "suggestions": [SUGGESTION]}
    cache.put(CONVERSATION, found, 5000)
    assert cache.get(CONVERSATION, "m1", 5000) is found
    assert cache.get(CONVERSATION, "m1", 50000) is None
    assert cache.get(CONVERSATION, "m2", 5000) is None
    assert cache.get("web-other", "m1", 5000) is None


def test_forget_drops_every_authoritys_set_of_that_message_only():
    cache = assist.SuggestionCache()
    cache.put(CONVERSATION, {"message_id": "m1"}, 5000)
    cache.put(CONVERSATION, {"message_id": "m1"}, 50000)
    cache.put(CONVERSATION, {"message_id": "m2"}, 5000)
    cache.put("web-other", {"message_id": "m1"}, 5000)
    cache.forget(CONVERSATION, "m1")
    assert cache.get(CONVERSATION, "m1", 5000) is None
    assert cache.get(CONVERSATION, "m1", 50000) is None
    assert cache.get(CONVERSATION, "m2", 5000) is not None
    assert cache.get("web-other", "m1", 5000) is not None


def test_cache_size_limit_evicts_the_oldest_put():
    cache = assist.SuggestionCache(size=2)
    cache.put("a", {"message_id": "m"}, 0)
    cache.put("b", {"message_id": "m"}, 0)
    cache.put("a", {"message_id": "m"}, 0)  # put again: now the newest
    cache.put("c", {"message_id": "m"}, 0)
    assert cache.get("b", "m", 0) is None
    assert cache.get("a", "m", 0) is not None
    assert cache.get("c", "m", 0) is not None


class CountingFetch:
    """An injected async fetch that waits for a gate and counts how often it ran."""

    def __init__(self, failures=0):
        self.calls = 0
        self.failures = failures
        self.gate = asyncio.Event()

    async def __call__(self):
        self.calls += 1
        await self.gate.wait()
        if self.calls <= self.failures:
            raise RasaUnavailable("assist suggestions answered 503")
        return {"message_id": "m1", "suggestions": [SUGGESTION], "call": self.calls}


def test_concurrent_callers_share_one_fetch_and_later_ones_use_the_cache():
    async def scenario():
        cache = assist.SuggestionCache()
        fetch = CountingFetch()
        callers = [
            asyncio.create_task(cache.fetch_once(CONVERSATION, "m1", 5000, fetch)) for _ in range(3)
        ]
        await asyncio.sleep(0.01)
        fetch.gate.set()
        results = await asyncio.gather(*callers)
        later = await cache.fetch_once(CONVERSATION, "m1", 5000, fetch)
        return fetch.calls, results, later

    calls, results, later = asyncio.run(scenario())
    assert calls == 1
    assert all(result is results[0] for result in results)
    assert later is results[0]


def test_another_authority_is_fetched_separately():
    async def scenario():
        cache = assist.SuggestionCache()
        fetch = CountingFetch()
        fetch.gate.set()
        await cache.fetch_once(CONVERSATION, "m1", 5000, fetch)
        await cache.fetch_once(CONVERSATION, "m1", 50000, fetch)
        return fetch.calls

    assert asyncio.run(scenario()) == 2


def test_a_failed_fetch_fails_every_waiting_caller_and_is_not_cached():
    async def scenario():
        cache = assist.SuggestionCache()
        fetch = CountingFetch(failures=1)
        callers = [
            asyncio.create_task(cache.fetch_once(CONVERSATION, "m1", 5000, fetch)) for _ in range(2)
        ]
        await asyncio.sleep(0.01)
        fetch.gate.set()
        outcomes = await asyncio.gather(*callers, return_exceptions=True)
        calls_after_failure = fetch.calls
        retried = await cache.fetch_once(CONVERSATION, "m1", 5000, fetch)
        return outcomes, calls_after_failure, retried, fetch.calls

    outcomes, calls_after_failure, retried, calls = asyncio.run(scenario())
    assert [type(outcome) for outcome in outcomes] == [RasaUnavailable, RasaUnavailable]
    assert calls_after_failure == 1
    assert retried["call"] == 2
    assert calls == 2


def test_cancelling_the_first_caller_does_not_fail_the_others():
    async def scenario():
        cache = assist.SuggestionCache()
        fetch = CountingFetch()
        first = asyncio.create_task(cache.fetch_once(CONVERSATION, "m1", 5000, fetch))
        await asyncio.sleep(0.01)
        second = asyncio.create_task(cache.fetch_once(CONVERSATION, "m1", 5000, fetch))
        await asyncio.sleep(0.01)
        first.cancel()
        await asyncio.sleep(0.01)
        fetch.gate.set()
        return await asyncio.wait_for(second, 1.0)

    assert asyncio.run(scenario())["message_id"] == "m1"


# latest_state


def test_held_conversation_with_an_unanswered_message(tracker_db):
    store(
        tracker_db, [user("你好", "m0"), bot("亲，您好"), user("我要退货", "m1"), marker("pause")]
    )
    assert assist.latest_state(url(tracker_db), CONVERSATION) == ("m1", True)


def test_message_after_the_pause_waits_too(tracker_db):
    store(
        tracker_db,
        [marker("pause"), user("我要退货", "m1"), {"event": "action", "name": "action_listen"}],
    )
    assert assist.latest_state(url(tracker_db), CONVERSATION) == ("m1", True)


def test_a_long_conversation_stays_held(tracker_db):
    talk = []
    for n in range(80):
        talk += [user(f"问题{n}", f"q{n}"), bot(f"回复{n}", "agent")]
    store(tracker_db, [marker("pause"), *talk, user("还有一个问题", "last")])
    assert assist.latest_state(url(tracker_db), CONVERSATION) == ("last", True)


@pytest.mark.parametrize("sender", [None, "bot", "agent"])
def test_an_answered_message_waits_for_nothing(tracker_db, sender):
    store(tracker_db, [marker("pause"), user("我要退货", "m1"), bot("亲，马上为您处理", sender)])
    assert assist.latest_state(url(tracker_db), CONVERSATION) == (None, True)


def test_a_system_notice_is_no_answer(tracker_db):
    store(
        tracker_db,
        [user("我要退货", "m1"), marker("pause"), bot("客服小美已加入对话", "system")],
    )
    assert assist.latest_state(url(tracker_db), CONVERSATION) == ("m1", True)


def test_widget_commands_and_external_intents_are_not_customer_messages(tracker_db):
    store(
        tracker_db,
        [
            marker("pause"),
            user("我要退货", "m1"),
            user("/greet", "m2", intent="greet"),
            user("/EXTERNAL_reminder", "m3", intent="EXTERNAL_reminder"),
        ],
    )
    assert assist.latest_state(url(tracker_db), CONVERSATION) == ("m1", True)


def test_an_answer_to_a_widget_command_answers_the_customer_too(tracker_db):
    store(
        tracker_db,
        [
            marker("pause"),
            user("我要退货", "m1"),
            user("/greet", "m2", intent="greet"),
            bot("您好"),
        ],
    )
    assert assist.latest_state(url(tracker_db), CONVERSATION) == (None, True)


@pytest.mark.parametrize("kind", ["resume", "session_started"])
def test_resume_or_a_new_session_means_not_held(tracker_db, kind):
    store(tracker_db, [marker("pause"), user("我要退货", "m1"), marker(kind)])
    assert assist.latest_state(url(tracker_db), CONVERSATION) == ("m1", False)


def test_pause_after_resume_holds_again(tracker_db):
    store(tracker_db, [marker("pause"), marker("resume"), user("我要退货", "m1"), marker("pause")])
    assert assist.latest_state(url(tracker_db), CONVERSATION) == ("m1", True)


def test_never_paused_is_not_held(tracker_db):
    store(tracker_db, [user("我要退货", "m1")])
    assert assist.latest_state(url(tracker_db), CONVERSATION) == ("m1", False)


def test_other_conversations_rows_do_not_count(tracker_db):
    store(tracker_db, [marker("pause"), user("我要退货", "m1")])
    store(tracker_db, [bot("亲，马上为您处理", "agent"), marker("resume")], sender="web-other")
    assert assist.latest_state(url(tracker_db), CONVERSATION) == ("m1", True)
    assert assist.latest_state(url(tracker_db), "web-other") == (None, False)


def test_missing_store_or_table_reads_as_nothing(tmp_path):
    assert assist.latest_state(url(tmp_path / "absent.db"), CONVERSATION) == (None, False)
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    assert assist.latest_state(url(empty), CONVERSATION) == (None, False)


# wait_for_message

SIGNALS = (
    ConversationSignals()
)  # nobody pushes: the store is read at the start and after each second


def test_wait_returns_at_once_when_a_message_waits(tracker_db):
    store(tracker_db, [marker("pause"), user("我要退货", "m1")])
    started = time.monotonic()
    found = asyncio.run(assist.wait_for_message(url(tracker_db), CONVERSATION, None, 5.0, SIGNALS))
    assert found == ("m1", True)
    assert time.monotonic() - started < 0.5


def test_wait_until_the_timeout_when_only_the_known_message_waits(tracker_db):
    store(tracker_db, [marker("pause"), user("我要退货", "m1")])
    started = time.monotonic()
    found = asyncio.run(assist.wait_for_message(url(tracker_db), CONVERSATION, "m1", 0.2, SIGNALS))
    elapsed = time.monotonic() - started
    assert found == ("m1", True)
    assert 0.2 <= elapsed < 0.7


def test_wait_until_the_timeout_when_not_held(tracker_db):
    store(tracker_db, [user("我要退货", "m1")])
    started = time.monotonic()
    found = asyncio.run(assist.wait_for_message(url(tracker_db), CONVERSATION, None, 0.2, SIGNALS))
    elapsed = time.monotonic() - started
    assert found == ("m1", False)
    assert 0.2 <= elapsed < 0.7


@pytest.mark.parametrize("pushed", [True, False])
def test_a_push_wakes_the_wait_at_once_and_a_lost_one_costs_the_fallback(tracker_db, pushed):
    store(tracker_db, [marker("pause"), user("我要退货", "m1"), bot("好的", "agent")])
    signals = ConversationSignals()

    async def scenario():
        def arrive():
            store(tracker_db, [user("退货地址是哪里", "m2")])
            if pushed:
                assert signals.notify(CONVERSATION) == 1
            assert signals.notify("someone-else") == 0

        asyncio.get_running_loop().call_later(0.15, arrive)
        started = time.monotonic()
        found = await assist.wait_for_message(url(tracker_db), CONVERSATION, "m1", 5.0, signals)
        return found, time.monotonic() - started

    found, elapsed = asyncio.run(scenario())
    assert found == ("m2", True)
    if pushed:
        assert 0.15 <= elapsed < 0.6
    else:
        assert FALLBACK_SECONDS - 0.05 <= elapsed < FALLBACK_SECONDS + 1.0


# events and decisions


def test_shown_event_lists_the_suggestions_without_their_internals():
    found = {"message_id": "m1", "suggestions": [SUGGESTION]}
    assert assist.shown_event(found, STAFF) == {
        "event": "agent",
        "text": None,
        "data": {
            "assist": "shown",
            "for_message": "m1",
            "agent": "xiaomei",
            "suggestions": [
                {
                    "rank": 1,
                    "source": "bot",
                    "intent": "ask_delivery_time",
                    "confidence": 0.93,
                    "text": "亲，今天下午三点前付款当天发货哦",
                }
            ],
        },
    }


def test_rejected_event():
    assert assist.rejected_event("m1", SUGGESTION, STAFF) == {
        "event": "agent",
        "text": None,
        "data": {
            "assist": "rejected",
            "for_message": "m1",
            "agent": "xiaomei",
            "rank": 1,
            "source": "bot",
            "intent": "ask_delivery_time",
        },
    }


def test_decision_accepted_unchanged():
    record = assist.decision(SUGGESTION["text"], SUGGESTION, user("几点发货", "m1"), T0 + 12.5)
    assert record == {
        "decision": "accepted",
        "rank": 1,
        "source": "bot",
        "intent": "ask_delivery_time",
        "confidence": 0.93,
        "for_message": "m1",
        "edit_distance": 0,
        "seconds_to_send": 12.5,
    }


def test_decision_edited_counts_the_changed_characters():
    sent = "亲，今天下午四点前付款当天发货哦！"
    record = assist.decision(sent, SUGGESTION, user("几点发货", "m1"), T0 + 30)
    assert record["decision"] == "edited"
    assert record["edit_distance"] == 2
    assert record["rank"] == 1
    assert record["seconds_to_send"] == 30.0


def test_decision_written_without_a_suggestion():
    record = assist.decision("亲，我帮您查一下", None, user("几点发货", "m1"), T0 + 4.25)
    assert record == {
        "decision": "written",
        "rank": None,
        "source": None,
        "intent": None,
        "confidence": None,
        "for_message": "m1",
        "edit_distance": 0,
        "seconds_to_send": 4.25,
    }


def test_decision_without_a_customer_message_or_with_a_clock_behind():
    assert assist.decision("您好", None, None, T0)["seconds_to_send"] == 0
    assert assist.decision("您好", None, None, T0)["for_message"] is None
    assert assist.decision("您好", None, user("在吗", "m1"), T0 - 3)["seconds_to_send"] == 0


def test_card_events_are_sent_as_the_agent():
    assert assist.card_events(SUGGESTION, STAFF) == [
        {
            "event": "bot",
            "text": None,
            "data": {"custom": {"type": "order", "order_number": "E20240610001"}},
            "metadata": {"sender": "agent", "agent": "xiaomei", "agent_name": "小美"},
        }
    ]
    assert assist.card_events({"text": "好的"}, STAFF) == []
