"""Returns: the 7-day window from delivery, honest refusals, and the refund at the return's number."""

import asyncio
from datetime import timedelta

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.aftersale.returns import (
    ActionRecordReturnShipment,
    ActionRequestReturn,
    ValidateReturnForm,
    ValidateReturnShipmentForm,
    reason_in,
)
from shop import db
from shop.db import session_scope
from shop.db.models import Order, ReturnRequest, utcnow
from tests.actions.aftersale_shop import (
    NUMBERS,
    TAIL,
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
    assert row["kind"] == "return" and row["status"] == "approved" and row["reason"] == "买大了"
    assert (
        row["refund_fen"] == 19900
    )  # the 8 yuan shipping fee of a no-reason return is not refunded
    assert message["refund_amount"] == "199" and message["refund_fen"] == 19900
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
    assert message["refund_amount"] == "199"
    assert message["return_tracking_number"] == "SF1234567890123"
    assert message["refunded_at"] and message["expected_by"] > message["refunded_at"]
    assert SlotSet("return_request_id", None) in events


def test_the_outbound_tracking_number_is_not_taken_as_the_return(shop):
    request_return("fresh")
    slots = order_slots("fresh", return_tracking_number=f"SF7{NUMBERS['fresh']}")
    [message], _ = run(ActionRecordReturnShipment(), tracker(slots))
    assert message["response"] == "utter_return_tracking_is_outbound"
    assert rows(NUMBERS["fresh"])[0]["status"] == "approved"


@pytest.mark.parametrize("bad", ["12", "'; DROP TABLE returns; --", "😀" * 10])
def test_a_malformed_tracking_number_refunds_nothing(shop, bad):
    request_return("fresh")
    slots = order_slots("fresh", return_tracking_number=bad)
    [message], _ = run(ActionRecordReturnShipment(), tracker(slots))
    assert message["response"] == "utter_invalid_return_tracking_number"
    assert rows(NUMBERS["fresh"])[0]["status"] == "approved"


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
        ValidateReturnShipmentForm(), {}, "XY12345", requested="return_tracking_number"
    )
    assert slots["return_tracking_number"] is None
    assert messages[0]["response"] == "utter_invalid_return_tracking_number"


@pytest.mark.parametrize("reply", ["还没", "寄了", "明天寄出"])
def test_a_reply_without_any_number_is_asked_again_without_calling_it_wrong(reply):
    messages, slots = validate(
        ValidateReturnShipmentForm(), {}, reply, requested="return_tracking_number"
    )
    assert slots["return_tracking_number"] is None  # the form asks for it again
    assert messages == []


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
    from actions.orders.status import shop_time

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
    assert row["status"] == "approved" and row["tracking"] is None
    assert row["refunded_at"] is None


def test_a_number_already_given_for_another_return_refunds_nothing(shop):
    request_return("ten_days", issue_kind="quality")
    [first], _ = ship_back("ten_days", "YT9876543210987")
    assert first["response"] == "utter_refund_issued"
    request_return("fresh")
    [message], _ = ship_back("fresh", "yt 9876-5432-10987")
    assert message["response"] == "utter_invalid_return_tracking_number"
    assert rows(NUMBERS["fresh"])[0]["status"] == "approved"
    # a number of its own is still refunded at once
    [message], _ = ship_back("fresh", "YT9876543210988")
    assert message["response"] == "utter_refund_issued"


def test_the_repository_refuses_a_number_of_another_return(shop):
    from shop.repository import aftersale as aftersale_repo
    from shop.repository.aftersale import record_return_shipment

    request_return("ten_days", issue_kind="quality")
    ship_back("ten_days", "YT9876543210987")
    request_return("fresh")
    with session_scope() as s:
        order = s.execute(select(Order).where(Order.order_number == NUMBERS["fresh"])).scalar_one()
        request = aftersale_repo.open_request_for_order(s, order)
        assert aftersale_repo.return_tracking_in_use(s, "yt9876543210987")
        assert not aftersale_repo.return_tracking_in_use(s, "YT9876543210988")
        with pytest.raises(aftersale_repo.NumberRefused) as refused:
            record_return_shipment(s, request, "YT9876543210987", utcnow())
        assert refused.value.reason == "in_use"


