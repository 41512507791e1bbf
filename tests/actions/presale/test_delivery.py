"""Delivery promises and free shipping: the actions against a freshly seeded demo shop (one
SQLite per test) at a fixed moment; the policy itself is tested in tests/shop/policy."""

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.presale.delivery import ActionCheckFreeShipping, ActionEstimateDelivery
from shop import clock
from shop.db import session_scope
from shop.db.models import Customer, Product
from shop.policy.delivery import REGION_UNKNOWN
from tests.actions import presale_support
from tests.actions.conftest import make_tracker

THURSDAY = datetime(2024, 11, 21, 2, 0, tzinfo=timezone.utc)  # 10:00 shop time
NATIONAL_DAY = datetime(2026, 10, 2, 2, 0, tzinfo=timezone.utc)  # a Friday off, 10:00 shop time


@pytest.fixture
def shop(shop, monkeypatch):
    monkeypatch.setenv("SHOP_TIMEZONE", "Asia/Shanghai")
    monkeypatch.setattr(clock, "now", lambda: THURSDAY)
    return shop


def run(action, dispatcher, text="", **slots):
    events = asyncio.run(action.run(dispatcher, make_tracker(text=text, slots=slots), {}))
    assert len(dispatcher.messages) == 1, dispatcher.messages
    message = dispatcher.messages[0]
    assert message["text"] is None
    return message["response"], message, events


def run_all(action, text="", **slots):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, make_tracker(text=text, slots=slots), {}))
    return [m["response"] for m in dispatcher.messages], dispatcher.messages, events


def test_missing_city_is_asked_for_after_the_dispatch_day(shop):
    responses, messages, _ = run_all(ActionEstimateDelivery(), "周五之前能到吗", date="周五")
    assert responses == ["utter_delivery_dispatch_today", "utter_ask_city_for_delivery"]
    assert messages[0]["ship_by"] == "2024-11-21"


@pytest.mark.parametrize("text", ["现在拍今天能发货吗", "什么时候发货", "今天能發出嗎"])
def test_a_dispatch_question_gets_the_dispatch_day_without_a_city(shop, text):
    responses, messages, _ = run_all(ActionEstimateDelivery(), text)
    assert responses == ["utter_delivery_dispatch_today"]  # Thursday 10:00: it leaves today
    assert messages[0]["ship_by"] == "2024-11-21"


def test_a_dispatch_question_after_the_cut_off_gets_the_next_day(shop, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: THURSDAY + timedelta(hours=6))  # 16:00
    responses, messages, _ = run_all(ActionEstimateDelivery(), "今天能发货吗")
    assert responses == ["utter_delivery_dispatch_later"]
    assert messages[0]["ship_by"] == "2024-11-22"


def test_a_dispatch_question_on_a_day_off_gets_the_day_it_leaves(shop, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NATIONAL_DAY)
    responses, messages, _ = run_all(ActionEstimateDelivery(), "今天能发货吗", city="杭州")
    assert responses == ["utter_delivery_dispatch_later"]
    assert messages[0]["ship_by"] == "2026-10-04"


def test_an_arrival_question_with_the_city_gets_dispatch_and_arrival(shop):
    responses, messages, _ = run_all(ActionEstimateDelivery(), "寄到北京几号能到", city="北京")
    assert responses == ["utter_delivery_estimate"]
    assert (messages[0]["ship_by"], messages[0]["latest"]) == ("2024-11-21", "2024-11-25")


def test_a_signed_in_customer_is_answered_for_their_own_city(shop, monkeypatch):
    with session_scope(shop) as session:
        customer = session.execute(select(Customer).order_by(Customer.id)).scalars().first()
        city, customer_id = customer.city, customer.id
    monkeypatch.setenv("SHOP_SIGNING_KEY", presale_support.KEY)
    tracker = presale_support.tracker(
        "什么时候能到", intent="ask_delivery_time", customer_id=customer_id
    )
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionEstimateDelivery().run(dispatcher, tracker, {}))
    [message] = dispatcher.messages
    assert (message["response"], message["city"]) == ("utter_delivery_estimate", city)


