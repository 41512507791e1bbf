"""Returns: the 7-day window from delivery, honest refusals, and the refund at the return's number."""

import asyncio
from datetime import timedelta

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import db
from actions.db import session_scope
from actions.models import Order, ReturnRequest
from actions.returns import (
    ActionRecordReturnShipment,
    ActionRequestReturn,
    ValidateReturnForm,
    ValidateReturnShipmentForm,
    reason_in,
)
from tests.actions.aftersale_shop import (
    NUMBERS,
    build_aftersale_shop,
    order_slots,
    run,
    signed,
    tracker,
)


@pytest.fixture
def shop(tmp_path, monkeypatch):
    ns = build_aftersale_shop(tmp_path, monkeypatch)
    yield ns
    db.reset()


def rows(number):
    with session_scope() as s:
        order = s.execute(select(Order).where(Order.order_number == number)).scalar_one()
        found = s.execute(select(ReturnRequest).where(ReturnRequest.order_id == order.id))
        return [
            {
                "id": r.id,
                "kind": r.kind,
                "status": r.status,
                "refund_fen": r.refund_fen,
                "reason": r.reason,
                "tracking": r.return_tracking_number,
                "refunded_at": r.refunded_at,
                "photo": r.photo_requested,
            }
            for r in found.scalars()
        ]


def request_return(key, **slots):
    return run(ActionRequestReturn(), tracker(order_slots(key, return_reason="买大了", **slots)))


def test_a_return_within_seven_days_is_recorded_and_asks_for_the_parcel(shop):
    [message], events = request_return("fresh")
    [row] = rows(NUMBERS["fresh"])
    assert message["response"] == "utter_return_created"
    assert row["kind"] == "return" and row["status"] == "requested" and row["reason"] == "买大了"
    assert (
        row["refund_fen"] == 19900
    )  # the 8 yuan shipping fee of a no-reason return is not refunded
    assert message["refund_amount"] == "199.00" and message["refund_fen"] == 19900
    assert message["request_id"] == row["id"]
    assert message["window_days"] == 7
    assert message["return_condition"] == "商品未穿着、吊牌完好"
    assert message["card"]["card"] == "order" and message["card"]["order_id"] == NUMBERS["fresh"]
    assert SlotSet("return_request_id", str(row["id"])) in events


def test_refund_is_issued_the_moment_the_tracking_number_is_given(shop):
    _, events = request_return("fresh")
    request_id = next(e["value"] for e in events if e["name"] == "return_request_id")
    slots = order_slots("fresh", return_request_id=request_id)
    slots["return_tracking_number"] = "sf 1234-5678-90123"
    [message], events = run(ActionRecordReturnShipment(), tracker(slots))
    [row] = rows(NUMBERS["fresh"])
    assert row["status"] == "refunded" and row["tracking"] == "SF1234567890123"
    assert row["refunded_at"] is not None
    assert message["response"] == "utter_refund_issued"
    assert message["refund_amount"] == "199.00"
    assert message["return_tracking_number"] == "SF1234567890123"
    assert message["refunded_at"] and message["expected_by"] > message["refunded_at"]
    assert SlotSet("return_request_id", None) in events


def test_the_outbound_tracking_number_is_not_taken_as_the_return(shop):
    request_return("fresh")
    slots = order_slots("fresh", return_tracking_number=f"SF7{NUMBERS['fresh']}")
    [message], _ = run(ActionRecordReturnShipment(), tracker(slots))
    assert message["response"] == "utter_return_tracking_is_outbound"
    assert rows(NUMBERS["fresh"])[0]["status"] == "requested"


@pytest.mark.parametrize("bad", ["12", "'; DROP TABLE returns; --", "😀" * 10])
def test_a_malformed_tracking_number_refunds_nothing(shop, bad):
    request_return("fresh")
    slots = order_slots("fresh", return_tracking_number=bad)
    [message], _ = run(ActionRecordReturnShipment(), tracker(slots))
    assert message["response"] == "utter_invalid_return_tracking_number"
    assert rows(NUMBERS["fresh"])[0]["status"] == "requested"


def test_outside_seven_days_is_refused_with_the_quality_route(shop):
    [message], events = request_return("ten_days")
    assert message["response"] == "utter_return_window_passed"
    assert message["quality_window_days"] == 15
    assert rows(NUMBERS["ten_days"]) == []
    assert events == [SlotSet("return_request_id", None)]


