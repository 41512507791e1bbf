"""Exchanges with the stock checked, size mismatches and quality issues with a photo request."""

import asyncio
from datetime import timedelta

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.aftersale.exchanges import ActionRequestExchange, ValidateExchangeForm
from actions.aftersale.quality_issues import ActionReportQualityIssue
from actions.aftersale.returns import ActionRecordReturnShipment
from actions.orders.status import ActionCheckRefundStatus
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


def requests(number):
    with session_scope() as s:
        order = s.execute(select(Order).where(Order.order_number == number)).scalar_one()
        return [
            (r.kind, r.status, r.exchange_sku_id, r.photo_requested, r.refund_fen, r.reason)
            for r in s.execute(
                select(ReturnRequest).where(ReturnRequest.order_id == order.id)
            ).scalars()
        ]


def exchange(size, key="fresh", **slots):
    return run(ActionRequestExchange(), tracker(order_slots(key, exchange_size=size, **slots)))


def test_an_exchange_for_a_size_in_stock_is_recorded(shop):
    [message], events = exchange("S")
    assert message["response"] == "utter_exchange_created"
    assert message["from_variant"] == "黑色/M" and message["to_variant"] == "黑色/S"
    assert message["stock"] == 3
    [(kind, status, sku_id, photo, refund, _)] = requests(NUMBERS["fresh"])
    assert (kind, status, sku_id, photo, refund) == (
        "exchange",
        "approved",
        shop.size_ids["S"],
        False,
        0,
    )
    assert any(e["name"] == "return_request_id" and e["value"] for e in events)


def test_one_size_up_is_read_from_the_words(shop):
    [message], _ = exchange("换大一码")
    assert message["to_variant"] == "黑色/L"


def test_a_sold_out_size_is_said_honestly_with_what_is_in_stock(shop):
    [message], events = exchange("XL")
    assert message["response"] == "utter_exchange_out_of_stock"
    assert message["to_variant"] == "黑色/XL"
    assert "黑色/S" in message["in_stock_variants"] and "XL" not in message["in_stock_variants"]
    assert message["restock_date"] == "2030-01-05"
    assert requests(NUMBERS["fresh"]) == []
    assert SlotSet("return_request_id", None) in events


def test_an_unknown_size_lists_the_variants(shop):
    [message], _ = exchange("XXXL")
    assert message["response"] == "utter_exchange_variant_unknown"
    assert message["variants_offered"] == "黑色/S、黑色/M、黑色/L、黑色/XL"


def test_a_size_mismatch_exchange_asks_for_a_photo(shop):
    [message], _ = exchange("L", order_topic="report_size_mismatch")
    assert message["response"] == "utter_exchange_created_photo"
    assert requests(NUMBERS["fresh"])[0][3] is True


def test_exchange_outside_the_window_is_refused(shop):
    [message], _ = exchange("S", key="ten_days")
    assert message["response"] == "utter_exchange_window_passed"
    assert requests(NUMBERS["ten_days"]) == []


def test_an_unshipped_order_is_changed_not_exchanged(shop):
    [message], _ = exchange("S", key="paid_trousers")
    assert message["response"] == "utter_exchange_not_shipped"


def test_the_exchange_is_sent_when_the_return_parcel_ships(shop):
    _, events = exchange("S")
    request_id = next(e["value"] for e in events if e["name"] == "return_request_id")
    slots = order_slots(
        "fresh", return_request_id=request_id, return_tracking_number="YT1234567890123"
    )
    [message], _ = run(ActionRecordReturnShipment(), tracker(slots))
    assert message["response"] == "utter_exchange_sent"
    assert requests(NUMBERS["fresh"])[0][1] == "exchange_shipped"


def ship_exchange_back(number):
    _, events = exchange("S")
    request_id = next(e["value"] for e in events if e["name"] == "return_request_id")
    slots = order_slots("fresh", return_request_id=request_id, return_tracking_number=number)
    [message], _ = run(ActionRecordReturnShipment(), tracker(slots))
    return message, int(request_id)