def test_estimate_for_a_city(shop, dispatcher):
    response, facts, _ = run(ActionEstimateDelivery(), dispatcher, city="北京")
    assert response == "utter_delivery_estimate"
    assert facts["city"] == "北京"
    assert facts["ship_by"] == "2024-11-21"
    assert (facts["earliest"], facts["latest"]) == ("2024-11-23", "2024-11-25")
    assert (facts["express_earliest"], facts["express_latest"]) == ("2024-11-22", "2024-11-23")


def test_estimate_on_a_day_off_ships_within_48_hours(shop, dispatcher, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NATIONAL_DAY)
    response, facts, _ = run(ActionEstimateDelivery(), dispatcher, city="杭州")
    assert response == "utter_delivery_estimate"
    assert facts["ship_by"] == "2026-10-04"
    assert (facts["earliest"], facts["latest"]) == ("2026-10-03", "2026-10-06")


def test_deadline_the_estimate_supports(shop, dispatcher):
    response, facts, _ = run(ActionEstimateDelivery(), dispatcher, city="北京", date="下周一")
    assert response == "utter_delivery_deadline_met"
    assert facts["deadline"] == "2024-11-25" == facts["latest"]


def test_deadline_only_express_can_keep(shop, dispatcher):
    response, facts, _ = run(ActionEstimateDelivery(), dispatcher, city="北京", date="周六")
    assert response == "utter_delivery_deadline_express"
    assert facts["deadline"] == "2024-11-23" == facts["express_latest"]
    assert facts["latest"] > facts["deadline"]


def test_deadline_nothing_can_promise_is_answered_honestly(shop, dispatcher):
    response, facts, _ = run(ActionEstimateDelivery(), dispatcher, city="北京", date="周五")
    assert response == "utter_delivery_deadline_cannot_promise"
    assert facts["deadline"] == "2024-11-22"
    assert facts["express_latest"] > facts["deadline"]


def test_remote_city_deadline_is_not_met(shop, dispatcher):
    response, facts, _ = run(ActionEstimateDelivery(), dispatcher, city="拉萨", date="11月25日")
    assert response == "utter_delivery_deadline_express"
    assert (facts["latest"], facts["express_latest"]) == ("2024-11-28", "2024-11-25")


def test_unreadable_deadline(shop, dispatcher):
    response, facts, _ = run(ActionEstimateDelivery(), dispatcher, city="北京", date="尽快")
    assert (response, facts["date"]) == ("utter_delivery_deadline_not_understood", "尽快")


def set_price(engine, name, fen):
    with session_scope(engine) as session:
        product = session.execute(select(Product).where(Product.name == name)).scalar_one()
        product.price_fen = fen


def test_free_shipping_policy_without_city(shop, dispatcher):
    response, facts, _ = run(ActionCheckFreeShipping(), dispatcher)
    assert response == "utter_free_shipping_policy"
    assert (facts["mainland_threshold"], facts["remote_threshold"]) == ("59", "199")
    assert facts["remote_regions"] == "新疆、西藏、青海、内蒙古、宁夏"


def test_product_at_the_mainland_threshold_ships_free(shop, dispatcher):
    set_price(shop, "芳屿甜橙精油", 5900)
    response, facts, _ = run(ActionCheckFreeShipping(), dispatcher, city="北京", product="甜橙精油")
    assert (response, facts["amount"], facts["threshold"]) == (
        "utter_free_shipping_yes",
        "59",
        "59",
    )


def test_same_product_to_a_remote_region_is_short(shop, dispatcher):
    set_price(shop, "芳屿甜橙精油", 5900)
    response, facts, _ = run(
        ActionCheckFreeShipping(), dispatcher, city="拉萨", product="甜橙精油", quantity="2"
    )
    assert response == "utter_free_shipping_short"
    assert (facts["amount"], facts["threshold"], facts["shortfall"]) == ("118", "199", "81")