def test_a_quality_issue_may_still_be_returned_within_fifteen_days(shop):
    [message], _ = request_return("ten_days", issue_kind="quality")
    assert message["response"] == "utter_return_created"
    [row] = rows(NUMBERS["ten_days"])
    assert row["photo"] is True and row["refund_fen"] == 19900


def test_after_fifteen_days_even_a_quality_issue_goes_to_warranty(shop):
    [message], _ = request_return("old", issue_kind="quality")
    assert message["response"] == "utter_return_quality_window_passed"


@pytest.mark.parametrize(
    "number, response",
    [
        ("2024112000002", "utter_return_not_shipped"),
        ("2024112000003", "utter_return_in_transit"),
        ("2024112000006", "utter_return_order_cancelled"),
    ],
)
def test_orders_not_received_are_not_returned(shop, number, response):
    slots = {"order_id": number, "phone_tail": "1234", "return_reason": "不要了"}
    [message], _ = run(ActionRequestReturn(), tracker(slots))
    assert message["response"] == response
    assert message["order_id"] == number


def test_an_order_already_refunded_is_not_returned_twice(shop):
    slots = {"order_id": "2024112000005", "phone_tail": "1234", "return_reason": "不要了"}
    [message], _ = run(ActionRequestReturn(), tracker(slots))
    assert message["response"] == "utter_return_already_done"


def test_the_open_request_is_reused_not_duplicated(shop):
    request_return("fresh")
    request_return("fresh")
    assert len(rows(NUMBERS["fresh"])) == 1


def test_not_found_resets_the_order_so_the_customer_can_retry(shop):
    slots = {"order_id": NUMBERS["fresh"], "phone_tail": "5678", "return_reason": "x"}
    [message], events = run(ActionRequestReturn(), tracker(slots))
    assert message["response"] == "utter_order_not_found"
    assert SlotSet("order_id", None) in events and SlotSet("phone_tail", None) in events
    assert rows(NUMBERS["fresh"]) == []


def test_a_signed_in_customer_needs_no_phone_tail(shop):
    slots = {"order_id": NUMBERS["fresh"], "return_reason": "买大了"}
    [message], _ = run(ActionRequestReturn(), tracker(slots, metadata=signed(shop.alice_id)))
    assert message["response"] == "utter_return_created"
    form = ValidateReturnForm()
    required = asyncio.run(
        form.required_slots(
            ["order_id", "phone_tail", "return_reason"],
            CollectingDispatcher(),
            tracker(metadata=signed(shop.alice_id)),
            {},
        )
    )
    assert required == ["order_id", "return_reason"]


def test_the_reason_in_the_request_itself_is_kept():
    assert reason_in("我要退货") is None
    assert reason_in("买大了想退货") == "买大了想退货"


def validate(form, slots, text, intent="inform", requested=None):
    domain = {
        "forms": {
            "return_form": {"required_slots": ["order_id", "phone_tail", "return_reason"]},
            "return_shipment_form": {"required_slots": ["return_tracking_number"]},
        },
        "slots": {},
    }
    slots = {**slots, "requested_slot": requested}
    dispatcher = CollectingDispatcher()
    events = asyncio.run(form.run(dispatcher, tracker(slots, text, intent), domain))
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def test_the_shipment_form_reads_a_tracking_number_anywhere_in_the_reply():
    messages, slots = validate(
        ValidateReturnShipmentForm(),
        {},
        "寄了，顺丰单号 SF1234567890123",
        requested="return_tracking_number",
    )
    assert slots["return_tracking_number"] == "SF1234567890123" and messages == []
    messages, slots = validate(
        ValidateReturnShipmentForm(), {}, "还没", requested="return_tracking_number"
    )
    assert slots["return_tracking_number"] is None
    assert messages[0]["response"] == "utter_invalid_return_tracking_number"


def test_the_return_form_asks_again_for_an_order_that_is_not_theirs(shop):
    messages, slots = validate(
        ValidateReturnForm(),
        {"order_id": NUMBERS["fresh"]},
        "5678",
        requested="phone_tail",
    )
    assert [m["response"] for m in messages] == ["utter_order_not_found"]
    assert slots["order_id"] is None and slots["phone_tail"] is None