@pytest.mark.parametrize(
    "text, response",
    [
        ("13812345678", "utter_return_tracking_is_phone"),
        ("寄出了 单号 138-1234-5678", "utter_return_tracking_is_phone"),
        (NUMBERS["fresh"], "utter_invalid_return_tracking_number"),
    ],
    ids=["mobile", "mobile-in-text", "order-number"],
)
def test_the_shipment_form_asks_again_for_a_mobile_or_the_order_number(text, response):
    slots = {"order_id": NUMBERS["fresh"], "phone_tail": "1234"}
    messages, changed = validate(
        ValidateReturnShipmentForm(), slots, text, requested="return_tracking_number"
    )
    assert changed["return_tracking_number"] is None
    assert "phone_tail" not in changed and "tracking_number" not in changed  # the tail stays
    assert [m["response"] for m in messages] == [response]
    assert "5678" not in repr(changed)  # the mobile is stored nowhere


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


# --- one item of an order with several -------------------------------------------------------

BASKET = "2024112100008"
# trousers M 199 + lavender oil 2 × 89 + range hood 2999 = 3376 yuan, 100 off, 8 shipping
BASKET_ITEMS, BASKET_DISCOUNT, BASKET_FEE = 337600, 10000, 800
BASKET_PAYABLE = BASKET_ITEMS - BASKET_DISCOUNT + BASKET_FEE
# each line's share of the discount, in proportion to its total: 589, 527 and 8883 fen
PAID = {"trousers": 19900 - 589, "oil": 17800 - 527, "hood": 299900 - 8883}


def add_basket(shop):
    """A delivered three-line order of Alice's with a discount; returns the line ids by name."""
    from shop.db import make_engine
    from shop.db.models import Customer, OrderItem, Shipment, Sku
    from tests.actions.conftest import order_row
    from tests.actions.kit.test_identity import D

    engine = make_engine(shop.url)
    with session_scope(engine) as s:
        alice = s.get(Customer, shop.alice_id)
        order = order_row(
            BASKET,
            alice,
            "delivered",
            shop.now - 5 * D,
            BASKET_PAYABLE,
            paid_at=shop.now - 5 * D,
            shipped_at=shop.now - 4 * D,
            delivered_at=shop.now - 2 * D,
        )
        order.items_total_fen, order.discount_fen = BASKET_ITEMS, BASKET_DISCOUNT
        order.shipping_fee_fen = BASKET_FEE
        lines = {
            "trousers": OrderItem(sku_id=shop.size_ids["M"], quantity=1, unit_price_fen=19900),
            "oil": OrderItem(
                sku_id=s.query(Sku).filter_by(code="O-LAV-01").one().id,
                quantity=2,
                unit_price_fen=8900,
            ),
            "hood": OrderItem(
                sku_id=s.query(Sku).filter_by(code="H-J1-01").one().id,
                quantity=1,
                unit_price_fen=299900,
            ),
        }
        order.items = list(lines.values())
        order.shipments = [
            Shipment(
                carrier="顺丰",
                tracking_number=f"SF7{BASKET}",
                status="delivered",
                shipped_at=shop.now - 4 * D,
                delivered_at=shop.now - 2 * D,
                signed_by="本人",
            )
        ]
        s.add(order)
        s.flush()
        ids = {name: line.id for name, line in lines.items()}
    engine.dispose()
    return ids


def basket_rows():
    with session_scope() as s:
        order = s.execute(select(Order).where(Order.order_number == BASKET)).scalar_one()
        found = s.execute(select(ReturnRequest).where(ReturnRequest.order_id == order.id))
        return [(r.order_item_id, r.kind, r.status, r.refund_fen) for r in found.scalars()]


def basket_slots(**extra):
    return {"order_id": BASKET, "phone_tail": "1234", "return_reason": "买多了", **extra}


def product_said(value, text=None, intent="request_return"):
    """Events of a request naming a product (the entity the catalog extractor gives)."""
    return [
        {
            "event": "user",
            "text": text or f"我要退{value}",
            "parse_data": {
                "intent": {"name": intent},
                "entities": [{"entity": "product", "value": value}],
            },
        }
    ]


def test_returning_one_item_of_three_refunds_only_that_item(shop):
    lines = add_basket(shop)
    slots = basket_slots(return_item=str(lines["trousers"]))
    [message], events = run(ActionRequestReturn(), tracker(slots))
    assert message["response"] == "utter_return_created"
    assert basket_rows() == [(lines["trousers"], "return", "approved", PAID["trousers"])]
    assert message["refund_fen"] == 19311 and message["refund_amount"] == "193.11"
    assert message["product"] == "衣见直筒休闲裤"
    assert SlotSet("return_item", None) in events


