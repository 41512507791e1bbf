"""Order status and refund status actions against a fresh seeded SQLite per test."""

import asyncio
import logging
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.orders.status import ActionCheckOrderStatus, ActionCheckRefundStatus, shop_time
from shop import db
from shop.money import yuan
from tests.actions.kit.test_identity import HUGE, SQLISH, H, build_shop, signed, tracker_for

ALICE = "1234"
DEAD_DATABASE = "postgresql://shop:secret@127.0.0.1:1/shop?connect_timeout=2"


@pytest.fixture
def shop(tmp_path, monkeypatch):
    ns = build_shop(tmp_path, monkeypatch)
    yield ns
    db.reset()


def run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    assert len(dispatcher.messages) == 1
    return dispatcher.messages[0], events


def status(order_id, text="", tail=ALICE, **extra):
    slots = {"order_id": order_id, "phone_tail": tail}
    return run(ActionCheckOrderStatus(), tracker_for(text, slots, **extra))


def test_names_match_the_domain():
    assert ActionCheckOrderStatus().name() == "action_check_order_status"
    assert ActionCheckRefundStatus().name() == "action_check_refund_status"


def test_money_is_formatted_from_integer_fen():
    assert yuan(317700) == "3177"
    assert yuan(8905) == "89.05"
    assert yuan(0) == "0"


def test_paid_order_shows_paid_time_items_and_amount(shop):
    message, events = status("2024112000002")
    assert events == []
    assert message["response"] == "utter_order_status_paid"
    assert message["order_id"] == "2024112000002"
    assert message["amount"] == "3177"
    assert message["items"] == "厨匠侧吸式油烟机J1(星空灰)×1, 芳屿薰衣草精油(10ml)×2"
    assert message["paid_at"] == shop_time(shop.now - 2 * H)
    assert message["text"] is None


def test_times_are_presented_in_shanghai_time(shop):
    message, _ = status("2024112000002")
    expected = (shop.now - 2 * H).astimezone(ZoneInfo("Asia/Shanghai"))
    assert message["paid_at"] == expected.strftime("%Y-%m-%d %H:%M")


def test_shipped_order_names_carrier_tracking_number_and_latest_event(shop):
    message, _ = status("2024112000003")
    assert message["response"] == "utter_order_status_shipped"
    assert message["carrier"] == "顺丰"
    assert message["tracking_number"] == "SF1000000000003"
    assert message["latest_event"].endswith("杭州 到达杭州转运中心")


def test_delivered_and_cancelled_orders(shop):
    delivered, _ = status("2024112000005")
    assert delivered["response"] == "utter_order_status_delivered"
    assert delivered["delivered_at"] is not None
    assert delivered["amount"] == "178"
    cancelled, _ = status("2024112000006")
    assert cancelled["response"] == "utter_order_status_cancelled"
    assert cancelled["cancelled_at"] is not None


def test_unpaid_order(shop):
    message, _ = status("2024112000001", "我的订单怎么样了")
    assert message["response"] == "utter_order_status_unpaid"
    assert message["amount"] == "89"
    assert message["paid_at"] is None


@pytest.mark.parametrize("text", ["我已经付款了啊", "钱都扣了还显示未付款", "明明支付了"])
def test_unpaid_order_when_the_customer_says_they_paid_gets_the_explanation(shop, text):
    message, _ = status("2024112000001", text)
    assert message["response"] == "utter_order_unpaid_but_paid"
    assert message["order_id"] == "2024112000001"
    assert message["amount"] == "89"


def test_not_found_and_not_yours_give_the_same_answer(shop):
    unknown, _ = status("2099999999999")
    not_yours, _ = status("2024112000002", tail="5678")
    assert unknown == not_yours == {**unknown, "response": "utter_order_not_found"}
    # a signed-in customer's answer (tests/actions/kit/test_which_order.py) is one answer too