def test_a_return_parcel_of_no_known_carrier_holds_the_replacement_for_a_person(shop):
    message, request_id = ship_exchange_back("AB12345678")
    assert message["response"] == "utter_exchange_under_review"
    assert message["review_hours"] == refund_policy.REVIEW_HOURS == 24
    assert message["review_due"] and message["return_tracking_number"] == "AB12345678"
    with session_scope() as s:
        request = s.get(ReturnRequest, request_id)
        assert (request.status, request.refund_state, request.refund_state_by) == (
            "return_shipped",
            "under_review",
            "bot",
        )
        assert request.review_reason == "unconfirmed_number"
        assert request.review_due - request.return_shipped_at == timedelta(hours=24)
        [listed] = aftersale_repo.refunds_to_review(s, request.refund_state_at)
        assert (listed.request_id, listed.kind, listed.state) == (
            request_id,
            "exchange",
            "under_review",
        )
    # the new item stays reserved for this customer while a person checks
    assert stock(shop.size_ids["S"]) == 2
    # asked later, the customer hears it is waiting, not that a refund is on its way
    [status], _ = run(ActionCheckRefundStatus(), tracker(order_slots("fresh")))
    assert status["response"] == "utter_exchange_under_review"
    assert status["review_due"] == message["review_due"]


def test_a_second_number_for_a_held_exchange_is_refused(shop):
    _, request_id = ship_exchange_back("AB12345678")
    slots = order_slots(
        "fresh", return_request_id=str(request_id), return_tracking_number="YT1234567890123"
    )
    [message], _ = run(ActionRecordReturnShipment(), tracker(slots))
    assert message["response"] == "utter_return_no_open_request"
    with session_scope() as s:
        assert s.get(ReturnRequest, request_id).return_tracking_number == "AB12345678"


def test_an_agent_sends_a_held_replacement(shop):
    _, request_id = ship_exchange_back("AB12345678")
    with session_scope() as s:
        request = s.get(ReturnRequest, request_id)
        later = utcnow()
        aftersale_repo.approve_refund(s, request, "agent", later)
        assert request.status == "exchange_shipped" and request.refunded_at is None
        assert (request.refund_state, request.refund_state_by) == ("issued", "agent")
        assert request.review_due is None
        with pytest.raises(aftersale_repo.RefundNotChangeable):  # sent: not taken back here
            aftersale_repo.reverse_refund(s, request, "agent", later)
    assert stock(shop.size_ids["S"]) == 2  # taken once, when the exchange was recorded


def test_an_agent_declines_a_held_replacement_and_the_item_goes_back_on_sale(shop):
    _, request_id = ship_exchange_back("AB12345678")
    with session_scope() as s:
        request = s.get(ReturnRequest, request_id)
        aftersale_repo.reverse_refund(s, request, "supervisor", utcnow())
        assert (request.status, request.refund_state) == ("rejected", "reversed")
        with pytest.raises(aftersale_repo.RefundNotChangeable):
            aftersale_repo.approve_refund(s, request, "supervisor", utcnow())
    assert stock(shop.size_ids["S"]) == 3


def test_an_exchange_sent_at_once_has_nothing_for_a_person_to_decide(shop):
    message, request_id = ship_exchange_back("SF1234567890123")
    assert message["response"] == "utter_exchange_sent"
    with session_scope() as s:
        request = s.get(ReturnRequest, request_id)
        assert request.refund_state is None and request.review_reason is None
        for decide in (aftersale_repo.approve_refund, aftersale_repo.reverse_refund):
            with pytest.raises(aftersale_repo.RefundNotChangeable):
                decide(s, request, "agent", utcnow())
    assert stock(shop.size_ids["S"]) == 2


def quality_report(key, text="裤子收到就开线了"):
    events = [
        {"event": "user", "text": text, "parse_data": {"intent": {"name": "report_quality_issue"}}}
    ]
    return run(ActionReportQualityIssue(), tracker(order_slots(key), text="1234", events=events))


