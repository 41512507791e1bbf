"""Price protection from price_history: granted within the frontline limit, escalated above it."""

import pytest
from rasa_sdk.events import SlotSet
from sqlalchemy import select

from actions.aftersale.price_protection import ActionPriceProtection
from shop import db
from shop.db import session_scope
from shop.db.models import ComplaintTicket, Order, OrderItem, PriceHistory, ReturnRequest, Sku
from tests.actions.aftersale_shop import NUMBERS, build_aftersale_shop, order_slots, run, tracker


@pytest.fixture
def shop(tmp_path, monkeypatch):
    ns = build_aftersale_shop(tmp_path, monkeypatch)
    yield ns
    db.reset()


def protect(key):
    return run(ActionPriceProtection(), tracker(order_slots(key)))


def tickets():
    with session_scope() as s:
        return [
            (t.kind, t.category, t.compensation_fen, t.escalated, t.status, t.chosen_option)
            for t in s.execute(select(ComplaintTicket)).scalars()
        ]


def test_a_drop_within_the_limit_is_compensated_and_recorded(shop):
    [message], events = protect("small_drop")
    assert message["response"] == "utter_price_protection_compensated"
    assert message["paid_price"] == "89" and message["lowest_price"] == "79"
    assert message["difference"] == "10" and message["difference_fen"] == 1000
    assert message["limit_fen"] == 5000
    assert tickets() == [
        ("price_protection", "price", 1000, False, "resolved", "refund_difference")
    ]
    assert events == []


def test_a_drop_above_the_limit_is_escalated_to_a_human(shop):
    [message], events = protect("big_drop")
    assert message["response"] == "utter_price_protection_escalated"
    assert message["paid_price"] == "2999" and message["lowest_price"] == "2499"
    assert message["difference_fen"] == 50000 and message["limit"] == "50"
    assert tickets() == [("price_protection", "price", 50000, True, "open", "refund_difference")]
    assert events == [SlotSet("handoff_reason", "compensation_above_limit")]


def test_asking_again_does_not_pay_twice(shop):
    protect("small_drop")
    [message], _ = protect("small_drop")
    assert message["response"] == "utter_price_protection_already"
    assert len(tickets()) == 1


def test_no_drop_since_payment(shop):
    [message], _ = protect("fresh")
    assert message["response"] == "utter_price_protection_no_drop"
    assert message["paid_price"] == message["lowest_price"] == "199"
    assert tickets() == []


def test_after_the_window_nothing_is_compensated(shop):
    [message], _ = protect("long_ago")
    assert message["response"] == "utter_price_protection_expired"
    assert message["window_days"] == 15


def test_without_price_records_no_price_is_invented(shop):
    with session_scope() as s:
        for row in s.execute(select(PriceHistory)).scalars():
            s.delete(row)
    [message], _ = protect("small_drop")
    assert message["response"] == "utter_price_protection_no_record"
    assert "paid_price" not in message and tickets() == []


def test_unpaid_orders_have_no_price_protection(shop):
    [message], _ = run(
        ActionPriceProtection(), tracker({"order_id": "2024112000001", "phone_tail": "1234"})
    )
    assert message["response"] == "utter_price_protection_not_applicable"


def test_not_found_resets_the_order(shop):
    [message], events = run(
        ActionPriceProtection(), tracker({"order_id": NUMBERS["small_drop"], "phone_tail": "0000"})
    )
    assert message["response"] == "utter_order_not_found"
    assert SlotSet("order_id", None) in events


def refund(key, whole_order=True, line_sku_code=None):
    """A refunded return of the order (the whole order, or the line of one SKU)."""
    with session_scope() as s:
        order = s.execute(select(Order).where(Order.order_number == NUMBERS[key])).scalar_one()
        line = None
        if not whole_order:
            sku = s.execute(select(Sku).where(Sku.code == line_sku_code)).scalar_one()
            line = next(i for i in order.items if i.sku_id == sku.id)
        s.add(
            ReturnRequest(
                order_id=order.id,
                order_item_id=line.id if line is not None else None,
                kind="return",
                reason="买错了",
                status="refunded",
                refund_fen=line.unit_price_fen if line is not None else order.payable_fen,
                return_tracking_number="YT9876543210987",
                created_at=order.delivered_at,
                return_shipped_at=order.delivered_at,
                refunded_at=order.delivered_at,
            )
        )


@pytest.mark.parametrize("whole_order", [True, False], ids=["whole-order", "its-only-line"])
def test_a_refunded_order_gets_no_price_protection(shop, whole_order):
    refund("small_drop", whole_order, "O-LAV-01")
    [message], events = protect("small_drop")
    assert message["response"] == "utter_return_already_done"
    assert message["order_id"] == NUMBERS["small_drop"] and message["request_id"]
    assert tickets() == [] and events == []


def test_only_the_lines_not_refunded_are_protected(shop):
    with session_scope() as s:
        order = s.execute(
            select(Order).where(Order.order_number == NUMBERS["big_drop"])
        ).scalar_one()
        bottle = s.execute(select(Sku).where(Sku.code == "O-LAV-01")).scalar_one()
        s.add(OrderItem(order_id=order.id, sku_id=bottle.id, quantity=1, unit_price_fen=8900))
    refund("big_drop", whole_order=False, line_sku_code="H-J1-01")
    [message], events = protect("big_drop")
    # the hood (2999 -> 2499) was refunded: only the oil's 10 yuan, within the frontline limit
    assert message["response"] == "utter_price_protection_compensated"
    assert message["difference_fen"] == 1000 and message["paid_price"] == "89"
    assert tickets() == [
        ("price_protection", "price", 1000, False, "resolved", "refund_difference")
    ]
    assert events == []
