"""Identity: signed customer ids from message metadata, order + phone tail, not found == not yours.

Also holds `build_shop`, the small hand-made shop the order and logistics action tests seed into
a fresh SQLite per test.
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from rasa_sdk import Tracker

from actions.kit.identity import verified_customer_id
from actions.kit.which_order import identified_order
from shop import db
from shop.db import make_engine, session_scope
from shop.db.models import (
    Customer,
    OrderItem,
    Product,
    ReturnRequest,
    Shipment,
    ShipmentEvent,
    Sku,
    utcnow,
)
from shop.demo.seed import migrate
from shop.signing import PROOF_KEY, proven_metadata
from tests.actions.conftest import make_tracker, order_row

KEY = "test-signing-key"
D, H = timedelta(days=1), timedelta(hours=1)
SQLISH = ("' OR '1'='1", "2024112000001' OR '1'='1", "1; DROP TABLE orders; --", "😀", "x" * 5000)
HUGE = ("9" * 40, 10**30, -1, 2**31)


def _customer(name, tail, city):
    return Customer(
        name=name,
        nickname=f"{name}的小号",
        phone_masked=f"138****{tail}",
        phone_tail=tail,
        province="浙江省",
        city=city,
        address_masked=f"{city}市西湖区文三路**号",
        personality_type="amiable",
    )


def _events(*rows):
    return [ShipmentEvent(occurred_at=t, location=p, description=d) for t, p, d in rows]


def build_shop(tmp_path, monkeypatch):
    """Seed a fresh SQLite shop and point the actions at it (SHOP_DATABASE_URL + db.reset())."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    migrate(url)
    now = utcnow()
    ns = SimpleNamespace(url=url, now=now)
    engine = make_engine(url)
    with session_scope(engine) as s:
        alice = _customer("王芳", "1234", "杭州")
        bob = _customer("李强", "5678", "上海")
        hood = Product(
            code="H-J1",
            name="厨匠侧吸式油烟机J1",
            department="kitchen",
            category="油烟机",
            brand="厨匠",
            price_fen=299900,
        )
        oil = Product(
            code="O-LAV",
            name="芳屿薰衣草精油",
            department="beauty",
            category="精油",
            brand="芳屿",
            price_fen=8900,
        )
        s.add_all([alice, bob, hood, oil])
        s.flush()
        grey = Sku(product_id=hood.id, code="H-J1-01", colour="星空灰", stock=5)
        bottle = Sku(product_id=oil.id, code="O-LAV-01", size="10ml", stock=80)
        s.add_all([grey, bottle])
        s.flush()

        unpaid = order_row("2024112000001", alice, "unpaid", now - 1 * H, 8900)
        unpaid.items = [OrderItem(sku_id=bottle.id, quantity=1, unit_price_fen=8900)]
        paid = order_row("2024112000002", alice, "paid", now - 3 * H, 317700, paid_at=now - 2 * H)
        paid.items = [
            OrderItem(sku_id=grey.id, quantity=1, unit_price_fen=299900),
            OrderItem(sku_id=bottle.id, quantity=2, unit_price_fen=8900),
        ]
        moving = order_row(
            "2024112000003", alice, "shipped", now - 2 * D, 299900, paid_at=now - 2 * D
        )
        moving.items = [OrderItem(sku_id=grey.id, quantity=1, unit_price_fen=299900)]
        moving_parcel = Shipment(
            carrier="顺丰",
            tracking_number="SF1000000000003",
            status="in_transit",
            shipped_at=now - 30 * H,
        )
        moving_parcel.events = _events(
            (now - 30 * H, "宁波", "已揽收"),
            (now - 20 * H, "宁波", "到达宁波转运中心"),
            (now - 10 * H, "宁波", "发往杭州"),
            (now - 2 * H, "杭州", "到达杭州转运中心"),
        )
        moving.shipments = [moving_parcel]
        stuck = order_row("2024112000004", alice, "shipped", now - 5 * D, 8900, paid_at=now - 5 * D)
        stuck.items = [OrderItem(sku_id=bottle.id, quantity=1, unit_price_fen=8900)]
        stuck_parcel = Shipment(
            carrier="京东",
            tracking_number="JD0000000000004",
            status="in_transit",
            shipped_at=now - 4 * D,
        )
        stuck_parcel.events = _events(
            (now - 4 * D, "广州", "已揽收"),
            (now - 60 * H, "广州", "到达广州分拨中心"),
        )
        stuck.shipments = [stuck_parcel]
        delivered = order_row(
            "2024112000005",
            alice,
            "delivered",
            now - 6 * D,
            17800,
            paid_at=now - 6 * D,
            delivered_at=now - 1 * D,
        )
        line = OrderItem(sku_id=bottle.id, quantity=2, unit_price_fen=8900)
        delivered.items = [line]
        delivered_parcel = Shipment(
            carrier="中通",
            tracking_number="ZT0000000000005",
            status="delivered",
            shipped_at=now - 5 * D,
            delivered_at=now - 1 * D,
            signed_by="快递柜",
        )
        delivered_parcel.events = _events(
            (now - 5 * D, "杭州", "已揽收"),
            (now - 2 * D, "杭州", "派送中"),
            (now - 1 * D, "杭州", "已签收，签收人：快递柜"),
        )
        delivered.shipments = [delivered_parcel]
        cancelled = order_row(
            "2024112000006", alice, "cancelled", now - 9 * D, 8900, cancelled_at=now - 8 * D
        )
        cancelled.items = [OrderItem(sku_id=bottle.id, quantity=1, unit_price_fen=8900)]
        pending = order_row(
            "2024112000007",
            alice,
            "delivered",
            now - 8 * D,
            299900,
            paid_at=now - 8 * D,
            delivered_at=now - 3 * D,
        )
        pending.items = [OrderItem(sku_id=grey.id, quantity=1, unit_price_fen=299900)]
        bobs = order_row("2024112000009", bob, "shipped", now - 1 * D, 8900, paid_at=now - 1 * D)
        bobs.items = [OrderItem(sku_id=bottle.id, quantity=1, unit_price_fen=8900)]
        bobs.shipments = [
            Shipment(
                carrier="圆通",
                tracking_number="YT0000000000009",
                status="in_transit",
                shipped_at=now - 20 * H,
                events=_events((now - 20 * H, "上海", "已揽收")),
            )
        ]
        s.add_all([unpaid, paid, moving, stuck, delivered, cancelled, pending, bobs])
        s.flush()
        s.add_all(
            [
                ReturnRequest(
                    order_id=delivered.id,
                    order_item_id=line.id,
                    kind="return",
                    reason="不喜欢",
                    status="refunded",
                    refund_fen=8900,
                    return_tracking_number="SF9000000000005",
                    created_at=now - 20 * H,
                    return_shipped_at=now - 10 * H,
                    refunded_at=now - 10 * H,
                ),
                ReturnRequest(
                    order_id=pending.id,
                    kind="return",
                    reason="尺寸不合适",
                    status="approved",
                    refund_fen=299900,
                    created_at=now - 5 * H,
                ),
            ]
        )
        ns.alice_id, ns.bob_id = alice.id, bob.id
        ns.stuck_shipment_id = stuck_parcel.id
        ns.delivered_shipment_id = delivered_parcel.id
    engine.dispose()
    monkeypatch.setenv("SHOP_DATABASE_URL", url)
    monkeypatch.setenv("SHOP_SIGNING_KEY", KEY)
    db.reset()
    return ns


