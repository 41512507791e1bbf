"""Modify or cancel an order only before it ships; invoice requests for received orders."""

import asyncio

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.orders.changes import ActionModifyOrder, ValidateModifyOrderForm
from actions.orders.invoices import ActionRequestInvoice, ValidateInvoiceForm, split_title
from shop import db
from shop.db import session_scope
from shop.db.models import InvoiceRequest, Order, OrderItem, ReturnRequest, Sku
from tests.actions.aftersale_shop import NUMBERS, build_aftersale_shop, order_slots, run, tracker

UNPAID, PAID, SHIPPED, DELIVERED = (
    "2024112000001",
    "2024112000002",
    "2024112000003",
    "2024112000005",
)


@pytest.fixture
def shop(tmp_path, monkeypatch):
    ns = build_aftersale_shop(tmp_path, monkeypatch)
    yield ns
    db.reset()


def order_row(number):
    with session_scope() as s:
        order = s.execute(select(Order).where(Order.order_number == number)).scalar_one()
        refunds = s.execute(select(ReturnRequest).where(ReturnRequest.order_id == order.id))
        items = s.execute(select(OrderItem).where(OrderItem.order_id == order.id)).scalars()
        return {
            "state": order.state,
            "cancelled_at": order.cancelled_at,
            "address": order.address_masked,
            "refunds": [(r.status, r.refund_fen) for r in refunds.scalars()],
            "skus": [i.sku_id for i in items],
            "invoice_title": order.invoice_title,
        }


def modify(number, change, detail=None, text=""):
    slots = {"order_id": number, "phone_tail": "1234", "order_change": change}
    if detail:
        slots["order_change_detail"] = detail
    return run(ActionModifyOrder(), tracker(slots, text=text))


def test_cancelling_a_paid_order_refunds_it_at_once(shop):
    [message], events = modify(PAID, "cancel", text="不想要了帮我取消")
    row = order_row(PAID)
    assert row["state"] == "cancelled" and row["cancelled_at"] is not None
    assert row["refunds"] == [("refunded", 317700)]
    assert message["response"] == "utter_order_cancelled_refunded"
    assert message["refund_amount"] == "3177" and message["refund_fen"] == 317700
    assert message["card"]["status"] == "cancelled"
    assert {"event": "slot", "timestamp": None, "name": "order_change", "value": None} in events


def test_cancelling_an_unpaid_order_needs_no_refund(shop):
    [message], _ = modify(UNPAID, "cancel")
    assert message["response"] == "utter_order_cancelled"
    assert order_row(UNPAID)["refunds"] == [] and order_row(UNPAID)["state"] == "cancelled"


@pytest.mark.parametrize(
    "number, response",
    [
        (SHIPPED, "utter_modify_after_shipping"),
        (DELIVERED, "utter_modify_after_delivery"),
        ("2024112000006", "utter_modify_already_cancelled"),
    ],
)
def test_after_shipping_nothing_changes_and_the_alternative_is_offered(shop, number, response):
    before = order_row(number)
    [message], _ = modify(number, "cancel")
    assert message["response"] == response
    assert order_row(number) == before


def test_a_new_address_is_stored_masked(shop):
    [message], _ = modify(PAID, "address", "杭州市西湖区文三路 388 号 5 幢 1201")
    assert message["response"] == "utter_order_address_changed"
    assert "388" not in message["new_address"] and "文三路" in message["new_address"]
    assert order_row(PAID)["address"] == message["new_address"]


def test_another_size_before_shipping_moves_the_stock(shop):
    [message], _ = modify(NUMBERS["paid_trousers"], "spec", "换成L码")
    assert message["response"] == "utter_order_spec_changed"
    assert message["from_variant"] == "黑色/M" and message["to_variant"] == "黑色/L"
    assert order_row(NUMBERS["paid_trousers"])["skus"] == [shop.size_ids["L"]]
    with session_scope() as s:
        assert s.get(Sku, shop.size_ids["L"]).stock == 1
        assert s.get(Sku, shop.size_ids["M"]).stock == 5


