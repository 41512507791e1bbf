"""The conversation vocabulary: customer text, widget commands and external events told apart."""

import ast
from pathlib import Path

import pytest
from rasa.shared.core.constants import IS_EXTERNAL
from rasa.shared.core.events import UserUttered

from shop import conversation
from shop.conversation import (
    customer_words,
    external_intent,
    intent_name,
    is_command,
    is_customer_text,
    is_external,
    is_external_intent,
    latest_customer_index,
    latest_customer_message,
)

SHOP = Path(conversation.__file__).resolve().parent


def user(text, intent="inform", message_id="m", metadata=None):
    return {
        "event": "user",
        "text": text,
        "parse_data": {"intent": {"name": intent, "confidence": 0.9}, "entities": []},
        "message_id": message_id,
        "metadata": metadata or {},
    }


def bot(text):
    return {"event": "bot", "text": text, "data": {}, "metadata": {}}


def test_the_shops_external_intents_are_named_with_one_prefix():
    assert external_intent("shipping_notice") == "EXTERNAL_shipping_notice"
    assert is_external_intent(external_intent("formula_runout"))
    for name in ("inform", "external_shipping_notice", "EXTERNAL", "", None, 3):
        assert not is_external_intent(name), name


def test_an_external_event_as_rasa_records_it_is_not_customer_text():
    trigger = UserUttered.create_external(
        "EXTERNAL_shipping_notice", [{"entity": "goods", "value": "每日坚果"}], "socketio"
    ).as_dict()
    assert is_external(trigger)
    assert not is_customer_text(trigger)
    assert customer_words(trigger["parse_data"]) == ""
    assert intent_name(trigger) == "EXTERNAL_shipping_notice"


def test_rasas_own_external_flag_counts_whatever_the_intent_is_called():
    assert conversation.EXTERNAL_METADATA_KEY == IS_EXTERNAL
    flagged = UserUttered.create_external("follow_up_visit").as_dict()
    assert intent_name(flagged) == "follow_up_visit"
    assert is_external(flagged) and not is_customer_text(flagged)
    assert is_external({"text": "x", "intent": {"name": "inform"}, "metadata": {IS_EXTERNAL: True}})
    assert not is_external(user("在吗", metadata={IS_EXTERNAL: False}))


def test_words_a_customer_types_are_theirs_even_when_they_look_like_a_notice():
    typed = user("EXTERNAL: EXTERNAL_shipping_notice", intent="inform")
    assert is_customer_text(typed) and not is_external(typed)
    assert customer_words(typed) == "EXTERNAL: EXTERNAL_shipping_notice"


@pytest.mark.parametrize(
    "event",
    [
        user("/greet", intent="greet"),
        user('/choose_persona{"persona": "lady"}', intent="choose_persona"),
        user("", intent="inform"),
        user(None, intent="inform"),
        user("EXTERNAL: EXTERNAL_run_out", intent="EXTERNAL_run_out"),
        bot("亲，在的"),
        {"event": "slot", "name": "persona", "value": "lady"},
        {},
    ],
)
def test_commands_empty_messages_triggers_and_other_events_are_not_customer_text(event):
    assert not is_customer_text(event)


def test_a_typed_message_is_customer_text_whatever_its_intent():
    assert is_customer_text(user("我的快递到哪了", intent="track_logistics"))
    assert is_customer_text(user("嗯嗯", intent="nlu_fallback"))
    assert is_customer_text({"event": "user", "text": "在吗"})  # no NLU reading at all


def test_intent_name_reads_events_and_parsed_messages_alike():
    event = user("我要退货", intent="request_return")
    assert intent_name(event) == "request_return"
    assert intent_name(event["parse_data"]) == "request_return"
    assert intent_name({"event": "user", "text": "x"}) == ""
    assert intent_name({"intent": "inform"}) == ""  # malformed: no name, not a crash
    assert intent_name({"intent": {"name": 5}}) == ""


def test_customer_words_are_the_messages_text_unchanged_or_nothing():
    assert customer_words({"text": "  订单 123 ", "intent": {"name": "inform"}}) == "  订单 123 "
    assert customer_words({"intent": {"name": "inform"}}) == ""
    assert customer_words({"text": 42, "intent": {"name": "inform"}}) == ""
    notice = {
        "text": "EXTERNAL: EXTERNAL_delay_apology",
        "intent": {"name": "EXTERNAL_delay_apology"},
    }
    assert customer_words(notice) == ""


def test_latest_customer_message_skips_commands_triggers_and_replies():
    events = [
        user("在吗", message_id="m0"),
        user("我的快递到哪了", intent="track_logistics", message_id="m1"),
        bot("亲，您的包裹已到达上海转运中心"),
        user("/greet", intent="greet", message_id="m2"),
        user("/EXTERNAL_reminder", intent="EXTERNAL_reminder", message_id="m3"),
        user("", intent="EXTERNAL_run_out", message_id="m4"),
    ]
    assert latest_customer_index(events) == 1
    assert latest_customer_message(events)["message_id"] == "m1"
    events.append(user("还有一个问题", message_id="m5"))
    assert latest_customer_index(events) == 6
    assert latest_customer_message(events)["message_id"] == "m5"


def test_latest_customer_message_is_none_before_the_customer_typed_anything():
    assert latest_customer_index([]) is None
    assert latest_customer_message([]) is None
    assert latest_customer_message([user("/greet", intent="greet"), bot("您好")]) is None


def _imported_modules(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module


def test_the_shop_core_imports_nothing_from_rasa_the_actions_or_the_platform():
    forbidden = ("rasa", "rasa_sdk", "actions", "bot")
    offenders = [
        f"{path.relative_to(SHOP.parent)}: {module}"
        for path in sorted(SHOP.rglob("*.py"))
        for module in _imported_modules(path)
        if module.split(".")[0] in forbidden
    ]
    assert offenders == []


def test_the_import_check_sees_what_a_module_imports():
    found = set(_imported_modules(Path(__file__)))
    assert {"rasa.shared.core.events", "shop", "pytest"} <= found


@pytest.mark.parametrize(
    "event",
    [
        user("/ 怎么还没发货", intent="ask_delivery_time"),
        user("/退货", intent="request_return"),  # not an intent Rasa knows: read by the NLU
        user("/greet 你们这什么破店", intent="complain"),
        user("/", intent="nlu_fallback"),
    ],
)
def test_typed_text_that_only_starts_with_a_slash_is_the_customers(event):
    assert is_customer_text(event)
    assert latest_customer_message([event]) is event


def test_a_command_is_text_naming_the_intent_rasa_recorded():
    assert is_command(user("/greet", intent="greet"))
    assert is_command(user(' /choose_persona{"persona": "lady"}', intent="choose_persona"))
    assert is_command(user("/ask_stock@0.9", intent="ask_stock"))
    assert not is_command(user("/greet", intent="complain"))
    assert not is_command({"event": "user", "text": None})
