"""The return's tracking number is checked before the refund; big or unconfirmed ones wait.

Kept: the refund goes out the moment the return ships. Checked first: a known carrier's format
and check rule, never a parcel the shop sent, never used before, given after the approval.
Above ¥500, or on a number no carrier's format confirms, a person decides within 24 hours;
every refund has a state an agent can approve or reverse.
"""

import asyncio
from datetime import timedelta

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.aftersale.returns import (
    ActionRecordReturnShipment,
    ActionRequestReturn,
    ValidateReturnShipmentForm,
)
from shop import db
from shop.db import session_scope
from shop.db.models import Order, ReturnRequest, utcnow
from shop.policy import refunds as refund_policy
from shop.repository import aftersale as aftersale_repo
from tests.actions.aftersale_shop import NUMBERS, build_aftersale_shop, order_slots, run, tracker


@pytest.fixture
def shop(tmp_path, monkeypatch):
    ns = build_aftersale_shop(tmp_path, monkeypatch)
    yield ns
    db.reset()


def request_return(key):
    [message], events = run(
        ActionRequestReturn(), tracker(order_slots(key, return_reason="买大了"))
    )
    assert message["response"] == "utter_return_created"
    return next(e["value"] for e in events if e["name"] == "return_request_id")


def ship_back(key, number, request_id=None):
    slots = order_slots(key, return_tracking_number=number, return_request_id=request_id)
    return run(ActionRecordReturnShipment(), tracker(slots))


def row(key):
    with session_scope() as s:
        order = s.execute(select(Order).where(Order.order_number == NUMBERS[key])).scalar_one()
        [request] = s.execute(
            select(ReturnRequest).where(ReturnRequest.order_id == order.id)
        ).scalars()
        return request


def test_a_refund_up_to_the_limit_is_issued_at_once_by_the_bot(shop):
    request_return("fresh")
    [message], _ = ship_back("fresh", "SF1234567890123")
    assert message["response"] == "utter_refund_issued"
    request = row("fresh")
    assert request.status == "refunded" and request.refund_state == "issued"
    assert request.refund_state_by == "bot" and request.refund_state_at == request.refunded_at


def test_a_refund_above_the_limit_waits_for_a_person_and_the_customer_is_told_when(shop):
    request_return("big_drop")  # a ¥2999 hood delivered yesterday
    [message], events = ship_back("big_drop", "SF1234567890123")
    assert message["response"] == "utter_refund_under_review"
    assert message["refund_amount"] == "2999"
    assert message["review_hours"] == refund_policy.REVIEW_HOURS == 24
    assert message["review_due"] and "refunded_at" not in message
    request = row("big_drop")
    assert request.status == "return_shipped" and request.refunded_at is None
    assert request.refund_state == "under_review" and request.review_reason == "above_limit"
    assert request.review_due - request.return_shipped_at == timedelta(hours=24)
    assert request.return_tracking_number == "SF1234567890123"


def test_a_number_of_no_known_carrier_waits_for_a_person(shop):
    request_return("fresh")
    [message], _ = ship_back("fresh", "AB12345678")
    assert message["response"] == "utter_refund_under_review"
    request = row("fresh")
    assert request.refund_state == "under_review" and request.review_reason == "unconfirmed_number"
    assert request.refunded_at is None


def test_a_postal_number_must_carry_its_check_digit(shop):
    request_return("fresh")
    [message], _ = ship_back("fresh", "RR123456784CN")  # the check digit is 5
    assert message["response"] == "utter_invalid_return_tracking_number"
    assert row("fresh").return_tracking_number is None
    [message], _ = ship_back("fresh", "RR123456785CN")
    assert message["response"] == "utter_refund_issued"


def test_another_orders_parcel_is_refused_without_saying_whose(shop):
    request_return("fresh")
    [message], _ = ship_back("fresh", f"SF7{NUMBERS['ten_days']}")
    assert message["response"] == "utter_invalid_return_tracking_number"
    request = row("fresh")
    assert request.return_tracking_number is None and request.refund_state is None