def test_refund_times_are_presented_in_shop_time(shop):
    _, events = request_return("fresh")
    slots = order_slots("fresh", return_tracking_number="SF1234567890123")
    [message], _ = run(ActionRecordReturnShipment(), tracker(slots))
    refunded = rows(NUMBERS["fresh"])[0]["refunded_at"]
    from actions.orders import shop_time

    assert message["refunded_at"] == shop_time(refunded)
    assert message["expected_by"] == shop_time(refunded + timedelta(days=3))


def ship_back(key, number):
    slots = order_slots(key, return_tracking_number=number)
    return run(ActionRecordReturnShipment(), tracker(slots))


@pytest.mark.parametrize(
    "number",
    ["13812345678", "138 1234 5678", "8613812345678", NUMBERS["fresh"]],
    ids=["mobile", "mobile-spaced", "mobile-86", "order-number"],
)
def test_a_mobile_or_the_order_number_refunds_nothing(shop, number):
    request_return("fresh")
    [message], events = ship_back("fresh", number)
    assert message["response"] == "utter_invalid_return_tracking_number"
    assert SlotSet("return_tracking_number", None) in events
    [row] = rows(NUMBERS["fresh"])
    assert row["status"] == "requested" and row["tracking"] is None
    assert row["refunded_at"] is None


def test_a_number_already_given_for_another_return_refunds_nothing(shop):
    request_return("ten_days", issue_kind="quality")
    [first], _ = ship_back("ten_days", "YT9876543210987")
    assert first["response"] == "utter_refund_issued"
    request_return("fresh")
    [message], _ = ship_back("fresh", "yt 9876-5432-10987")
    assert message["response"] == "utter_invalid_return_tracking_number"
    assert rows(NUMBERS["fresh"])[0]["status"] == "requested"
    # a number of its own is still refunded at once
    [message], _ = ship_back("fresh", "YT9876543210988")
    assert message["response"] == "utter_refund_issued"


def test_the_repository_refuses_a_number_of_another_return(shop):
    from actions.repository import aftersale as aftersale_repo
    from actions.repository.aftersale import record_return_shipment

    request_return("ten_days", issue_kind="quality")
    ship_back("ten_days", "YT9876543210987")
    request_return("fresh")
    with session_scope() as s:
        order = s.execute(select(Order).where(Order.order_number == NUMBERS["fresh"])).scalar_one()
        request = aftersale_repo.open_request_for_order(s, order)
        assert aftersale_repo.return_tracking_in_use(s, "yt9876543210987")
        assert not aftersale_repo.return_tracking_in_use(s, "YT9876543210988")
        with pytest.raises(ValueError):
            record_return_shipment(s, request, "YT9876543210987", order.created_at)


@pytest.mark.parametrize(
    "text",
    ["13812345678", "我电话是 138-1234-5678", NUMBERS["fresh"]],
    ids=["mobile", "mobile-in-text", "order-number"],
)
def test_the_shipment_form_asks_again_for_a_mobile_or_the_order_number(text):
    messages, slots = validate(
        ValidateReturnShipmentForm(),
        {"order_id": NUMBERS["fresh"]},
        text,
        requested="return_tracking_number",
    )
    assert slots["return_tracking_number"] is None
    assert [m["response"] for m in messages] == ["utter_invalid_return_tracking_number"]


def test_the_shipment_form_skips_the_order_number_for_the_tracking_number_next_to_it(shop):
    messages, slots = validate(
        ValidateReturnShipmentForm(),
        {"order_id": NUMBERS["fresh"]},
        f"订单{NUMBERS['fresh']}的退货单号 SF1234567890123",
        requested="return_tracking_number",
    )
    assert slots["return_tracking_number"] == "SF1234567890123" and messages == []


def test_the_shipment_form_asks_again_for_a_number_of_another_return(shop):
    request_return("ten_days", issue_kind="quality")
    ship_back("ten_days", "YT9876543210987")
    _, events = request_return("fresh")
    request_id = next(e["value"] for e in events if e["name"] == "return_request_id")
    form_slots = order_slots("fresh", return_request_id=request_id)
    messages, slots = validate(
        ValidateReturnShipmentForm(),
        form_slots,
        "YT9876543210987",
        requested="return_tracking_number",
    )
    assert slots["return_tracking_number"] is None
    assert [m["response"] for m in messages] == ["utter_invalid_return_tracking_number"]
    messages, slots = validate(
        ValidateReturnShipmentForm(),
        form_slots,
        "YT9876543210988",
        requested="return_tracking_number",
    )
    assert slots["return_tracking_number"] == "YT9876543210988" and messages == []