def test_a_sold_out_size_is_not_promised(shop):
    [message], _ = modify(NUMBERS["paid_trousers"], "spec", "XL")
    assert message["response"] == "utter_modify_spec_unavailable"
    assert order_row(NUMBERS["paid_trousers"])["skus"] == [shop.size_ids["M"]]


def form_events(form, slots, text, intent, requested, domain_slots):
    domain = {"forms": {form.name()[9:]: {"required_slots": domain_slots}}, "slots": {}}
    dispatcher = CollectingDispatcher()
    tr = tracker({**slots, "requested_slot": requested}, text, intent)
    events = asyncio.run(form.run(dispatcher, tr, domain))
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


MODIFY_SLOTS = ["order_id", "phone_tail", "order_change", "order_change_detail"]


def test_the_change_is_read_from_the_request_and_the_detail_asked_only_before_shipping(shop):
    _, slots = form_events(
        ValidateModifyOrderForm(),
        order_slots("paid_trousers"),
        "地址写错了",
        "modify_order",
        None,
        MODIFY_SLOTS,
    )
    assert slots["order_change"] == "address"
    assert "requested_slot" not in slots  # Rasa asks the next empty slot: the new address
    shipped = {"order_id": SHIPPED, "phone_tail": "1234"}
    _, slots = form_events(
        ValidateModifyOrderForm(), shipped, "地址写错了", "modify_order", None, MODIFY_SLOTS
    )
    assert slots["order_change"] == "address" and slots["requested_slot"] is None


@pytest.mark.parametrize(
    "text, change", [("先别取消订单，我想改地址", "address"), ("先别取消，我想改地址", "address")]
)
def test_not_cancelling_but_changing_the_address_is_an_address_change(shop, text, change):
    _, slots = form_events(
        ValidateModifyOrderForm(),
        order_slots("paid_trousers"),
        text,
        "modify_order",
        None,
        MODIFY_SLOTS,
    )
    assert slots["order_change"] == change
    assert order_row(NUMBERS["paid_trousers"])["state"] == "paid"


@pytest.mark.parametrize("text", ["我不想取消了", "不取消了"])
def test_taking_a_cancellation_back_cancels_nothing(shop, text):
    # asked what to change: nothing is read
    _, slots = form_events(
        ValidateModifyOrderForm(),
        order_slots("paid_trousers"),
        text,
        "modify_order",
        "order_change",
        MODIFY_SLOTS,
    )
    assert slots.get("order_change") is None and slots["requested_slot"] == "order_change"
    # a cancellation already understood is taken back, so the form asks again
    _, slots = form_events(
        ValidateModifyOrderForm(),
        order_slots("paid_trousers", order_change="cancel"),
        text,
        "inform",
        None,
        MODIFY_SLOTS,
    )
    assert slots["order_change"] is None and slots["requested_slot"] == "order_change"
    row = order_row(NUMBERS["paid_trousers"])
    assert row["state"] == "paid" and row["refunds"] == []


def test_invoice_for_a_delivered_order_is_recorded_with_its_issue_time(shop):
    slots = {
        "order_id": DELIVERED,
        "phone_tail": "1234",
        "invoice_title": "杭州某某科技有限公司 税号91330100MA2B3C4D5E",
    }
    [message], _ = run(ActionRequestInvoice(), tracker(slots))
    assert message["response"] == "utter_invoice_requested_with_tax_number"
    assert message["invoice_title"] == "杭州某某科技有限公司"
    assert message["tax_number"] == "91330100MA2B3C4D5E"
    with session_scope() as s:
        [row] = s.execute(select(InvoiceRequest)).scalars().all()
        assert row.title == "杭州某某科技有限公司" and row.status == "requested"
        assert (row.issue_by - row.requested_at).total_seconds() == 24 * 3600
    assert order_row(DELIVERED)["invoice_title"] == "杭州某某科技有限公司"
    [again], _ = run(ActionRequestInvoice(), tracker(slots))
    assert again["response"] == "utter_invoice_already_requested"
    assert again["issue_by"] == message["issue_by"]