def test_the_item_is_read_from_the_product_the_customer_named(shop):
    lines = add_basket(shop)
    # "裤子" is no product name: the catalog matcher maps it to the trousers of the order
    [message], _ = run(ActionRequestReturn(), tracker(basket_slots(), events=product_said("裤子")))
    assert message["response"] == "utter_return_created"
    assert basket_rows() == [(lines["trousers"], "return", "approved", PAID["trousers"])]
    [message], _ = run(
        ActionRequestReturn(), tracker(basket_slots(), events=product_said("薰衣草精油"))
    )
    assert [r[0] for r in basket_rows()] == [lines["trousers"], lines["oil"]]
    assert message["refund_fen"] == PAID["oil"] == 17273


def test_a_product_named_before_the_request_does_not_count(shop):
    add_basket(shop)
    earlier = product_said("裤子", "这条裤子有什么颜色", intent="ask_product_info")
    events = earlier + [
        {"event": "user", "text": "我要退货", "parse_data": {"intent": {"name": "request_return"}}}
    ]
    [message], _ = run(ActionRequestReturn(), tracker(basket_slots(), events=events))
    assert message["response"] == "utter_ask_return_item"
    assert basket_rows() == []


def test_without_the_item_the_whole_order_is_never_refunded_but_asked_for(shop):
    add_basket(shop)
    [message], events = run(ActionRequestReturn(), tracker(basket_slots()))
    assert message["response"] == "utter_ask_return_item"
    assert message["order_id"] == BASKET
    assert [c["title"] for c in message["choices"]] == [
        "衣见直筒休闲裤（黑色/M）",
        "芳屿薰衣草精油（10ml）",
        "厨匠侧吸式油烟机J1（星空灰）",
    ]
    assert (
        message["choices"][0]["payload"] == '/request_return{"product": "衣见直筒休闲裤（黑色/M）"}'
    )
    assert "2. 芳屿薰衣草精油（10ml）×2" in message["item_options"]
    assert basket_rows() == [] and events == [SlotSet("return_request_id", None)]
    # the button's payload names the item: the request goes through for that one only
    payload = product_said("芳屿薰衣草精油（10ml）")
    [message], _ = run(ActionRequestReturn(), tracker(basket_slots(), events=payload))
    assert message["response"] == "utter_return_created" and message["refund_fen"] == 17273


def test_a_second_item_is_returned_after_the_first_was_refunded(shop):
    lines = add_basket(shop)
    run(ActionRequestReturn(), tracker(basket_slots(return_item=str(lines["trousers"]))))
    slots = basket_slots(return_tracking_number="YT1111222233334")
    [message], _ = run(ActionRecordReturnShipment(), tracker(slots))
    assert message["response"] == "utter_refund_issued" and message["refund_fen"] == 19311
    [message], _ = run(ActionRequestReturn(), tracker(basket_slots(return_item=str(lines["oil"]))))
    assert message["response"] == "utter_return_created" and message["refund_fen"] == 17273
    # the refunded item itself is not returned twice
    slots = basket_slots(return_item=str(lines["trousers"]))
    [message], _ = run(ActionRequestReturn(), tracker(slots))
    assert message["response"] == "utter_return_already_done"


def test_the_whole_order_refunds_no_more_than_is_left(shop):
    lines = add_basket(shop)
    run(ActionRequestReturn(), tracker(basket_slots(return_item=str(lines["trousers"]))))
    run(
        ActionRecordReturnShipment(),
        tracker(basket_slots(return_tracking_number="YT1111222200001")),
    )
    [message], _ = run(ActionRequestReturn(), tracker(basket_slots(return_item="all")))
    # paid less the shipping fee of a no-reason return, less the trousers already refunded
    assert message["refund_fen"] == BASKET_PAYABLE - BASKET_FEE - PAID["trousers"]
    assert sum(r[3] for r in basket_rows()) == BASKET_PAYABLE - BASKET_FEE
    run(
        ActionRecordReturnShipment(),
        tracker(basket_slots(return_tracking_number="YT3333444400001")),
    )
    # once the whole order is refunded, none of its items is returned again
    [message], _ = run(ActionRequestReturn(), tracker(basket_slots(return_item=str(lines["oil"]))))
    assert message["response"] == "utter_return_already_done"