def test_a_quality_issue_records_the_photo_request_and_offers_both_ways(shop):
    [message], events = quality_report("ten_days")
    assert message["response"] == "utter_quality_issue_photo"
    assert message["quality_window_days"] == 15
    assert message["refund_amount"] == "199"
    [(kind, status, _, photo, refund, reason)] = requests(NUMBERS["ten_days"])
    assert (kind, status, photo, refund, reason) == (
        "return",
        "requested",
        True,
        19900,
        "裤子收到就开线了",
    )
    assert SlotSet("issue_kind", "quality") in events


def test_a_replacement_after_a_quality_report_reuses_the_request(shop):
    quality_report("ten_days")
    [message], _ = exchange(None, key="ten_days", issue_kind="quality")
    assert message["response"] == "utter_exchange_created_photo"
    assert message["to_variant"] == message["from_variant"] == "黑色/L"
    [(kind, _, sku_id, photo, refund, _)] = requests(NUMBERS["ten_days"])
    assert (kind, sku_id, photo, refund) == ("exchange", shop.size_ids["L"], True, 0)


def test_a_quality_issue_after_fifteen_days_goes_to_the_warranty(shop):
    [message], _ = quality_report("old", "油烟机不转了")
    assert message["response"] == "utter_quality_warranty_route"
    assert message["warranty_years"] == 3
    assert requests(NUMBERS["old"]) == []


def test_a_quality_issue_of_a_parcel_on_its_way(shop):
    [message], _ = run(
        ActionReportQualityIssue(), tracker({"order_id": "2024112000003", "phone_tail": "1234"})
    )
    assert message["response"] == "utter_quality_in_transit"


def validate(slots, text, requested, entities=None):
    domain = {
        "forms": {"exchange_form": {"required_slots": ["order_id", "phone_tail", "exchange_size"]}},
        "slots": {},
    }
    dispatcher = CollectingDispatcher()
    tr = tracker({**slots, "requested_slot": requested}, text, entities=entities)
    events = asyncio.run(ValidateExchangeForm().run(dispatcher, tr, domain))
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def test_the_form_re_asks_for_a_size_the_product_does_not_come_in(shop):
    messages, slots = validate(order_slots("fresh"), "3XL", "exchange_size")
    assert slots["exchange_size"] is None
    assert messages[0]["response"] == "utter_exchange_variant_unknown"
    messages, slots = validate(order_slots("fresh"), "s码", "exchange_size")
    assert slots["exchange_size"] == "S" and messages == []


def test_a_quality_exchange_asks_no_size(shop):
    required = asyncio.run(
        ValidateExchangeForm().required_slots(
            ["order_id", "phone_tail", "exchange_size"],
            CollectingDispatcher(),
            tracker({"issue_kind": "quality"}),
            {},
        )
    )
    assert required == ["order_id", "phone_tail"]


# --- the replacement is reserved when the exchange is recorded ---------------------------------


def stock(sku_id):
    from shop.db.models import Sku

    with session_scope() as s:
        return s.get(Sku, sku_id).stock


def set_stock(shop, sku_id, value):
    from shop.db import make_engine
    from shop.db.models import Sku

    engine = make_engine(shop.url)
    with session_scope(engine) as s:
        s.get(Sku, sku_id).stock = value
    engine.dispose()


def test_recording_an_exchange_takes_the_new_item_off_the_shelf(shop):
    exchange("S")
    assert stock(shop.size_ids["S"]) == 2
    # sending it when the return parcel ships does not take it a second time
    slots = order_slots("fresh", return_tracking_number="YT1234567890123")
    run(ActionRecordReturnShipment(), tracker(slots))
    assert requests(NUMBERS["fresh"])[0][1] == "exchange_shipped"
    assert stock(shop.size_ids["S"]) == 2