def test_logged_in_customer_needs_no_phone_tail(shop):
    message, _ = status("2024112000002", tail=None, metadata=signed(shop.alice_id))
    assert message["response"] == "utter_order_status_paid"


@pytest.mark.parametrize("bad", [*SQLISH, *HUGE])
def test_bad_input_finds_nothing_and_leaks_nothing(shop, bad):
    message, events = status(bad)
    assert message["response"] == "utter_order_not_found"
    assert events == [SlotSet("order_id", None), SlotSet("phone_tail", None)]  # retry afresh
    message, _ = status("2024112000002", tail=bad)
    assert message["response"] == "utter_order_not_found"


def test_answers_never_contain_phone_numbers_or_addresses(shop):
    for number in ("2024112000001", "2024112000002", "2024112000003", "2024112000005"):
        message, _ = status(number)
        flat = repr(message)
        assert "138****" not in flat and "文三路" not in flat


def test_dead_database_gets_an_apology_and_a_human(monkeypatch, caplog):
    monkeypatch.setenv("SHOP_DATABASE_URL", DEAD_DATABASE)
    db.reset()
    try:
        with caplog.at_level(logging.ERROR):
            message, events = status("2024112000002")
            refund, refund_events = run(
                ActionCheckRefundStatus(),
                tracker_for(slots={"order_id": "2024112000005", "phone_tail": ALICE}),
            )
    finally:
        db.reset()
    assert message["response"] == refund["response"] == "utter_shop_unavailable"
    assert events == refund_events == [SlotSet("handoff_reason", "system_error")]
    assert "secret" not in caplog.text and "2024112000002" not in caplog.text


# -- refund status ------------------------------------------------------------------------


def refund(order_id, tail=ALICE):
    slots = {"order_id": order_id, "phone_tail": tail}
    return run(ActionCheckRefundStatus(), tracker_for("退款到哪了", slots))


def test_refunded_return_shows_amount_and_time(shop):
    message, events = refund("2024112000005")
    assert events == [SlotSet("return_request_id", None)]
    assert message["response"] == "utter_refund_done"
    assert message["refund_amount"] == "89" and message["refund_fen"] == 8900
    assert message["expected_by"] == shop_time(shop.now - 10 * H + 3 * 24 * H)
    assert message["refund_channel"] == "原路退回"
    assert message["refunded_at"] == shop_time(shop.now - 10 * H)
    assert message["return_tracking_number"] == "SF9000000000005"


def test_approved_return_waits_for_the_return_tracking_number(shop):
    message, _ = refund("2024112000007")
    assert message["response"] == "utter_refund_awaiting_return"
    assert message["refund_amount"] == "2999"
    assert message["refunded_at"] is None
    assert message["return_tracking_number"] is None


def test_order_without_returns(shop):
    message, _ = refund("2024112000002")
    assert message["response"] == "utter_refund_none"
    assert message["order_id"] == "2024112000002"


def test_refund_status_of_someone_elses_order_is_not_found(shop):
    not_yours, _ = refund("2024112000005", tail="5678")
    unknown, _ = refund("2099999999999")
    assert not_yours == unknown
    assert not_yours["response"] == "utter_order_not_found"


def test_an_order_answer_carries_the_order_card(shop):
    message, _ = status("2024112000002")
    card = message["card"]
    assert card["card"] == "order" and card["order_id"] == "2024112000002"
    assert card["status"] == "paid" and card["status_label"] == "已付款待发货"
    assert card["total_fen"] == 317700 and message["amount_fen"] == 317700
    assert card["items"] == [
        {"name": "厨匠侧吸式油烟机J1", "quantity": 1, "price_fen": 299900},
        {"name": "芳屿薰衣草精油", "quantity": 2, "price_fen": 8900},
    ]
    assert card["paid_at"].endswith("+08:00")