def test_an_item_refund_is_capped_by_what_is_still_refundable(shop):
    from shop import repository as repo

    lines = add_basket(shop)
    with session_scope() as s:
        order = s.execute(select(Order).where(Order.order_number == BASKET)).scalar_one()
        # the hood's price dropped by 500 yuan after payment: the difference was paid back
        ticket = repo.create_ticket(
            s,
            customer_id=order.customer_id,
            now=shop.now,
            category="price",
            kind="price_protection",
            order_id=order.id,
        )
        repo.record_ticket_choice(
            s,
            ticket,
            chosen_option="补差价",
            now=shop.now,
            compensation_fen=50000,
            authority_fen=50000,
        )
    run(ActionRequestReturn(), tracker(basket_slots(return_item=str(lines["trousers"]))))
    [message], _ = run(ActionRequestReturn(), tracker(basket_slots(return_item=str(lines["hood"]))))
    # the hood's share (2910.17) is more than is left: paid less fee, trousers and the difference
    left = BASKET_PAYABLE - BASKET_FEE - PAID["trousers"] - 50000
    assert left < PAID["hood"]
    assert message["response"] == "utter_return_created" and message["refund_fen"] == left


def form_domain():
    return {
        "forms": {
            "return_form": {
                "required_slots": ["order_id", "phone_tail", "return_item", "return_reason"]
            }
        },
        "slots": {},
    }


def required(slots):
    form = ValidateReturnForm()
    return asyncio.run(
        form.required_slots(
            form_domain()["forms"]["return_form"]["required_slots"],
            CollectingDispatcher(),
            tracker(slots),
            {},
        )
    )


def test_the_form_asks_for_the_item_only_when_the_order_has_several(shop):
    add_basket(shop)
    assert required(basket_slots()) == ["order_id", "phone_tail", "return_item", "return_reason"]
    assert required(order_slots("fresh")) == ["order_id", "phone_tail", "return_reason"]


def test_the_question_offers_the_items_and_all_of_them_as_buttons(shop):
    add_basket(shop)
    from actions.aftersale.returns import ActionAskReturnItem

    [message], events = run(ActionAskReturnItem(), tracker(basket_slots()))
    assert message["response"] == "utter_ask_return_item" and events == []
    assert [(c["title"], c["payload"]) for c in message["choices"]] == [
        ("衣见直筒休闲裤（黑色/M）", "衣见直筒休闲裤（黑色/M）"),
        ("芳屿薰衣草精油（10ml）", "芳屿薰衣草精油（10ml）"),
        ("厨匠侧吸式油烟机J1（星空灰）", "厨匠侧吸式油烟机J1（星空灰）"),
        ("全部商品", "全部商品"),
    ]
    assert message["item_options"].endswith("4. 全部商品")


@pytest.mark.parametrize(
    "reply, picked",
    [
        ("衣见直筒休闲裤（黑色/M）", "trousers"),
        ("2", "oil"),
        ("第三个", "hood"),
        ("油烟机", "hood"),
        ("全部都退", "all"),
        ("4", "all"),
    ],
)
def test_the_form_reads_which_item(shop, reply, picked):
    lines = add_basket(shop)
    domain = form_domain()
    slots = {**basket_slots(), "requested_slot": "return_item"}
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateReturnForm().run(dispatcher, tracker(slots, reply), domain))
    values = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert values["return_item"] == (str(lines[picked]) if picked in lines else "all")


def test_an_answer_naming_no_item_is_asked_again(shop):
    add_basket(shop)
    slots = {**basket_slots(), "requested_slot": "return_item"}
    events = asyncio.run(
        ValidateReturnForm().run(CollectingDispatcher(), tracker(slots, "随便吧"), form_domain())
    )
    values = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert values["return_item"] is None  # the form asks again


def test_a_single_item_order_is_returned_as_before_without_the_question(shop):
    [message], _ = request_return("fresh")
    assert message["response"] == "utter_return_created" and message["refund_fen"] == 19900
    with session_scope() as s:
        order = s.execute(select(Order).where(Order.order_number == NUMBERS["fresh"])).scalar_one()
        [row] = s.execute(select(ReturnRequest).where(ReturnRequest.order_id == order.id)).scalars()
        assert row.order_item_id == order.items[0].id