def tracker_for(text="", slots=None, metadata=None):
    """A tracker whose latest message carries text and channel metadata."""
    return make_tracker(text, slots=slots, metadata=metadata)


def signed(customer_id, key=KEY, conversation="customer-1"):
    """The metadata a customer channel stores with a signed-in customer's message."""
    return proven_metadata(customer_id, conversation, key)


@pytest.fixture
def shop(tmp_path, monkeypatch):
    ns = build_shop(tmp_path, monkeypatch)
    yield ns
    db.reset()


def lookup(tracker):
    with db.session_scope() as session:
        order = identified_order(session, tracker)
        return order.order_number if order else None


# -- verified_customer_id ----------------------------------------------------------------


def test_correctly_signed_customer_id_is_verified(shop):
    assert verified_customer_id(tracker_for(metadata=signed(shop.alice_id))) == shop.alice_id
    as_text = {
        "customer_id": str(shop.alice_id),
        PROOF_KEY: signed(shop.alice_id)[PROOF_KEY],
    }
    assert verified_customer_id(tracker_for(metadata=as_text)) == shop.alice_id


def test_unsigned_or_wrongly_signed_ids_are_anonymous(shop):
    assert verified_customer_id(tracker_for(metadata={"customer_id": shop.alice_id})) is None
    forged = signed(shop.alice_id, key="another-key")
    assert verified_customer_id(tracker_for(metadata=forged)) is None
    swapped = {"customer_id": shop.bob_id, PROOF_KEY: signed(shop.alice_id)[PROOF_KEY]}
    assert verified_customer_id(tracker_for(metadata=swapped)) is None
    assert verified_customer_id(tracker_for()) is None