def test_amount_from_the_message_and_no_amount(shop, dispatcher):
    response, facts, _ = run(ActionCheckFreeShipping(), dispatcher, text="买了200元", city="西宁")
    assert (response, facts["amount"]) == ("utter_free_shipping_yes", "200")
    other = type(dispatcher)()
    response, facts, _ = run(ActionCheckFreeShipping(), other, city="银川")
    assert (response, facts["threshold"]) == ("utter_free_shipping_threshold", "199")


def known_customer(monkeypatch, customer_id):
    """The free-shipping action for a signed-in customer (no subclass: the SDK would register it)."""
    monkeypatch.setattr(
        ActionCheckFreeShipping, "verified_customer_id", lambda self, tracker: customer_id
    )
    return ActionCheckFreeShipping()


def test_verified_customer_with_an_active_card(shop, dispatcher, monkeypatch):
    with session_scope(shop) as session:
        holder = (
            session.execute(
                select(Customer)
                .where(Customer.free_shipping_card_until > THURSDAY)
                .order_by(Customer.id)
            )
            .scalars()
            .first()
        )
        assert holder is not None, "the demo shop has a free-shipping card holder"
        until = clock.day_text(holder.free_shipping_card_until)
        holder_id = holder.id
    response, facts, _ = run(
        known_customer(monkeypatch, holder_id), dispatcher, city="拉萨", text="买了20元"
    )
    assert (response, facts["card_until"]) == ("utter_free_shipping_card", until)


def test_expired_card_gets_the_regular_policy(shop, dispatcher, monkeypatch):
    with session_scope(shop) as session:
        customer = session.execute(select(Customer).order_by(Customer.id)).scalars().first()
        customer.free_shipping_card_until = THURSDAY - timedelta(days=1)
        customer_id = customer.id
    response, _, _ = run(
        known_customer(monkeypatch, customer_id), dispatcher, city="拉萨", text="买了20元"
    )
    assert response == "utter_free_shipping_short"


def test_customer_is_unknown_without_an_identity_helper(shop):
    assert ActionCheckFreeShipping().verified_customer_id(make_tracker()) is None


def test_signed_in_customer_is_answered_for_their_own_city(shop, dispatcher, monkeypatch):
    with session_scope(shop) as session:
        customer = session.execute(select(Customer).order_by(Customer.id)).scalars().first()
        customer.free_shipping_card_until = THURSDAY - timedelta(days=1)
        customer_id, city = customer.id, customer.city
    response, facts, _ = run(known_customer(monkeypatch, customer_id), dispatcher, text="包邮吗")
    assert response == "utter_free_shipping_threshold"
    assert facts["city"] == city
    monkeypatch.undo()
    anonymous, _, _ = run(ActionCheckFreeShipping(), CollectingDispatcher(), text="包邮吗")
    assert anonymous == "utter_free_shipping_policy"


def test_a_place_that_cannot_be_located_never_gets_the_mainland_threshold(shop, dispatcher):
    response, facts, _ = run(ActionCheckFreeShipping(), dispatcher, text="买了60元", city="火星")
    assert response == "utter_free_shipping_policy"
    assert (facts["city"], facts["region"]) == ("火星", REGION_UNKNOWN)
    assert (facts["mainland_threshold"], facts["remote_threshold"]) == ("59", "199")
    assert "amount" not in facts and "threshold" not in facts


def test_a_remote_prefecture_is_short_of_free_shipping_at_the_mainland_threshold(shop, dispatcher):
    response, facts, _ = run(ActionCheckFreeShipping(), dispatcher, text="买了60元", city="哈密")
    assert response == "utter_free_shipping_short"
    assert (facts["threshold"], facts["shortfall"]) == ("199", "139")