def test_a_number_given_before_the_approval_is_refused(shop):
    with session_scope() as s:
        order = s.execute(select(Order).where(Order.order_number == NUMBERS["fresh"])).scalar_one()
        now = utcnow()
        waiting = aftersale_repo.create_return(s, order, reason="质量问题", now=now, approved=False)
        with pytest.raises(aftersale_repo.NumberRefused) as refused:
            aftersale_repo.record_return_shipment(s, waiting, "SF1234567890123", now)
        assert refused.value.reason == "not_approved"
        aftersale_repo.approve(waiting, now)
        with pytest.raises(aftersale_repo.NumberRefused) as refused:  # posted before approval
            aftersale_repo.record_return_shipment(
                s, waiting, "SF1234567890123", now - timedelta(minutes=5)
            )
        assert refused.value.reason == "not_approved"
        aftersale_repo.record_return_shipment(s, waiting, "SF1234567890123", now)
        assert waiting.refund_state == "issued"


def test_a_waiting_quality_report_takes_no_number(shop):
    with session_scope() as s:
        order = s.execute(select(Order).where(Order.order_number == NUMBERS["fresh"])).scalar_one()
        aftersale_repo.create_return(s, order, reason="开线", now=utcnow(), approved=False)
    [message], _ = ship_back("fresh", "SF1234567890123")
    assert message["response"] == "utter_return_no_open_request"
    assert row("fresh").refunded_at is None


def test_an_agent_reverses_an_automatic_refund(shop):
    request_return("fresh")
    ship_back("fresh", "SF1234567890123")
    with session_scope() as s:
        request = s.get(ReturnRequest, row("fresh").id)
        later = utcnow()
        aftersale_repo.reverse_refund(s, request, "agent", later)
        assert request.status == "rejected" and request.refund_state == "reversed"
        assert request.refund_state_by == "agent" and request.refund_state_at == later
        assert aftersale_repo.refunds_committed_fen(s, request.order) == 0
        with pytest.raises(aftersale_repo.RefundNotChangeable):
            aftersale_repo.reverse_refund(s, request, "agent", later)
        with pytest.raises(aftersale_repo.RefundNotChangeable):
            aftersale_repo.approve_refund(s, request, "agent", later)


def test_an_agent_approves_a_refund_under_review(shop):
    request_return("big_drop")
    ship_back("big_drop", "SF1234567890123")
    with session_scope() as s:
        request = s.get(ReturnRequest, row("big_drop").id)
        since = request.refund_state_at
        [listed] = aftersale_repo.refunds_to_review(s, since)
        assert (listed.state, listed.review_reason, listed.carrier) == (
            "under_review",
            "above_limit",
            "顺丰",
        )
        later = utcnow()
        aftersale_repo.approve_refund(s, request, "supervisor", later)
        assert request.status == "refunded" and request.refunded_at == later
        assert (request.refund_state, request.refund_state_by) == ("issued", "supervisor")
        assert request.review_due is None
        with pytest.raises(aftersale_repo.RefundNotChangeable):
            aftersale_repo.approve_refund(s, request, "supervisor", later)


def validate(slots, text):
    domain = {"forms": {"return_shipment_form": {"required_slots": ["return_tracking_number"]}}}
    dispatcher = CollectingDispatcher()
    tr = tracker({**slots, "requested_slot": "return_tracking_number"}, text)
    events = asyncio.run(ValidateReturnShipmentForm().run(dispatcher, tr, domain))
    found = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    return [m["response"] for m in dispatcher.messages], found


def test_the_form_asks_again_for_a_shop_parcel_or_a_wrong_check_digit(shop):
    request_id = request_return("fresh")
    slots = order_slots("fresh", return_request_id=request_id)
    for text in (f"SF7{NUMBERS['ten_days']}", "RR123456784CN"):
        messages, found = validate(slots, text)
        assert found["return_tracking_number"] is None
        assert messages == ["utter_invalid_return_tracking_number"]
    messages, found = validate(slots, "单号 RR123456785CN")
    assert found["return_tracking_number"] == "RR123456785CN" and messages == []
