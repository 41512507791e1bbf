"""Logistics tracking against a fresh seeded SQLite per test: events, chases, investigations."""

import asyncio
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.orders.logistics import ActionTrackLogistics
from shop import db
from shop.db.models import ComplaintTicket
from tests.actions.kit.test_identity import HUGE, SQLISH, H, build_shop, signed, tracker_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEAD_DATABASE = "postgresql://shop@127.0.0.1:1/shop?connect_timeout=2"


@pytest.fixture
def shop(tmp_path, monkeypatch):
    ns = build_shop(tmp_path, monkeypatch)
    yield ns
    db.reset()


def track(text="物流到哪了", **slots):
    dispatcher = CollectingDispatcher()
    metadata = slots.pop("metadata", None)
    tracker = tracker_for(text, slots, metadata)
    events = asyncio.run(ActionTrackLogistics().run(dispatcher, tracker, {}))
    assert len(dispatcher.messages) == 1
    return dispatcher.messages[0], events


def tickets():
    with db.session_scope() as session:
        rows = session.execute(select(ComplaintTicket).order_by(ComplaintTicket.id)).scalars()
        return [
            (t.kind, t.category, t.shipment_id, t.status, t.follow_up_due - t.created_at)
            for t in rows
        ]


def at(moment):
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def test_name_matches_the_domain():
    assert ActionTrackLogistics().name() == "action_track_logistics"


def test_parcel_in_transit_shows_the_latest_three_events_in_shanghai_time(shop):
    message, events = track(order_id="2024112000003", phone_tail="1234")
    assert events == []
    assert message["response"] == "utter_logistics_in_transit"
    assert message["carrier"] == "顺丰"
    assert message["tracking_number"] == "SF1000000000003"
    assert message["tracking_events"] == [
        {"time": at(shop.now - 2 * H), "place": "杭州", "description": "到达杭州转运中心"},
        {"time": at(shop.now - 10 * H), "place": "宁波", "description": "发往杭州"},
        {"time": at(shop.now - 20 * H), "place": "宁波", "description": "到达宁波转运中心"},
    ]
    assert message["latest_time"] == at(shop.now - 2 * H)
    assert message["latest_place"] == "杭州"
    assert message["events"].splitlines()[0] == f"{at(shop.now - 2 * H)} 杭州 到达杭州转运中心"
    assert "已揽收" not in message["events"]
    assert tickets() == []


def test_stalled_parcel_gets_an_apology_a_chase_ticket_and_a_follow_up(shop):
    message, _ = track(order_id="2024112000004", phone_tail="1234")
    assert message["response"] == "utter_logistics_stalled"
    assert message["hours_since_update"] >= 60
    assert message["carrier"] == "京东"
    (ticket,) = tickets()
    kind, category, shipment_id, status, follow_up = ticket
    assert (kind, category, shipment_id, status) == (
        "logistics_chase",
        "logistics",
        shop.stuck_shipment_id,
        "open",
    )
    assert follow_up == 24 * H
    assert message["ticket_id"] == 1
    assert message["follow_up_by"] is not None


def test_asking_again_about_a_stalled_parcel_does_not_open_a_second_ticket(shop):
    first, _ = track(order_id="2024112000004", phone_tail="1234")
    second, _ = track(order_id="2024112000004", phone_tail="1234")
    assert len(tickets()) == 1
    assert first["ticket_id"] == second["ticket_id"]


@pytest.mark.parametrize("text", ["显示签收了但我没收到", "快递未收到", "签收了但是家里没人"])
def test_delivered_but_not_received_opens_an_investigation(shop, text):
    message, _ = track(text, order_id="2024112000005", phone_tail="1234")
    assert message["response"] == "utter_logistics_investigation"
    assert message["tracking_number"] == "ZT0000000000005"
    assert message["delivered_at"] == at(shop.now - 24 * H)
    (ticket,) = tickets()
    assert ticket[:4] == (
        "delivery_investigation",
        "logistics",
        shop.delivered_shipment_id,
        "open",
    )
    assert ticket[4] == 4 * H


def test_not_received_slot_also_opens_an_investigation(shop):
    message, _ = track(
        "查一下", order_id="2024112000005", phone_tail="1234", delivery_not_received=True
    )
    assert message["response"] == "utter_logistics_investigation"
    assert len(tickets()) == 1


def test_delivered_parcel_without_complaint_just_shows_delivery(shop):
    message, _ = track(order_id="2024112000005", phone_tail="1234")
    assert message["response"] == "utter_logistics_delivered"
    assert message["signed_by"] == "快递柜"
    assert tickets() == []


