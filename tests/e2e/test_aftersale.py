"""After-sale conversations through the real servers; the facts in the replies match the rows."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from shop.db.models import (
    ComplaintTicket,
    Customer,
    InvoiceRequest,
    Order,
    OrderItem,
    ReturnRequest,
)
from shop.money import yuan
from shop.policy.refunds import AUTO_REFUND_LIMIT_FEN
from shop.repository.price_protection import frontline_limit_fen, lowest_price_between
from tests.e2e.conftest import cards, texts

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def engine(assistant):
    engine = create_engine(f"sqlite:///{assistant.settings.var_dir / 'shop.db'}", future=True)
    yield engine
    engine.dispose()


def pick_order(engine, condition, exclude=()):
    """An order of a given kind with its buyer's phone tail, not used by another test."""
    with Session(engine) as session:
        taken = select(ReturnRequest.order_id)
        ticketed = select(ComplaintTicket.order_id).where(ComplaintTicket.order_id.is_not(None))
        rows = session.execute(
            select(Order, Customer.phone_tail)
            .join(Customer, Customer.id == Order.customer_id)
            .where(condition, Order.id.not_in(taken), Order.id.not_in(ticketed))
            .order_by(Order.order_number)
        ).all()
        for order, tail in rows:
            if order.order_number not in exclude:
                return order.order_number, tail
    pytest.skip("the seeded shop has no such order")


def identify(assistant, sender, first, order_id, tail):
    """Opens a flow and gives the order number and phone tail; returns the last replies."""
    assistant.say(sender, first)
    assistant.say(sender, order_id)
    return assistant.say(sender, tail)


def now():
    return datetime.now(timezone.utc)


def test_return_is_refunded_the_moment_the_tracking_number_is_given(assistant, sender, engine):
    single_line = select(OrderItem.order_id).group_by(OrderItem.order_id).having(func.count() == 1)
    order_id, tail = pick_order(  # a refund above the automatic limit waits for a person
        engine,
        (Order.state == "delivered")
        & (Order.delivered_at > now() - timedelta(days=6))
        & (Order.payable_fen <= AUTO_REFUND_LIMIT_FEN)
        & Order.id.in_(single_line),
    )
    asked = texts(identify(assistant, sender, "我要退货", order_id, tail))
    assert any("原因" in t for t in asked)
    created = texts(assistant.say(sender, "尺码不合适"))
    with Session(engine) as session:
        order = session.execute(select(Order).where(Order.order_number == order_id)).scalar_one()
        [row] = session.execute(
            select(ReturnRequest).where(ReturnRequest.order_id == order.id)
        ).scalars()
        # accepted within the policy: approved at once, so the parcel's number is taken
        assert row.status == "approved" and row.reason == "尺码不合适"
        assert row.approved_at is not None
        refund = yuan(row.refund_fen)
    assert order_id in created[0] and f"¥{refund}" in created[0] and str(row.id) in created[0]
    assert "单号" in created[-1]
    done = texts(assistant.say(sender, "寄了，单号SF1234567890123"))
    with Session(engine) as session:
        row = session.get(ReturnRequest, row.id)
        assert row.status == "refunded" and row.return_tracking_number == "SF1234567890123"
        assert row.refunded_at is not None
        assert (row.refund_state, row.refund_state_by) == ("issued", "bot")
    assert "SF1234567890123" in done[0] and f"¥{refund}" in done[0]
    assert "None" not in " ".join(created + done)


def test_a_wrong_phone_tail_asks_for_the_order_again(assistant, sender, engine):
    order_id, tail = pick_order(engine, Order.state == "completed")
    wrong = "0000" if tail != "0000" else "1111"
    replies = texts(identify(assistant, sender, "我要退货", order_id, wrong))
    assert "没有查到" in replies[0]
    slots = assistant.tracker(sender)["slots"]
    assert slots["order_id"] is None and slots["phone_tail"] is None
    assert "订单号" in replies[-1]


