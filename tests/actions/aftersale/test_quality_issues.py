"""Quality issues on an order with several items: the faulty one is refunded, not the order."""

import pytest
from rasa_sdk.events import SlotSet

from actions.aftersale.exchanges import ActionRequestExchange
from actions.aftersale.quality_issues import ActionReportQualityIssue
from actions.aftersale.returns import ActionRequestReturn
from shop import db
from tests.actions.aftersale.test_returns import (
    BASKET,
    BASKET_FEE,
    BASKET_PAYABLE,
    PAID,
    add_basket,
    basket_rows,
    product_said,
)
from tests.actions.aftersale_shop import build_aftersale_shop, order_slots, run, tracker


@pytest.fixture
def shop(tmp_path, monkeypatch):
    ns = build_aftersale_shop(tmp_path, monkeypatch)
    ns.lines = add_basket(ns)
    yield ns
    db.reset()


def basket(**extra):
    return {"order_id": BASKET, "phone_tail": "1234", **extra}


def report(events=None, **slots):
    events = events or [
        {
            "event": "user",
            "text": "收到有个东西是坏的",
            "parse_data": {"intent": {"name": "report_quality_issue"}},
        }
    ]
    return run(ActionReportQualityIssue(), tracker(basket(**slots), text="1234", events=events))


def test_a_faulty_item_of_three_offers_and_records_only_its_refund(shop):
    said = product_said("精油", "精油瓶子漏了", intent="report_quality_issue")
    [message], events = report(said)
    assert message["response"] == "utter_quality_issue_photo"
    assert message["product"] == "芳屿薰衣草精油"
    assert message["refund_fen"] == PAID["oil"] == 17273 and message["refund_amount"] == "172.73"
    assert basket_rows() == [(shop.lines["oil"], "return", "requested", PAID["oil"])]
    assert SlotSet("return_item", str(shop.lines["oil"])) in events
    assert SlotSet("return_reason", "精油瓶子漏了") in events


def test_the_refund_chosen_afterwards_is_that_item_only(shop):
    _, events = report(product_said("精油", "精油瓶子漏了", intent="report_quality_issue"))
    slots = {e["name"]: e["value"] for e in events}
    [message], _ = run(ActionRequestReturn(), tracker(basket(**slots)))
    assert message["response"] == "utter_return_created" and message["refund_fen"] == 17273
    assert basket_rows() == [(shop.lines["oil"], "return", "approved", PAID["oil"])]


def test_which_item_is_asked_when_none_was_named(shop):
    [message], events = report()
    assert message["response"] == "utter_ask_return_item" and events == []
    assert basket_rows() == []
    assert [c["payload"] for c in message["choices"]] == [
        '/report_quality_issue{"product": "衣见直筒休闲裤（黑色/M）"}',
        '/report_quality_issue{"product": "芳屿薰衣草精油（10ml）"}',
        '/report_quality_issue{"product": "厨匠侧吸式油烟机J1（星空灰）"}',
    ]
    # the button sends the report again with the item: its words are still the first message's
    first = {
        "event": "user",
        "text": "收到有个东西是坏的",
        "parse_data": {"intent": {"name": "report_quality_issue"}},
    }
    button = product_said("厨匠侧吸式油烟机J1（星空灰）", message["choices"][2]["payload"])
    button[0]["parse_data"]["intent"]["name"] = "report_quality_issue"
    [message], events = report([first] + button)
    assert message["response"] == "utter_quality_issue_photo"
    assert message["product"] == "厨匠侧吸式油烟机J1"
    assert message["refund_fen"] == PAID["hood"]
    assert SlotSet("return_reason", "收到有个东西是坏的") in events


def test_the_replacement_is_of_the_faulty_item(shop):
    _, events = report(product_said("油烟机", "油烟机面板裂了", intent="report_quality_issue"))
    slots = {e["name"]: e["value"] for e in events}
    [message], events = run(ActionRequestExchange(), tracker(basket(**slots)))
    assert message["response"] == "utter_exchange_created_photo"
    assert message["product"] == "厨匠侧吸式油烟机J1" and message["to_variant"] == "星空灰"
    [(line, kind, _, refund)] = basket_rows()
    assert (line, kind, refund) == (shop.lines["hood"], "exchange", 0)
    assert SlotSet("return_item", None) in events


def test_a_single_item_order_is_handled_as_before(shop):
    events = product_said("精油", "裤子开线了", intent="report_quality_issue")
    [message], _ = run(
        ActionReportQualityIssue(), tracker(order_slots("ten_days"), text="1234", events=events)
    )
    # the only item, whatever product was named; the whole amount paid is offered
    assert message["response"] == "utter_quality_issue_photo"
    assert message["product"] == "衣见直筒休闲裤" and message["refund_fen"] == 19900


def test_an_open_whole_order_return_becomes_the_faulty_items(shop):
    run(ActionRequestReturn(), tracker(basket(return_reason="买多了", return_item="all")))
    assert basket_rows()[0][3] == BASKET_PAYABLE - BASKET_FEE
    [message], _ = report(product_said("精油", "精油瓶子漏了", intent="report_quality_issue"))
    assert message["refund_fen"] == PAID["oil"]
    assert basket_rows() == [(shop.lines["oil"], "return", "approved", PAID["oil"])]