def test_a_parcel_number_given_with_the_request_is_taken_when_the_form_starts(shop):
    """ "退货已经寄回去了 单号SF…": the shipment form does not ask for it again."""
    text = f"退货已经寄回去了 单号SF1234567890123 订单{NUMBERS['fresh']} 尾号{TAIL}"
    message = {"event": "user", "text": text, "parse_data": {"intent": {"name": "request_return"}}}
    domain = {"forms": {"return_shipment_form": {"required_slots": ["return_tracking_number"]}}}
    dispatcher = CollectingDispatcher()
    tr = tracker(order_slots("fresh"), text, "request_return", events=[message])
    events = asyncio.run(ValidateReturnShipmentForm().run(dispatcher, tr, domain))
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["return_tracking_number"] == "SF1234567890123" and dispatcher.messages == []


def test_the_shop_s_own_parcel_given_with_the_request_is_passed_over_quietly(shop):
    text = f"SF7{NUMBERS['fresh']} 这个要退货"
    message = {"event": "user", "text": text, "parse_data": {"intent": {"name": "request_return"}}}
    domain = {"forms": {"return_shipment_form": {"required_slots": ["return_tracking_number"]}}}
    dispatcher = CollectingDispatcher()
    tr = tracker(order_slots("fresh"), text, "request_return", events=[message])
    events = asyncio.run(ValidateReturnShipmentForm().run(dispatcher, tr, domain))
    assert not [e for e in events if e.get("name") == "return_tracking_number" and e["value"]]
    assert dispatcher.messages == []


def test_recording_without_a_number_asks_for_it_or_names_the_mobile(shop):
    request_return("fresh")
    messages, events = run(ActionRecordReturnShipment(), tracker(order_slots("fresh"), "寄了"))
    assert [m["response"] for m in messages] == ["utter_ask_return_tracking_number"]
    messages, _ = run(
        ActionRecordReturnShipment(), tracker(order_slots("fresh"), "单号13812345678")
    )
    assert [m["response"] for m in messages] == ["utter_return_tracking_is_phone"]
    assert rows(NUMBERS["fresh"])[0]["status"] == "approved"  # nothing refunded


@pytest.mark.parametrize(
    "text, reason",
    [
        ("对了 退货运费谁出啊", None),
        (f"退货 {NUMBERS['fresh']} 尾号{TAIL}", None),
        (f"退货 {NUMBERS['fresh']} 尾号{TAIL} 尺码不合适", "退货 尺码不合适"),
        ("买大了想退货", "买大了想退货"),
    ],
)
def test_a_question_or_the_order_s_proof_is_no_return_reason(text, reason):
    assert reason_in(text) == reason


def test_a_return_agreed_in_time_is_refunded_when_its_parcel_comes_after_the_window(shop):
    """The return was approved within the 7 days; the number comes on day 10: refunded."""
    with session_scope() as session:
        order = session.execute(
            select(Order).where(Order.order_number == NUMBERS["ten_days"])
        ).scalar_one()
        session.add(
            ReturnRequest(
                order_id=order.id,
                kind="return",
                reason="不喜欢",
                status="approved",
                refund_fen=19900,
                created_at=utcnow() - timedelta(days=5),
                approved_at=utcnow() - timedelta(days=5),
            )
        )
    text = f"退货已经寄回去了 单号SF1234567890123 订单{NUMBERS['ten_days']} 尾号{TAIL}"
    slots = order_slots("ten_days")
    [message], events = run(ActionRequestReturn(), tracker(slots, text, "request_return"))
    assert message["response"] == "utter_return_created"
    request_id = next(e["value"] for e in events if e.get("name") == "return_request_id")
    said = {"event": "user", "text": text, "parse_data": {"intent": {"name": "request_return"}}}
    domain = {"forms": {"return_shipment_form": {"required_slots": ["return_tracking_number"]}}}
    form_slots = {**slots, "return_request_id": request_id}
    tr = tracker(form_slots, text, "request_return", events=[said])
    changed = asyncio.run(ValidateReturnShipmentForm().run(CollectingDispatcher(), tr, domain))
    number = next(e["value"] for e in changed if e.get("name") == "return_tracking_number")
    [message], _ = run(
        ActionRecordReturnShipment(),
        tracker({**form_slots, "return_tracking_number": number}, text, "request_return"),
    )
    assert message["response"] == "utter_refund_issued"
    [row] = rows(NUMBERS["ten_days"])
    assert (row["status"], row["tracking"]) == ("refunded", "SF1234567890123")