def test_a_return_waiting_for_its_parcel_lets_the_customer_give_the_number(shop):
    message, events = refund("2024112000007")
    assert message["response"] == "utter_refund_awaiting_return"
    assert len(events) == 1 and events[0]["name"] == "return_request_id" and events[0]["value"]


def test_a_paid_order_is_told_its_dispatch_day(shop):
    message, _ = status("2024112000002")
    paid = shop.now - 2 * H
    local = paid.astimezone(ZoneInfo("Asia/Shanghai"))
    assert message["ship_by"] >= local.date().isoformat()
    assert "ticket_id" not in message


def test_a_paid_order_past_its_dispatch_day_gets_an_apology_and_one_chase_ticket(shop, monkeypatch):
    from datetime import timedelta

    from sqlalchemy import select

    from shop import clock
    from shop.db.models import ComplaintTicket

    later = clock.today() + timedelta(days=5)
    monkeypatch.setattr(clock, "today", lambda: later)
    first, _ = status("2024112000002")
    again, _ = status("2024112000002")
    assert first["response"] == again["response"] == "utter_order_status_paid_overdue"
    assert first["ticket_id"] == again["ticket_id"] and first["follow_up_by"]
    with db.session_scope() as session:
        tickets = session.execute(select(ComplaintTicket)).scalars().all()
        chases = [t for t in tickets if t.kind == "logistics_chase" and t.shipment_id is None]
        assert len(chases) == 1 and chases[0].id == first["ticket_id"]


def test_a_refund_past_its_promised_day_gets_an_apology_one_chase_ticket_and_a_person(
    shop, monkeypatch
):
    from sqlalchemy import select

    from actions.orders import status as status_module
    from shop.db.models import ComplaintTicket

    promised = shop.now - 10 * H + 3 * 24 * H  # the refund was issued 10 h ago, 3 days to arrive
    before, before_events = refund("2024112000005")
    assert before["response"] == "utter_refund_done"  # within the promise: the promise stands
    assert not [e for e in before_events if e.get("name") == "handoff_reason"]
    monkeypatch.setattr(status_module, "utcnow", lambda: promised + 2 * H)
    first, _ = refund("2024112000005")
    again, _ = refund("2024112000005")
    assert first["response"] == again["response"] == "utter_refund_overdue"
    assert first["promised_by"] == shop_time(promised) and first["refund_amount"] == "89"
    assert first["ticket_id"] == again["ticket_id"]
    assert first["follow_up_by"] == shop_time(promised + 2 * H + 4 * H)
    _, events = refund("2024112000005")
    assert SlotSet("handoff_reason", "complaint") in events  # in the agents' queue
    with db.session_scope() as session:
        [ticket] = session.execute(select(ComplaintTicket)).scalars().all()
        assert (ticket.id, ticket.severity, ticket.status) == (first["ticket_id"], "high", "open")


def test_a_refund_under_review_past_its_review_is_chased_too(shop, monkeypatch):
    from sqlalchemy import select

    from actions.orders import status as status_module
    from shop.db.models import Order, ReturnRequest
    from shop.repository import aftersale as aftersale_repo

    with db.session_scope() as session:
        request = session.execute(
            select(ReturnRequest)
            .join(Order, Order.id == ReturnRequest.order_id)
            .where(Order.order_number == "2024112000007")
        ).scalar_one()
        request.approved_at = shop.now - 4 * H
        aftersale_repo.record_return_shipment(session, request, "SF1111222233", shop.now - 3 * H)
        assert request.refund_state == "under_review"  # a number of no known carrier format
        due = request.review_due
    monkeypatch.setattr(status_module, "utcnow", lambda: due - H)
    within, _ = refund("2024112000007")
    assert within["response"] != "utter_refund_overdue" and "ticket_id" not in within
    monkeypatch.setattr(status_module, "utcnow", lambda: due + H)
    late, _ = refund("2024112000007")
    assert late["response"] == "utter_refund_overdue" and late["promised_by"] == shop_time(due)
    assert late["ticket_id"]