def test_price_protection_pays_the_difference_from_the_price_history(assistant, sender, engine):
    with Session(engine) as session:
        limit = frontline_limit_fen(session)
        candidates = session.execute(
            select(Order, Customer.phone_tail)
            .join(Customer, Customer.id == Order.customer_id)
            .where(Order.paid_at > now() - timedelta(days=14), Order.state != "cancelled")
            # a returned line's money is back already and gets no price protection
            .where(Order.id.not_in(select(ReturnRequest.order_id)))
            .order_by(Order.order_number)
        ).all()
        chosen = None
        for order, tail in candidates:
            total = 0
            for item in order.items:
                lowest = lowest_price_between(session, item.sku.product_id, order.paid_at, now())
                if lowest is not None:
                    total += max(0, item.unit_price_fen - lowest.price_fen) * item.quantity
            if 0 < total <= limit:
                chosen = (order.order_number, tail, total)
                break
    if chosen is None:
        pytest.skip("no price drop within the frontline limit in the seeded shop")
    order_id, tail, total = chosen
    raw = identify(assistant, sender, "刚买就降价了，能补差价吗", order_id, tail)
    [card] = cards(raw)
    assert card["card"] == "order" and card["order_id"] == order_id
    replies = texts(raw)
    assert len(replies) == 1, replies
    assert order_id in replies[0] and f"¥{yuan(total)}" in replies[0]
    with Session(engine) as session:
        [ticket] = session.execute(
            select(ComplaintTicket).where(
                ComplaintTicket.kind == "price_protection",
                ComplaintTicket.order_id
                == select(Order.id).where(Order.order_number == order_id).scalar_subquery(),
            )
        ).scalars()
        assert ticket.compensation_fen == total and ticket.status == "resolved"


def test_complaint_offers_options_and_records_the_choice(assistant, sender, engine):
    order_id, tail = pick_order(engine, Order.state == "completed")
    identify(assistant, sender, "我要投诉", order_id, tail)
    assistant.say(sender, "快递员态度很差，还骂人")
    offer = assistant.say(sender, "要求道歉")
    buttons = [b for r in offer for b in r.get("buttons", [])]
    assert [b["title"] for b in buttons] == ["主管致电道歉", "赠送20元店铺券"]
    done = texts(assistant.say(sender, buttons[1]["payload"]))
    with Session(engine) as session:
        [ticket] = session.execute(
            select(ComplaintTicket)
            .join(Order, Order.id == ComplaintTicket.order_id)
            .where(Order.order_number == order_id, ComplaintTicket.kind == "complaint")
        ).scalars()
        assert ticket.category == "attitude" and ticket.chosen_option == "赠送20元店铺券"
        assert ticket.compensation_fen == 2000 and ticket.follow_up_due is not None
    assert str(ticket.id) in done[0] and "赠送20元店铺券" in done[0]


def test_address_change_before_shipping_is_recorded_masked(assistant, sender, engine):
    order_id, tail = pick_order(engine, Order.state == "paid")
    asked = texts(identify(assistant, sender, "地址写错了，帮我改一下", order_id, tail))
    assert any("地址" in t for t in asked)
    replies = texts(assistant.say(sender, "浙江省杭州市西湖区文三路388号"))
    assert len(replies) == 1, replies
    reply = replies[0]
    with Session(engine) as session:
        order = session.execute(select(Order).where(Order.order_number == order_id)).scalar_one()
        assert order.address_masked == "浙江省杭州市西湖区文三路**号"
    assert order.address_masked in reply and "388" not in reply


def test_a_shipped_order_cannot_be_cancelled(assistant, sender, engine):
    order_id, tail = pick_order(engine, Order.state == "shipped")
    replies = texts(identify(assistant, sender, "我要取消订单", order_id, tail))
    assert len(replies) == 1, replies
    reply = replies[0]
    assert order_id in reply and "拒收" in reply
    with Session(engine) as session:
        order = session.execute(select(Order).where(Order.order_number == order_id)).scalar_one()
        assert order.state == "shipped"