def test_a_personal_invoice_is_confirmed_without_a_tax_number(shop):
    slots = {"order_id": NUMBERS["fresh"], "phone_tail": "1234", "invoice_title": "个人"}
    [message], _ = run(ActionRequestInvoice(), tracker(slots))
    assert message["response"] == "utter_invoice_requested"
    assert message["invoice_title"] == "个人" and message["tax_number"] is None
    with session_scope() as s:
        [row] = s.execute(select(InvoiceRequest)).scalars().all()
        assert row.tax_number is None


@pytest.mark.parametrize(
    "number, response",
    [(UNPAID, "utter_invoice_not_available"), (SHIPPED, "utter_invoice_after_delivery")],
)
def test_invoice_before_delivery(shop, number, response):
    slots = {"order_id": number, "phone_tail": "1234", "invoice_title": "个人"}
    [message], _ = run(ActionRequestInvoice(), tracker(slots))
    assert message["response"] == response
    with session_scope() as s:
        assert s.execute(select(InvoiceRequest)).scalars().all() == []


@pytest.mark.parametrize(
    "text, address",
    [
        ("等下 你们一般发什么快递啊", None),
        ("这个要多久能改好", None),
        ("浙江省杭州市西湖区文三路200号", "浙江省杭州市西湖区文三路200号"),
        ("改成 北京市朝阳区望京花园三号楼", "北京市朝阳区望京花园三号楼"),
    ],
)
def test_only_an_address_is_taken_as_the_new_address(shop, text, address):
    """A question asked while the new address is asked for is no address: asked again."""
    slots = {**order_slots("paid_trousers"), "order_change": "address"}
    messages, found = form_events(
        ValidateModifyOrderForm(), slots, text, "nlu_fallback", "order_change_detail", MODIFY_SLOTS
    )
    assert found["order_change_detail"] == address
    if address is None:
        assert messages[0]["response"] == "utter_invalid_new_address"


INVOICE_SLOTS = ["order_id", "phone_tail", "invoice_title"]


def test_the_invoice_title_is_not_asked_for_an_order_that_cannot_or_need_not_be_invoiced(shop):
    """Unpaid, or already requested: the action answers at once instead of asking the title."""
    proof = {"order_id": UNPAID, "phone_tail": "1234"}
    _, slots = form_events(
        ValidateInvoiceForm(), proof, "先开发票再付款", "ask_invoice", None, INVOICE_SLOTS
    )
    assert slots["requested_slot"] is None
    delivered = {"order_id": DELIVERED, "phone_tail": "1234"}
    _, slots = form_events(
        ValidateInvoiceForm(), delivered, "要开发票", "ask_invoice", None, INVOICE_SLOTS
    )
    assert slots.get("requested_slot", "invoice_title") == "invoice_title"
    run(ActionRequestInvoice(), tracker({**delivered, "invoice_title": "个人"}))
    _, slots = form_events(
        ValidateInvoiceForm(), delivered, "发票什么时候开好", "ask_invoice", None, INVOICE_SLOTS
    )
    assert slots["requested_slot"] is None


@pytest.mark.parametrize("text", ["帮我开张发票 个人抬头", "开个人的发票就行", "发票抬头写个人"])
def test_a_personal_title_said_with_the_request_is_taken(shop, text):
    delivered = {"order_id": DELIVERED, "phone_tail": "1234"}
    _, slots = form_events(
        ValidateInvoiceForm(), delivered, text, "ask_invoice", None, INVOICE_SLOTS
    )
    assert slots["invoice_title"] == "个人"