def test_a_proof_from_another_conversation_is_anonymous(shop):
    elsewhere = signed(shop.alice_id, conversation="another-conversation")
    assert verified_customer_id(tracker_for(metadata=elsewhere)) is None


def test_signing_key_is_read_when_asked_and_required(shop, monkeypatch):
    metadata = signed(shop.alice_id)
    monkeypatch.delenv("SHOP_SIGNING_KEY")
    assert verified_customer_id(tracker_for(metadata=metadata)) is None
    monkeypatch.setenv("SHOP_SIGNING_KEY", "rotated")
    assert verified_customer_id(tracker_for(metadata=metadata)) is None
    assert verified_customer_id(tracker_for(metadata=signed(shop.alice_id, "rotated"))) == (
        shop.alice_id
    )


@pytest.mark.parametrize("bad", [*SQLISH, *HUGE, True, 1.5, None, ["1"]])
def test_malformed_customer_ids_are_anonymous(shop, bad):
    metadata = {"customer_id": bad, PROOF_KEY: signed(1)[PROOF_KEY]}
    assert verified_customer_id(tracker_for(metadata=metadata)) is None


def test_metadata_of_the_latest_user_event_is_used_when_the_message_has_none(shop):
    events = [{"event": "user", "text": "查订单", "metadata": signed(shop.bob_id)}]
    tracker = Tracker(
        "customer-1", {}, {"text": "查订单"}, events, False, None, {}, "action_listen"
    )
    assert verified_customer_id(tracker) == shop.bob_id


# -- identified_order -------------------------------------------------------------------


def test_order_number_with_the_right_phone_tail_is_found(shop):
    slots = {"order_id": "2024112000002", "phone_tail": "1234"}
    assert lookup(tracker_for(slots=slots)) == "2024112000002"
    full_width = {"order_id": "２０２４１１２０００００２", "phone_tail": "１２３４"}
    assert lookup(tracker_for(slots=full_width)) == "2024112000002"


def test_not_found_and_not_yours_are_the_same_none(shop):
    wrong_tail = {"order_id": "2024112000002", "phone_tail": "5678"}
    unknown = {"order_id": "2099999999999", "phone_tail": "1234"}
    no_tail = {"order_id": "2024112000002"}
    assert lookup(tracker_for(slots=wrong_tail)) is None
    assert lookup(tracker_for(slots=unknown)) is None
    assert lookup(tracker_for(slots=no_tail)) is None
    bobs_login = tracker_for(slots=no_tail, metadata=signed(shop.bob_id))
    assert lookup(bobs_login) is None


def test_logged_in_customer_sees_own_order_without_phone_tail(shop):
    tracker = tracker_for(slots={"order_id": "2024112000005"}, metadata=signed(shop.alice_id))
    assert lookup(tracker) == "2024112000005"


def test_logged_in_customer_without_order_number_gets_their_only_recent_order(shop):
    assert lookup(tracker_for(metadata=signed(shop.bob_id))) == "2024112000009"
    assert lookup(tracker_for(metadata=signed(shop.alice_id))) is None  # several: asked which
    assert lookup(tracker_for()) is None


@pytest.mark.parametrize("bad", [*SQLISH, *HUGE])
def test_bad_order_numbers_and_tails_find_nothing(shop, bad):
    assert lookup(tracker_for(slots={"order_id": bad, "phone_tail": "1234"})) is None
    assert lookup(tracker_for(slots={"order_id": "2024112000002", "phone_tail": bad})) is None