def test_a_paid_order_not_yet_shipped_is_told_its_dispatch_day(shop, monkeypatch):
    from shop import clock

    paid_on = (shop.now - 2 * H).astimezone(SHANGHAI).date()
    monkeypatch.setattr(clock, "today", lambda: paid_on)
    message, _ = track("怎么还没发货", order_id="2024112000002", phone_tail="1234")
    assert message["response"] == "utter_order_status_paid"
    assert message["order_id"] == "2024112000002" and message["ship_by"] >= paid_on.isoformat()
    assert message["card"]["status"] == "paid" and "ticket_id" not in message
    assert tickets() == []


def test_a_paid_order_past_its_dispatch_day_gets_an_apology_and_one_chase_ticket(shop, monkeypatch):
    from datetime import timedelta

    from shop import clock

    later = (shop.now - 2 * H).astimezone(SHANGHAI).date() + timedelta(days=5)
    monkeypatch.setattr(clock, "today", lambda: later)
    first, _ = track("怎么还没发货", order_id="2024112000002", phone_tail="1234")
    again, _ = track("到底什么时候发货", order_id="2024112000002", phone_tail="1234")
    assert first["response"] == again["response"] == "utter_order_status_paid_overdue"
    assert first["ship_by"] < later.isoformat() and first["follow_up_by"]
    assert first["ticket_id"] == again["ticket_id"]
    assert [(kind, shipment) for kind, _, shipment, _, _ in tickets()] == [
        ("logistics_chase", None)
    ]


def test_tracking_number_with_phone_tail_works_without_an_order_number(shop):
    message, _ = track(tracking_number="sf-1000000000003", phone_tail="1234")
    assert message["response"] == "utter_logistics_in_transit"
    assert message["order_id"] == "2024112000003"
    stalled, _ = track(tracking_number="JD0000000000004", phone_tail="1234")
    assert stalled["response"] == "utter_logistics_stalled"
    assert len(tickets()) == 1


def test_tracking_number_of_a_logged_in_customer(shop):
    message, _ = track(tracking_number="YT0000000000009", metadata=signed(shop.bob_id))
    assert message["response"] == "utter_logistics_in_transit"


def test_not_found_and_not_yours_are_indistinguishable(shop):
    answers = [
        track(order_id="2099999999999", phone_tail="1234")[0],
        track(order_id="2024112000004", phone_tail="5678")[0],
        track(tracking_number="JD0000000000004", phone_tail="5678")[0],
        track(tracking_number="JD0000000000004")[0],
        track(tracking_number="XX0000000000000", phone_tail="1234")[0],
    ]
    assert all(a == answers[0] for a in answers)
    assert answers[0]["response"] == "utter_order_not_found"
    assert tickets() == []


@pytest.mark.parametrize("bad", [*SQLISH, *HUGE])
def test_bad_input_finds_nothing(shop, bad):
    for slots in (
        {"order_id": bad, "phone_tail": "1234"},
        {"tracking_number": bad, "phone_tail": "1234"},
        {"tracking_number": "JD0000000000004", "phone_tail": bad},
    ):
        message, events = track(**slots)
        assert message["response"] == "utter_order_not_found"
        assert events == [SlotSet("order_id", None), SlotSet("phone_tail", None)]
    assert tickets() == []


def test_dead_database_gets_an_apology_and_a_human(monkeypatch):
    monkeypatch.setenv("SHOP_DATABASE_URL", DEAD_DATABASE)
    db.reset()
    try:
        message, events = track(order_id="2024112000004", phone_tail="1234")
    finally:
        db.reset()
    assert message["response"] == "utter_shop_unavailable"
    assert events == [SlotSet("handoff_reason", "system_error")]


def test_a_parcel_answer_carries_the_logistics_card(shop):
    message, _ = track(order_id="2024112000003", phone_tail="1234")
    card = message["card"]
    assert card["card"] == "logistics" and card["carrier"] == "顺丰"
    assert card["tracking_number"] == "SF1000000000003" and card["status_label"] == "运输中"
    assert [e["text"] for e in card["events"]][0] == "到达杭州转运中心"
    assert all(e["time"].endswith("+08:00") for e in card["events"])


def test_not_received_said_before_the_order_number_still_opens_an_investigation(shop):
    from rasa_sdk import Tracker

    events = [
        {
            "event": "user",
            "text": "快递显示签收了但我没收到",
            "parse_data": {"intent": {"name": "track_logistics"}},
        },
        {"event": "user", "text": "2024112000005", "parse_data": {"intent": {"name": "inform"}}},
    ]
    latest = {"text": "1234", "intent": {"name": "inform"}, "entities": [], "metadata": {}}
    slots = {"order_id": "2024112000005", "phone_tail": "1234"}
    tracker = Tracker("c", slots, latest, events, False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionTrackLogistics().run(dispatcher, tracker, {}))
    assert dispatcher.messages[0]["response"] == "utter_logistics_investigation"
    assert [t[0] for t in tickets()] == ["delivery_investigation"]
