"""Which replies answered a customer message, read from the record (`bot.resent_messages`)."""

from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)

from bot import resent_messages
from bot.resent_messages import recorded_replies
from tests.bot.rasa_methods import installed_once, rasa_original


def said(text, message_id=None):
    return UserUttered(text, metadata={"client_msg_id": message_id} if message_id else {})


def bot(text, **data):
    return BotUttered(text, data=data)


EVENTS = [
    SessionStarted(),
    said("你好", "m-1"),
    bot("亲，在的~"),
    ActionExecuted("action_listen"),
    said("包邮吗", "m-2"),
    SlotSet("product", None),
    bot("满99包邮哦", buttons=[{"title": "看看商品", "payload": "/ask_stock"}]),
    bot(None, custom={"card": "product"}),
    ActionExecuted("action_listen"),
    said("好的"),
    bot("好的亲"),
]


def test_the_replies_that_followed_the_message_in_their_order():
    replies = recorded_replies(EVENTS, "m-2", "包邮吗")
    assert [(r["text"], r.get("buttons"), r.get("custom")) for r in replies] == [
        ("满99包邮哦", [{"title": "看看商品", "payload": "/ask_stock"}], None),
        (None, None, {"card": "product"}),
    ]
    assert [r["text"] for r in recorded_replies(EVENTS, "m-1", "你好")] == ["亲，在的~"]


def test_a_message_not_in_the_record_is_new():
    assert recorded_replies(EVENTS, "m-3", "包邮吗") is None
    assert recorded_replies(EVENTS, "m-2", "还有货吗") is None  # the id with other words
    assert recorded_replies([], "m-1", "你好") is None


def test_only_the_current_session_counts():
    later_session = [*EVENTS, SessionStarted(), said("在吗", "m-9")]
    assert recorded_replies(later_session, "m-2", "包邮吗") is None
    assert recorded_replies(later_session, "m-9", "在吗") == []  # stored, not answered (paused)


def test_the_latest_copy_answers_when_an_id_was_stored_twice():
    twice = [*EVENTS, said("你好", "m-1"), bot("又见面啦")]
    assert [r["text"] for r in recorded_replies(twice, "m-1", "你好")] == ["又见面啦"]


def test_install_wraps_the_processor_once(monkeypatch):
    marker = resent_messages.MARKER
    originals = {
        "handle_message": rasa_original(MessageProcessor, "handle_message", marker),
        "get_tracker": rasa_original(MessageProcessor, "get_tracker", marker),
    }
    installed = installed_once(monkeypatch, resent_messages.install, MessageProcessor, originals)
    assert all(getattr(method, marker) for method in installed)