def test_invoice_request_is_recorded_with_its_issue_time(assistant, sender, engine):
    order_id, tail = pick_order(engine, Order.state == "completed", exclude=())
    asked = texts(identify(assistant, sender, "能开发票吗", order_id, tail))
    assert any("抬头" in t for t in asked), asked
    replies = texts(assistant.say(sender, "个人"))
    assert len(replies) == 1, replies
    reply = replies[0]
    assert "{" not in reply, reply
    with Session(engine) as session:
        rows = session.execute(
            select(InvoiceRequest)
            .join(Order, Order.id == InvoiceRequest.order_id)
            .where(Order.order_number == order_id)
        ).scalars()
        [row] = list(rows) or [reply]
        assert row.title == "个人"
    assert order_id in reply and "个人" in reply


def test_a_signed_in_customer_is_not_asked_for_the_phone_tail(assistant, sender, engine):
    from shop.signing import sign_chat

    order_id, _ = pick_order(
        engine, (Order.state == "delivered") & (Order.delivered_at > now() - timedelta(days=6))
    )
    with Session(engine) as session:
        customer_id = session.execute(
            select(Order.customer_id).where(Order.order_number == order_id)
        ).scalar_one()
    key = assistant.settings.signing_key
    metadata = {"customer_id": customer_id, "customer_sig": sign_chat(customer_id, sender, key)}
    assistant.say(sender, "我要换货", metadata=metadata)
    asked = texts(assistant.say(sender, order_id, metadata=metadata))
    assert not any("后四位" in t for t in asked)
    assert any("尺码" in t or "颜色" in t for t in asked)


def _parcel_order(engine, delivered):
    """An order whose parcel is stalled (48 h+ without update) or delivered, without a ticket."""
    from shop.db.models import Shipment, ShipmentEvent

    with Session(engine) as session:
        rows = session.execute(
            select(Order, Customer.phone_tail, Shipment)
            .join(Customer, Customer.id == Order.customer_id)
            .join(Shipment, Shipment.order_id == Order.id)
            .where(Order.state == ("delivered" if delivered else "shipped"))
            .order_by(Order.order_number)
        ).all()
        ticketed = set(
            session.execute(
                select(ComplaintTicket.shipment_id).where(ComplaintTicket.shipment_id.is_not(None))
            ).scalars()
        )
        for order, tail, parcel in rows:
            if parcel.id in ticketed:
                continue
            last = session.execute(
                select(ShipmentEvent.occurred_at)
                .where(ShipmentEvent.shipment_id == parcel.id)
                .order_by(ShipmentEvent.occurred_at.desc())
            ).scalar()
            if delivered or (last is not None and now() - last > timedelta(hours=50)):
                return order.order_number, tail, parcel.id
    pytest.skip("no such parcel in the seeded shop")


def _tickets_of(engine, shipment_id, kind):
    with Session(engine) as session:
        return list(
            session.execute(
                select(ComplaintTicket).where(
                    ComplaintTicket.shipment_id == shipment_id, ComplaintTicket.kind == kind
                )
            ).scalars()
        )


def test_a_stalled_parcel_opens_a_chase_ticket(assistant, sender, engine):
    order_id, tail, shipment_id = _parcel_order(engine, delivered=False)
    replies = texts(identify(assistant, sender, "快递到哪了", order_id, tail))
    [ticket] = _tickets_of(engine, shipment_id, "logistics_chase")
    assert ticket.status == "open" and ticket.follow_up_due is not None
    assert any(order_id in t and str(ticket.id) in t for t in replies), replies


def test_delivered_but_not_received_opens_an_investigation(assistant, sender, engine):
    order_id, tail, shipment_id = _parcel_order(engine, delivered=True)
    replies = texts(identify(assistant, sender, "快递显示签收了但我没收到", order_id, tail))
    [ticket] = _tickets_of(engine, shipment_id, "delivery_investigation")
    assert ticket.severity == "high" and ticket.status == "open"
    assert any(order_id in t and str(ticket.id) in t for t in replies), replies
