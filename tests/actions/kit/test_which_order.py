"""The order resolver: the number given, else a signed-in customer's orders; never a silent swap.

Alice (build_shop) has seven orders: unpaid 01, paid 02, shipped 03 and 04, delivered 05 (with
a refund), cancelled 06, delivered 07 (a return waiting for its parcel); Bob has one shipped
order, 09.
"""

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.kit import which_order
from actions.kit.forms import ValidateOrderLookupForm
from actions.kit.order_dialogue import ActionAskOrderId, asking_response
from actions.orders.status import ActionCheckOrderStatus
from shop import db
from shop.db.models import Customer, VerificationFailure
from tests.actions.conftest import make_tracker
from tests.actions.kit.test_identity import build_shop, signed

BOBS = "2024112000009"


@pytest.fixture
def shop(tmp_path, monkeypatch):
    ns = build_shop(tmp_path, monkeypatch)
    yield ns
    db.reset()


def tracker(text="", intent="check_order_status", slots=None, customer=None, events=None):
    metadata = signed(customer) if customer is not None else {}
    return make_tracker(text, intent, slots, metadata=metadata, events=events)


def resolve(tr, topic=None):
    with db.session_scope() as session:
        found = which_order.resolve(session, tr, topic)
        number = found.order.order_number if found.order is not None else None
        return found.status, number, [o.order_number for o in found.candidates], found.implicit


def run(action, tr, domain=None):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tr, domain or {}))
    return dispatcher.messages, events


def typed(text):
    """A user event of the session with the customer's words."""
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": "inform"}}}


def test_anonymous_customers_need_the_number_and_its_tail(shop):
    assert resolve(tracker())[0] == which_order.NEED_NUMBER
    assert resolve(tracker(slots={"order_id": "2024112000002"}))[0] == which_order.NEED_TAIL
    wrong = tracker(slots={"order_id": "2024112000002", "phone_tail": "5678"})
    assert resolve(wrong)[0] == which_order.NOT_FOUND
    right = tracker(slots={"order_id": "2024112000002", "phone_tail": "1234"})
    assert resolve(right)[:2] == (which_order.FOUND, "2024112000002")


def test_the_number_and_tail_in_the_message_count_before_the_slots_are_set(shop):
    """After a "did you mean" question Rasa reverts the message's slots: the words still count."""
    said = [typed("帮我查下订单2024112000002，尾号1234"), {"event": "rewind"}]
    assert resolve(tracker("/check_order_status", events=said))[:2] == (
        which_order.FOUND,
        "2024112000002",
    )


def test_one_recent_order_that_fits_is_taken_and_named(shop):
    status, number, _, implicit = resolve(tracker(customer=shop.bob_id))
    assert (status, number, implicit) == (which_order.FOUND, BOBS, True)
    messages, events = run(ActionCheckOrderStatus(), tracker(customer=shop.bob_id))
    assert [m["response"] for m in messages] == [
        "utter_order_assumed",
        "utter_order_status_shipped",
    ]
    assert messages[0]["order_id"] == BOBS and "×1" in messages[0]["items"]
    assert SlotSet("order_id", BOBS) in events  # the rest of the conversation is about it


@pytest.mark.parametrize(
    "topic, candidates",
    [
        (
            "check_order_status",
            ["2024112000001", "2024112000002", "2024112000003", "2024112000004"],
        ),
        ("track_logistics", ["2024112000002", "2024112000003", "2024112000004"]),
        ("request_return", ["2024112000005", "2024112000007"]),
        ("ask_refund_status", ["2024112000005", "2024112000007"]),
        ("modify_order", ["2024112000001", "2024112000002"]),
    ],
)
def test_several_orders_that_fit_the_request_are_offered(shop, topic, candidates):
    status, number, offered, _ = resolve(tracker(intent=topic, customer=shop.alice_id), topic)
    assert (status, number) == (which_order.ASK, None)
    assert offered == candidates


@pytest.mark.parametrize(
    "text, topic, expected",
    [
        ("把我那个还没付款的订单取消了吧", "modify_order", (which_order.FOUND, "2024112000001")),
        ("那个还沒發貨的能改地址嗎", "modify_order", (which_order.FOUND, "2024112000002")),
        ("已经发货的那单到哪了", "track_logistics", (which_order.ASK, None)),  # two shipped
        ("已经签收的那个能退吗", "request_return", (which_order.ASK, None)),  # two delivered
        ("待付款的那个", "track_logistics", (which_order.ASK, None)),  # none unpaid: all three
    ],
)
def test_the_state_the_customer_names_narrows_their_orders(shop, text, topic, expected):
    status, number, offered, _ = resolve(tracker(text, topic, customer=shop.alice_id), topic)
    assert (status, number) == expected
    if status == which_order.ASK:
        assert len(offered) >= 2


def test_the_buttons_mask_the_number_and_send_it_whole(shop):
    messages, _ = run(ActionAskOrderId(), tracker(intent="request_return", customer=shop.alice_id))
    [message] = messages
    assert message["response"] == "utter_ask_which_order"
    payloads = [c["payload"] for c in message["choices"]]
    assert payloads == ["2024112000005", "2024112000007"]
    for choice in message["choices"]:
        assert choice["payload"] not in choice["title"]
        assert choice["title"].startswith("…" + choice["payload"][-6:])
    assert "芳屿薰衣草精油" in message["choices"][0]["title"]


def test_anonymous_customers_are_asked_to_type_the_number(shop):
    messages, _ = run(ActionAskOrderId(), tracker())
    assert [m["response"] for m in messages] == ["utter_ask_order_id"]


