"""Delivery questions about an order already placed: its dispatch day, late ones, its arrival."""

import asyncio
from datetime import timedelta

import pytest
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.presale.delivery import ActionEstimateDelivery
from shop import clock, db
from shop.db.models import ComplaintTicket, Order
from shop.policy.delivery import dispatch_window, estimate_arrival
from tests.actions.conftest import make_tracker
from tests.actions.kit.test_identity import build_shop, signed

PAID, SHIPPED = "2024112000002", "2024112000003"


@pytest.fixture
def shop(tmp_path, monkeypatch):
    ns = build_shop(tmp_path, monkeypatch)
    yield ns
    db.reset()


def ask(text, slots=None, metadata=None):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text, "ask_delivery_time", slots, metadata=metadata)
    events = asyncio.run(ActionEstimateDelivery().run(dispatcher, tracker, {}))
    return dispatcher.messages, events


def paid_order():
    with db.session_scope() as session:
        order = session.execute(select(Order).where(Order.order_number == PAID)).scalar_one()
        return order.paid_at, order.shipping_city


def test_why_not_shipped_yet_gets_the_order_s_dispatch_day(shop):
    messages, _ = ask(f"拍了好久了怎么还不发货 {PAID} 手机后四位1234")
    [message] = messages
    paid_at, _ = paid_order()
    assert message["response"] == "utter_order_status_paid"
    assert message["ship_by"] == dispatch_window(paid_at).latest.isoformat()
    assert message["order_id"] == PAID


def test_an_order_past_its_dispatch_day_gets_the_apology_and_a_chase_ticket(shop, monkeypatch):
    later = clock.today() + timedelta(days=5)
    monkeypatch.setattr(clock, "today", lambda: later)
    messages, _ = ask("怎么还没发货", {"order_id": PAID, "phone_tail": "1234"})
    [message] = messages
    assert message["response"] == "utter_order_status_paid_overdue"
    with db.session_scope() as session:
        [ticket] = session.execute(select(ComplaintTicket)).scalars().all()
        assert (ticket.id, ticket.kind) == (message["ticket_id"], "logistics_chase")


def test_a_late_order_not_known_yet_is_looked_up_first(shop):
    messages, events = ask("付款三天了还没发")
    assert messages == []
    assert events == [
        SlotSet("order_topic", "track_logistics"),
        FollowupAction("order_lookup_form"),
    ]


def test_an_arrival_question_about_a_paid_order_gives_its_dispatch_and_arrival(shop):
    messages, _ = ask(f"{PAID} 尾号1234 什么时候能到")
    [message] = messages
    paid_at, city = paid_order()
    estimate = estimate_arrival(paid_at, city)
    assert message["response"] == "utter_order_arrival_estimate"
    assert message["ship_by"] == estimate.dispatch.latest.isoformat()
    assert (message["earliest"], message["latest"], message["city"]) == (
        estimate.earliest.isoformat(),
        estimate.latest.isoformat(),
        city,
    )


def test_a_deadline_for_a_paid_order_is_answered_honestly(shop):
    paid_at, city = paid_order()
    estimate = estimate_arrival(paid_at, city)
    late = (estimate.latest + timedelta(days=1)).isoformat()
    messages, _ = ask(f"{PAID} 尾号1234 来得及吗", {"date": late})
    assert messages[0]["response"] == "utter_order_deadline_met"
    early = estimate.earliest.isoformat()
    messages, _ = ask(f"{PAID} 尾号1234 来得及吗", {"date": early})
    assert messages[0]["response"] == "utter_order_deadline_not_sure"
    assert messages[0]["deadline"] == early


def test_a_shipped_order_is_answered_with_its_parcel(shop):
    messages, _ = ask(f"{SHIPPED} 尾号1234 今天能送到吗")
    assert [m["response"] for m in messages] == ["utter_logistics_in_transit"]
    assert messages[0]["tracking_number"] == "SF1000000000003"


def test_someone_else_s_order_is_not_answered(shop):
    messages, events = ask(f"{PAID} 怎么还没发货", metadata=signed(shop.bob_id))
    assert messages[0]["response"] == "utter_order_not_found_for_account"
    assert "ship_by" not in messages[0]
    assert SlotSet("order_id", None) in events


def test_a_question_before_buying_is_not_about_the_order_in_the_conversation(shop):
    messages, _ = ask("现在拍今天能发货吗", {"order_id": PAID, "phone_tail": "1234"})
    assert messages[0]["response"] in (
        "utter_delivery_dispatch_today",
        "utter_delivery_dispatch_later",
    )
