"""Complaints: confirm, classify, offer policy options, record the choice and the follow-up."""

import asyncio
from datetime import timedelta

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.aftersale.complaints import (
    ActionAskComplaintOption,
    ActionFileComplaint,
    ValidateComplaintForm,
)
from shop import db
from shop.db import session_scope
from shop.db.models import ComplaintTicket
from shop.policy import aftersale as policy
from tests.actions.aftersale_shop import build_aftersale_shop, order_slots, run, tracker


@pytest.fixture
def shop(tmp_path, monkeypatch):
    ns = build_aftersale_shop(tmp_path, monkeypatch)
    yield ns
    db.reset()


def ticket_rows():
    with session_scope() as s:
        return [
            {
                "category": t.category,
                "severity": t.severity,
                "description": t.description,
                "demand": t.demand,
                "options": t.options_offered,
                "chosen": t.chosen_option,
                "compensation": t.compensation_fen,
                "escalated": t.escalated,
                "status": t.status,
                "follow_up_hours": round((t.follow_up_due - t.created_at) / timedelta(hours=1)),
            }
            for t in s.execute(select(ComplaintTicket)).scalars()
        ]


def complaint(description, demand, option=None, ticket=None):
    slots = order_slots(
        "fresh",
        complaint_description=description,
        complaint_demand=demand,
        complaint_option=option,
        complaint_ticket_id=ticket,
    )
    return tracker(slots)


def test_options_are_offered_as_buttons_and_the_ticket_opened(shop):
    [message], events = run(
        ActionAskComplaintOption(), complaint("快递员把包裹扔在门口还骂人", "要求道歉")
    )
    assert message["response"] == "utter_complaint_options"
    assert message["category"] == "attitude" and message["category_label"] == "服务态度"
    titles = [b["title"] for b in message["choices"]]
    assert titles == ["主管致电道歉", "赠送20元店铺券"]
    [row] = ticket_rows()
    assert row["options"] == titles and row["description"] == "快递员把包裹扔在门口还骂人"
    assert row["severity"] == "medium" and row["follow_up_hours"] == 24
    assert SlotSet("complaint_ticket_id", str(message["ticket_id"])) in events


def test_the_choice_and_follow_up_are_recorded(shop):
    [offer], events = run(ActionAskComplaintOption(), complaint("裤子开线了", "希望补发"))
    ticket_id = str(offer["ticket_id"])
    [message], events = run(
        ActionFileComplaint(),
        complaint("裤子开线了", "希望补发", "keep_with_compensation", ticket_id),
    )
    assert message["response"] == "utter_complaint_recorded"
    assert message["chosen_option"] == "保留商品并补偿20元" and message["compensation_fen"] == 2000
    [row] = ticket_rows()
    assert row["chosen"] == "保留商品并补偿20元" and row["compensation"] == 2000
    assert row["status"] == "open" and not row["escalated"]
    assert message["follow_up_by"] is not None
    assert SlotSet("complaint_ticket_id", None) in events


def test_what_the_frontline_may_not_grant_is_escalated(shop):
    tr = complaint("燃气灶漏气差点起火", "赔我1000元", "refund_return")
    [message], events = run(ActionFileComplaint(), tr)
    assert message["response"] == "utter_complaint_escalated"
    assert SlotSet("handoff_reason", "compensation_above_limit") in events
    [row] = ticket_rows()
    assert row["escalated"] and row["severity"] == "high" and row["follow_up_hours"] == 4


def test_a_safety_complaint_without_a_money_demand_is_escalated_as_a_complaint(shop):
    tr = complaint("热水器漏电 手一碰就麻", "上门检修", "refund_return")
    [message], events = run(ActionFileComplaint(), tr)
    assert message["response"] == "utter_complaint_escalated"
    assert SlotSet("handoff_reason", "complaint") in events


def test_classification():
    assert policy.classify_complaint("快递三天没更新") == ("logistics", "low")
    assert policy.classify_complaint("面霜用了过敏") == ("quality", "high")
    assert policy.classify_complaint("客服态度太差") == ("attitude", "medium")
    assert policy.demanded_amount_fen("赔偿 ¥88.5") == 8850
    assert policy.beyond_frontline("赔我30块", "low") is False
    assert policy.beyond_frontline("三倍赔偿", "low") is True


def test_option_picking():
    options = policy.complaint_options("quality")
    assert policy.pick_option("免费补发新品", options) == "reship"
    assert policy.pick_option("2", options) == "refund_return"
    assert policy.pick_option("第三个", options) == "keep_with_compensation"
    assert policy.pick_option("随便", options) is None