def complaint_tracker(customer=None):
    """The complaint form asking for the order after the customer told what went wrong."""
    metadata = signed(customer) if customer is not None else {}
    latest = {"text": "太过分了", "intent": {"name": "complain"}, "metadata": metadata}
    return Tracker(
        "customer-1",
        {"requested_slot": "order_id"},
        latest,
        [],
        False,
        None,
        {"name": "complaint_form"},
        "complaint_form",
    )


def test_a_complaint_s_order_is_asked_for_with_an_apology_first(shop):
    messages, _ = run(ActionAskOrderId(), complaint_tracker())
    assert [m["response"] for m in messages] == ["utter_ask_order_id_complaint"]
    messages, _ = run(ActionAskOrderId(), complaint_tracker(customer=shop.alice_id))
    [message] = messages
    assert message["response"] == "utter_ask_which_order_complaint"
    assert [c["payload"] for c in message["choices"]]  # the customer's orders, as buttons


def test_other_requests_ask_for_the_order_plainly(shop):
    for topic in ("check_order_status", "request_return"):
        assert asking_response("utter_ask_order_id", topic) == "utter_ask_order_id"
    assert asking_response("utter_ask_order_id", "complain") == "utter_ask_order_id_complaint"


def test_no_order_under_the_account_is_said_so(shop):
    with db.session_scope() as session:
        carol = Customer(
            name="赵敏",
            nickname="敏敏",
            phone_masked="139****0000",
            phone_tail="0000",
            province="浙江省",
            city="杭州",
            address_masked="杭州市**",
            personality_type="amiable",
        )
        session.add(carol)
        session.flush()
        carol_id = carol.id
    assert resolve(tracker(customer=carol_id))[0] == which_order.NO_ORDERS
    messages, _ = run(ActionAskOrderId(), tracker(customer=carol_id))
    assert [m["response"] for m in messages] == ["utter_no_orders_for_account"]


@pytest.mark.parametrize("number", ["2024112000002", "2099999999999"])
def test_a_number_not_under_the_account_is_named_and_never_replaced(shop, number):
    """Another's order and no order at all get one answer; Bob's own order is only offered."""
    tr = tracker(f"查下{number}", slots={"order_id": number}, customer=shop.bob_id)
    assert resolve(tr)[:2] == (which_order.NOT_THEIRS, None)
    messages, events = run(ActionCheckOrderStatus(), tr)
    assert [m["response"] for m in messages] == [
        "utter_order_not_found_for_account",
        "utter_ask_which_order",
    ]
    assert messages[0]["order_id"] == number
    flat = repr(messages)
    assert "2024112000002" not in flat.replace(number, "") and "SF1000000000003" not in flat
    assert [c["payload"] for c in messages[1]["choices"]] == [BOBS]
    assert events == [SlotSet("order_id", None)]


def test_after_a_number_that_was_not_theirs_the_only_order_is_offered_not_taken(shop):
    said = [typed("查下2024112000002"), {"event": "slot", "name": "order_id", "value": None}]
    tr = tracker("这就是我的单啊 你再好好查查", customer=shop.bob_id, events=said)
    status, number, offered, _ = resolve(tr)
    assert (status, number, offered) == (which_order.ASK, None, [BOBS])


def test_the_lookup_form_asks_a_signed_in_customer_only_when_several_orders_fit(shop):
    form, slots = ValidateOrderLookupForm(), ["order_id", "phone_tail"]
    dispatcher = CollectingDispatcher()

    def required(tr):
        return asyncio.run(form.required_slots(slots, dispatcher, tr, {}))

    assert required(tracker(customer=shop.bob_id)) == []
    assert required(tracker(customer=shop.alice_id)) == ["order_id"]
    assert required(tracker(slots={"order_id": BOBS}, customer=shop.alice_id)) == []
    assert required(tracker()) == slots
    by_parcel = tracker(intent="track_logistics", slots={"tracking_number": "YT0000000000009"})
    assert required(by_parcel) == ["phone_tail"]


def test_the_form_says_a_wrong_tail_at_once_and_asks_again(shop):
    domain = {"forms": {"order_lookup_form": {"required_slots": ["order_id", "phone_tail"]}}}
    tr = tracker(
        "5678",
        intent="inform",
        slots={"order_id": "2024112000002", "requested_slot": "phone_tail"},
    )
    messages, events = run(ValidateOrderLookupForm(), tr, domain)
    assert [m["response"] for m in messages] == ["utter_order_not_found"]
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots == {"order_id": None, "phone_tail": None, "requested_slot": "order_id"}
    with db.session_scope() as session:
        assert len(session.execute(select(VerificationFailure)).scalars().all()) == 1


def test_this_month_s_deliveries_come_before_older_ones(shop):
    from datetime import timedelta

    from shop.db.models import Order, OrderItem
    from tests.actions.conftest import order_row

    with db.session_scope() as session:
        alice, bob = session.get(Customer, shop.alice_id), session.get(Customer, shop.bob_id)
        sku_id = session.execute(select(OrderItem.sku_id).limit(1)).scalar_one()
        for number, customer in (("2024112000011", alice), ("2024112000012", bob)):
            old = order_row(
                number,
                customer,
                "delivered",
                shop.now - timedelta(days=60),
                8900,
                paid_at=shop.now - timedelta(days=60),
                delivered_at=shop.now - timedelta(days=55),
            )
            old.items = [OrderItem(sku_id=sku_id, quantity=1, unit_price_fen=8900)]
            session.add(old)
        assert session.execute(select(Order).where(Order.order_number == number)).scalar_one()
    offered = resolve(tracker(intent="request_return", customer=shop.alice_id), "request_return")
    assert offered[2] == ["2024112000005", "2024112000007"]  # the old delivery is not offered
    only = resolve(tracker(intent="request_return", customer=shop.bob_id), "request_return")
    assert only[:2] == (which_order.FOUND, "2024112000012")  # Bob's only delivered order