def test_the_last_one_goes_to_one_customer_only(shop):
    set_stock(shop, shop.size_ids["L"], 1)
    [first], _ = exchange("L")
    assert first["response"] == "utter_exchange_created"
    [second], events = exchange("L", key="ten_days", issue_kind="quality")  # also wants black L
    assert second["response"] == "utter_exchange_out_of_stock"
    assert stock(shop.size_ids["L"]) == 0
    assert requests(NUMBERS["ten_days"]) == []
    assert SlotSet("return_request_id", None) in events


def test_taken_between_the_check_and_the_record_is_out_of_stock_not_promised(shop, monkeypatch):
    """Another customer takes the last one after this action read the stock."""
    from actions.aftersale import exchanges

    set_stock(shop, shop.size_ids["S"], 1)
    real = exchanges.resolve_variant

    def resolve_then_someone_buys(session, current, wanted):
        found = real(session, current, wanted)
        assert found.stock == 1  # read by this action before the other customer's order
        set_stock(shop, found.id, 0)
        return found

    monkeypatch.setattr(exchanges, "resolve_variant", resolve_then_someone_buys)
    [message], events = exchange("S")
    assert message["response"] == "utter_exchange_out_of_stock"
    assert message["to_variant"] == "黑色/S" and message["stock"] == 0
    assert "黑色/S" not in message["in_stock_variants"]
    assert requests(NUMBERS["fresh"]) == []
    assert stock(shop.size_ids["S"]) == 0  # never below zero
    assert SlotSet("return_request_id", None) in events


def test_changing_the_size_gives_the_first_one_back(shop):
    exchange("S")
    [message], _ = exchange("L")
    assert message["response"] == "utter_exchange_created"
    assert (stock(shop.size_ids["S"]), stock(shop.size_ids["L"])) == (3, 1)
    [(kind, _, sku_id, *_)] = requests(NUMBERS["fresh"])
    assert (kind, sku_id) == ("exchange", shop.size_ids["L"])
    exchange("L")  # asked again for the same size: not taken twice
    assert stock(shop.size_ids["L"]) == 1


def test_a_refund_instead_of_the_exchange_gives_the_item_back(shop):
    from actions.aftersale.returns import ActionRequestReturn

    exchange("S")
    assert stock(shop.size_ids["S"]) == 2
    [message], _ = run(ActionRequestReturn(), tracker(order_slots("fresh", return_reason="不换了")))
    assert message["response"] == "utter_return_created"
    assert stock(shop.size_ids["S"]) == 3
    [(kind, _, sku_id, _, refund, _)] = requests(NUMBERS["fresh"])
    assert (kind, sku_id, refund) == ("return", None, 19900)


def test_a_quality_replacement_reserves_the_same_item(shop):
    quality_report("ten_days")
    exchange(None, key="ten_days", issue_kind="quality")
    assert stock(shop.size_ids["L"]) == 1


def test_the_repository_reserves_atomically_and_never_below_zero(shop):
    from shop.repository import aftersale as aftersale_repo

    set_stock(shop, shop.size_ids["S"], 1)
    with session_scope() as s:
        assert aftersale_repo.reserve_stock(s, shop.size_ids["S"]) is True
        assert aftersale_repo.reserve_stock(s, shop.size_ids["S"]) is False
        assert aftersale_repo.reserve_stock(s, shop.size_ids["M"], 5) is False  # 4 left
    assert (stock(shop.size_ids["S"]), stock(shop.size_ids["M"])) == (0, 4)
    with session_scope() as s:
        order = s.execute(select(Order).where(Order.order_number == NUMBERS["fresh"])).scalar_one()
        with pytest.raises(aftersale_repo.OutOfStock):
            aftersale_repo.create_return(
                s,
                order,
                reason="换小一码",
                now=order.created_at,
                kind="exchange",
                order_item=order.items[0],
                exchange_sku_id=shop.size_ids["S"],
            )
    assert requests(NUMBERS["fresh"]) == []
