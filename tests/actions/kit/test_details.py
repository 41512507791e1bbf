"""Detail slots are filled with values of their own kind, and details given earlier are used."""

import asyncio

import pytest
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.kit.details import (
    ActionExtractDetails,
    recalled,
    topic_messages,
    typed_order_numbers,
)
from actions.take_detail import ActionTakeDetail
from tests.actions.conftest import make_tracker

ORDER = "2024112300123"


def said(text, intent="inform", entities=None):
    """A user event of the session."""
    return {
        "event": "user",
        "text": text,
        "parse_data": {"intent": {"name": intent}, "entities": entities or []},
    }


def slot(name, value):
    return {"event": "slot", "name": name, "value": value}


def extract(text, slots=None, entities=None, events=None, intent="inform"):
    tracker = make_tracker(text, intent, slots, entities=entities, events=events)
    events = asyncio.run(ActionExtractDetails().run(CollectingDispatcher(), tracker, {}))
    return {e["name"]: e["value"] for e in events}


def test_order_number_and_tail_in_one_message():
    assert extract(f"帮我查下订单{ORDER}，尾号1234") == {"order_id": ORDER, "phone_tail": "1234"}


def test_a_mobile_typed_as_the_return_parcel_number_overwrites_nothing():
    slots = {"order_id": ORDER, "phone_tail": "1234", "requested_slot": "return_tracking_number"}
    labelled = [{"entity": "phone_tail", "value": "13812345678"}]
    assert extract("寄出了 单号13812345678", slots, entities=labelled) == {}


def test_a_mobile_gives_the_tail_when_the_tail_is_asked_for():
    assert extract("13812345678", {"requested_slot": "phone_tail"}) == {"phone_tail": "5678"}


def test_a_tail_is_never_a_tracking_number():
    tail_as_parcel = [{"entity": "tracking_number", "value": "1234"}]
    assert extract("1234", entities=tail_as_parcel) == {}
    assert extract("尾号1234") == {"phone_tail": "1234"}


def test_an_order_number_after_danhao_is_an_order_number():
    assert extract(f"包裹到哪儿了 单号{ORDER}") == {"order_id": ORDER}


def test_height_weight_and_size_are_told_apart():
    assert extract("我165 体重110斤 穿什么码") == {"height": "165cm", "weight": "55kg"}
    assert extract("要XL码的") == {"size": "XL"}
    assert extract("看看", entities=[{"entity": "size", "value": "8866"}]) == {}


def test_a_value_already_in_the_slot_is_not_set_again():
    assert extract(f"订单{ORDER}", {"order_id": ORDER}) == {}


def test_details_of_a_message_rasa_reverted_are_set_again():
    """A "did you mean" question reverts the slots of the message before it."""
    events = [said(f"订单{ORDER} 尾号1234", intent="nlu_fallback"), {"event": "rewind"}]
    found = extract("/check_order_status", events=events, intent="check_order_status")
    assert found == {"order_id": ORDER, "phone_tail": "1234"}


def test_a_slot_emptied_by_an_action_is_not_refilled_from_before():
    events = [said(f"订单{ORDER} 尾号5678"), slot("order_id", None), slot("phone_tail", None)]
    assert extract("这就是我的单啊", events=events) == {}


@pytest.mark.parametrize(
    "correction, expected",
    [
        ("哦哦记错了 尾号是1234", {"phone_tail": "1234", "order_id": ORDER}),
        ("不好意思打错了 是2024112300124", {"order_id": "2024112300124", "phone_tail": "5678"}),
    ],
)
def test_after_not_found_the_other_half_of_the_proof_still_counts(correction, expected):
    events = [said(f"订单{ORDER} 尾号5678"), slot("order_id", None), slot("phone_tail", None)]
    events.append(said(correction))
    assert extract(correction, events=events) == expected


def test_a_new_session_starts_without_the_details_of_the_last():
    events = [said(f"订单{ORDER} 尾号1234"), {"event": "session_started"}]
    tracker = make_tracker("你好", "greet", events=events)
    assert recalled(tracker, "order_id") is None
    assert typed_order_numbers(tracker) == []


def test_topic_messages_reach_back_to_the_request_and_the_details_before_it():
    events = [
        said("T7油烟机多少钱", intent="ask_product_info"),
        said(f"订单{ORDER}"),
        said("衣服小了想换L码", intent="nlu_fallback"),
        said("/request_exchange", intent="request_exchange"),
        said("尾号1234"),
    ]
    tracker = make_tracker("尾号1234", events=events)
    texts = [m["text"] for m in topic_messages(tracker, ["request_exchange"])]
    assert texts == ["尾号1234", "/request_exchange", "衣服小了想换L码", f"订单{ORDER}"]


def take(text, slots=None):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text, "inform", slots)
    events = asyncio.run(ActionTakeDetail().run(dispatcher, tracker, {}))
    return [m["response"] for m in dispatcher.messages], events


def test_an_order_number_on_its_own_goes_on_with_the_order_question():
    assert take(ORDER, {"order_topic": "track_logistics"}) == (
        [],
        [FollowupAction("order_lookup_form")],
    )
    assert take(f"{ORDER}那个", {"order_topic": "request_return"}) == (
        [],
        [FollowupAction("return_form")],
    )


def test_an_order_number_with_no_question_gets_the_order_status():
    assert take(f"订单{ORDER} 尾号1234") == (
        [],
        [SlotSet("order_topic", "check_order_status"), FollowupAction("order_lookup_form")],
    )
    assert take("SF1234567890123 这个") == (
        [],
        [SlotSet("order_topic", "track_logistics"), FollowupAction("order_lookup_form")],
    )


def test_a_parcel_number_for_a_waiting_return_is_recorded():
    assert take("SF1234567890123", {"return_request_id": "7"}) == (
        [],
        [FollowupAction("action_record_return_shipment")],
    )


def test_a_height_goes_to_the_size_advice_and_anything_else_is_acknowledged():
    assert take("165 55kg") == ([], [FollowupAction("size_advice_form")])
    assert take("好的我知道了") == (["utter_inform_ack"], [])


def test_a_product_on_its_own_after_a_product_question_gets_the_same_question(shop):
    """ "T7油烟机多少钱" then "那燃气灶B5呢": the price and specs of the B5, not an acknowledgement."""
    events = [said("T7油烟机多少钱", intent="ask_product_info"), said("那燃气灶B5呢")]
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("那燃气灶B5呢", "inform", events=events)
    asyncio.run(ActionTakeDetail().run(dispatcher, tracker, {}))
    [message] = dispatcher.messages
    assert message["response"].startswith("utter_product_info")
    assert "B5" in message["product"]


def test_a_product_on_its_own_after_an_order_question_is_acknowledged():
    events = [said("帮我查下订单", intent="check_order_status"), said("那燃气灶B5呢")]
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("那燃气灶B5呢", "inform", events=events)
    assert asyncio.run(ActionTakeDetail().run(dispatcher, tracker, {})) == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_inform_ack"]
