"""Conversations through the real Rasa server and action server over the REST channel."""

import json
import urllib.error

import pytest

from tests.e2e.conftest import texts

pytestmark = pytest.mark.e2e


def test_simplified_greeting(assistant, sender, responses):
    assert texts(assistant.say(sender, "亲在吗")) == responses["utter_greet"]


def test_traditional_question_gets_the_same_answer(assistant, sender, responses):
    assert (
        texts(assistant.say(sender, "請問你們家賣的是正品嗎？？"))
        == responses["utter_authenticity"]
    )
    assert (
        texts(assistant.say(sender + "-s", "请问你们家卖的是正品吗"))
        == responses["utter_authenticity"]
    )


def test_order_question_asks_for_order_and_phone_tail(assistant, sender, responses, shop_order):
    order_id, tail = shop_order["order_id"], shop_order["phone_tail"]
    assert texts(assistant.say(sender, "幫我查下訂單")) == responses["utter_ask_order_id"]
    assert texts(assistant.say(sender, "12345")) == (
        responses["utter_invalid_order_id"] + responses["utter_ask_order_id"]
    )
    wide = order_id.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    assert texts(assistant.say(sender, wide)) == responses["utter_ask_phone_tail"]
    [answer] = texts(assistant.say(sender, tail))
    assert order_id in answer
    assert "None" not in answer and "{" not in answer
    slots = assistant.tracker(sender)["slots"]
    assert slots["order_id"] == order_id
    assert slots["phone_tail"] == tail


def test_someone_elses_order_is_not_shown(assistant, sender, responses, shop_order):
    order_id, tail = shop_order["order_id"], shop_order["phone_tail"]
    wrong_tail = "0000" if tail != "0000" else "1111"
    assistant.say(sender, "幫我查下訂單")
    assistant.say(sender, order_id)
    assert texts(assistant.say(sender, wrong_tail)) == responses["utter_order_not_found"]


def test_request_for_a_human_marks_the_conversation(assistant, sender, responses):
    assert texts(assistant.say(sender, "转人工")) == responses["utter_handoff"]
    tracker = assistant.tracker(sender)
    assert tracker["slots"]["handoff_reason"] == "customer_request"
    assert any(
        e["event"] == "slot" and e["name"] == "handoff_reason" and e["value"] == "customer_request"
        for e in tracker["events"]
    )


def test_persona_choice_changes_the_voice(assistant, sender):
    [reply] = texts(assistant.say(sender, "我要疯癫组的客服"))
    assert "疯癫组" in reply
    assert assistant.tracker(sender)["slots"]["persona"] == "crazy"


def test_keyboard_mashing_is_asked_to_rephrase_then_offered_a_human(assistant, sender, responses):
    assert texts(assistant.say(sender, "zxqv blorp")) == responses["utter_ask_rephrase"]
    final = assistant.say(sender, "qwfp zzkx")
    assert texts(final) == responses["utter_default"]
    assert "/request_human" in [b["payload"] for b in final[0]["buttons"]]


def test_a_clear_message_after_a_rephrase_request_is_answered(assistant, sender, responses):
    assistant.say(sender, "zxqv blorp")
    [reply] = texts(assistant.say(sender, "包邮吗"))
    assert "包邮" in reply and "{" not in reply


@pytest.mark.parametrize(
    "text",
    [
        "<img src=x onerror=alert(1)>",
        "'; DROP TABLE events; --",
        "😡😡😡😡",
        "包邮吗" * 166,  # just under the length limit (an over-long one: a test below)
        "包\u200b邮吗",  # a zero-width space inside
    ],
)
def test_hostile_or_odd_input_is_answered_and_kept_verbatim(assistant, sender, text):
    replies = assistant.say(sender, text)
    events = assistant.tracker(sender)["events"]
    user_texts = [e.get("text") for e in events if e["event"] == "user"]
    assert replies, "the customer must get an answer"
    assert text in user_texts


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\u3000\u3000"])
def test_an_empty_or_blank_message_is_refused_with_a_reason(assistant, sender, text):
    with pytest.raises(urllib.error.HTTPError) as refused:
        assistant.say(sender, text)
    assert refused.value.code == 400
    answer = json.loads(refused.value.read())
    assert answer["error"] == "empty_message" and answer["reason"]
    assert not [e for e in assistant.tracker(sender)["events"] if e["event"] == "user"]
    assert texts(assistant.say(sender, "包邮吗")), "the conversation goes on"


def test_an_over_long_message_is_refused_with_a_reason_without_reaching_nlu(assistant, sender):
    from bot.web.limits import MAX_MESSAGE_CHARS

    with pytest.raises(urllib.error.HTTPError) as refused:
        assistant.say(sender, "快递到哪了" * 200)
    assert refused.value.code == 400
    assert json.loads(refused.value.read())["error"] == "message_too_long"
    assert not [e for e in assistant.tracker(sender)["events"] if e["event"] == "user"]
    assert texts(assistant.say(sender, "快" * MAX_MESSAGE_CHARS))


def test_a_message_sent_again_is_answered_from_the_record_once(assistant, sender):
    # a client that got no answer sends the same message with the same id again
    first = assistant.say(sender, "转人工", {"client_msg_id": "m-1"})
    assert texts(first)
    assert assistant.say(sender, "转人工", {"client_msg_id": "m-1"}) == first
    other_words = assistant.say(sender, "包邮吗", {"client_msg_id": "m-1"})  # a client's own reuse
    assert texts(other_words) and other_words != first
    assistant.say(sender, "转人工", {"client_msg_id": "m-2"})
    said = [
        (event["text"], event["metadata"].get("client_msg_id"))
        for event in assistant.tracker(sender)["events"]
        if event["event"] == "user"
    ]
    assert said == [("转人工", "m-1"), ("包邮吗", "m-1"), ("转人工", "m-2")]
    handoffs = [
        e
        for e in assistant.tracker(sender)["events"]
        if e["event"] == "slot" and e["name"] == "handoff_reason"
    ]
    assert len(handoffs) == 2  # the copy of m-1 did not hand the conversation over again