@pytest.mark.parametrize(
    "text, title",
    [
        ("是电子发票还是纸质的啊？", None),
        ("发票多久能开好", None),
        ("开个人的可以吗？", "个人"),
        ("杭州某某科技有限公司 税号91330100MA2B3C4D5E", "杭州某某科技有限公司"),
    ],
)
def test_a_question_asked_while_the_title_is_asked_is_no_title(shop, text, title):
    delivered = {"order_id": DELIVERED, "phone_tail": "1234"}
    messages, slots = form_events(
        ValidateInvoiceForm(), delivered, text, "ask_invoice", "invoice_title", INVOICE_SLOTS
    )
    if title is None:
        assert slots["invoice_title"] is None
        assert messages[0]["response"] == "utter_invalid_invoice_title"
    else:
        assert title in slots["invoice_title"] and not messages


def test_invoice_title_parsing_and_re_ask():
    assert split_title("抬头：个人") == ("个人", None)
    messages, slots = form_events(
        ValidateInvoiceForm(),
        {},
        "：",
        "inform",
        "invoice_title",
        ["order_id", "phone_tail", "invoice_title"],
    )
    assert slots["invoice_title"] is None
    assert messages[0]["response"] == "utter_invalid_invoice_title"


@pytest.mark.parametrize(
    "text, title",
    [
        (f"能开发票吗 订单{NUMBERS['fresh']} 尾号1234 抬头写个人就行", "个人"),
        (
            "发票抬头：杭州某某科技有限公司 税号91330100MA2XXXXX0X",
            "杭州某某科技有限公司 91330100MA2XXXXX0X",
        ),
    ],
)
def test_a_title_given_with_the_request_is_not_asked_for(shop, text, title):
    messages, slots = form_events(
        ValidateInvoiceForm(),
        order_slots("fresh"),
        text,
        "ask_invoice",
        None,
        ["order_id", "phone_tail", "invoice_title"],
    )
    assert slots["invoice_title"] == title and messages == []
    assert split_title(title)[0] in ("个人", "杭州某某科技有限公司")


def test_a_personal_title_read_as_a_request_for_a_human_is_still_the_title():
    messages, slots = form_events(
        ValidateInvoiceForm(),
        {},
        "个人",
        "request_human",
        "invoice_title",
        ["order_id", "phone_tail", "invoice_title"],
    )
    assert slots["invoice_title"] == "个人" and slots["handoff_reason"] is None


@pytest.mark.parametrize(
    "reply",
    ["改成 江苏省南京市鼓楼区中山路100号", "帮我换成江苏省南京市鼓楼区中山路100号 谢谢"],
)
def test_the_words_around_a_new_address_are_not_part_of_it(shop, reply):
    slots = {**order_slots("paid_trousers"), "order_change": "address"}
    messages, changed = form_events(
        ValidateModifyOrderForm(), slots, reply, "inform", "order_change_detail", MODIFY_SLOTS
    )
    assert messages == []
    assert changed["order_change_detail"] == "江苏省南京市鼓楼区中山路100号"
    [message], _ = modify(NUMBERS["paid_trousers"], "address", changed["order_change_detail"])
    assert message["new_address"] == "江苏省南京市鼓楼区中山路**号"


def test_a_new_address_given_with_the_request_is_taken(shop):
    text = f"地址填错了 改成江苏省南京市鼓楼区中山路100号 订单{NUMBERS['paid_trousers']} 尾号1234"
    _, changed = form_events(
        ValidateModifyOrderForm(),
        order_slots("paid_trousers"),
        text,
        "modify_order",
        None,
        MODIFY_SLOTS,
    )
    assert changed["order_change"] == "address"
    assert changed["order_change_detail"] == "江苏省南京市鼓楼区中山路100号"


def test_an_address_change_without_the_address_asks_for_it(shop):
    text = f"地址填错了 帮我改一下 订单{NUMBERS['paid_trousers']} 尾号1234"
    _, changed = form_events(
        ValidateModifyOrderForm(),
        order_slots("paid_trousers"),
        text,
        "modify_order",
        None,
        MODIFY_SLOTS,
    )
    assert changed["order_change"] == "address" and "order_change_detail" not in changed