def validate(slots, text, intent, requested):
    domain = {
        "forms": {
            "complaint_form": {
                "required_slots": [
                    "order_id",
                    "phone_tail",
                    "complaint_description",
                    "complaint_demand",
                    "complaint_option",
                ]
            }
        },
        "slots": {},
    }
    dispatcher = CollectingDispatcher()
    tr = tracker({**slots, "requested_slot": requested}, text, intent)
    events = asyncio.run(ValidateComplaintForm().run(dispatcher, tr, domain))
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def test_the_complaint_message_itself_tells_what_happened(shop):
    _, slots = validate(order_slots("fresh"), "我要投诉，收到的裤子开线了", "complain", None)
    assert slots["complaint_description"] == "我要投诉，收到的裤子开线了"
    _, slots = validate(order_slots("fresh"), "我要投诉", "complain", None)
    assert "complaint_description" not in slots


def test_an_answer_that_is_not_an_option_is_asked_again(shop):
    slots = order_slots("fresh", complaint_description="裤子开线了", complaint_demand="补发")
    messages, found = validate(slots, "我再想想", "inform", "complaint_option")
    assert found["complaint_option"] is None
    assert messages[0]["response"] == "utter_invalid_complaint_option"
    messages, found = validate(slots, "1", "inform", "complaint_option")
    assert found["complaint_option"] == "reship" and messages == []


@pytest.mark.parametrize("intent", ["EXTERNAL_shipping_notice", "EXTERNAL_delay_apology"])
@pytest.mark.parametrize("asked", ["complaint_description", "complaint_demand"])
def test_a_notice_arriving_during_the_form_is_not_the_customers_answer(shop, intent, asked):
    """Rasa records an external event as the user message "EXTERNAL: <intent>"."""
    slots = order_slots("fresh", complaint_description="裤子开线了")
    if asked == "complaint_description":
        slots = order_slots("fresh")
    messages, found = validate(slots, f"EXTERNAL: {intent}", intent, asked)
    assert asked not in found and messages == []
    _, found = validate(slots, f"EXTERNAL: {intent}", "inform", asked)  # the same words, typed
    assert found[asked] == f"EXTERNAL: {intent}"


def test_a_notice_arriving_while_the_options_are_offered_is_not_a_wrong_pick(shop):
    slots = order_slots("fresh", complaint_description="裤子开线了", complaint_demand="补发")
    messages, found = validate(
        slots, "EXTERNAL: EXTERNAL_follow_up_visit", "EXTERNAL_follow_up_visit", "complaint_option"
    )
    assert "complaint_option" not in found and messages == []


@pytest.mark.parametrize("bad", ["9" * 40, "-1", "'; DROP TABLE complaint_tickets; --"])
def test_a_bad_ticket_id_opens_a_fresh_ticket(shop, bad):
    [message], _ = run(ActionFileComplaint(), complaint("裤子开线了", "补发", "reship", bad))
    assert message["response"] == "utter_complaint_recorded"
    assert len(ticket_rows()) == 1


BRACES_AND_NONE = ["{name}的裤子开线了", "客服说{…}然后就不理我了", "None 就是你们给我的回复", "{}"]


@pytest.mark.parametrize("text", BRACES_AND_NONE)
def test_braces_or_none_in_a_complaint_are_stored_and_offered_as_written(shop, text):
    _, found = validate(order_slots("fresh"), text, "inform", "complaint_description")
    assert found["complaint_description"] == text
    slots = order_slots("fresh", complaint_description=text)
    _, found = validate(slots, f"{text}，要求道歉", "inform", "complaint_demand")
    assert found["complaint_demand"] == f"{text}，要求道歉"
    [message], _ = run(ActionAskComplaintOption(), complaint(text, f"{text}，要求道歉"))
    assert message["response"] == "utter_complaint_options"
    assert message["description"] == text and message["demand"] == f"{text}，要求道歉"
    [row] = ticket_rows()
    assert row["description"] == text and row["demand"] == f"{text}，要求道歉"


@pytest.mark.parametrize("text", BRACES_AND_NONE)
def test_braces_or_none_in_a_complaint_are_shown_back_to_the_customer(shop, text):
    from bot.nlg.renderer import Renderer

    [message], _ = run(ActionAskComplaintOption(), complaint(text, "要求道歉"))
    facts = {k: v for k, v in message.items() if k not in ("response", "template")}
    rendered = Renderer(strict=True).render(
        {"response": message["response"], "arguments": facts, "tracker": {"slots": {}}}
    )
    assert f"「{text}」" in rendered["text"]
