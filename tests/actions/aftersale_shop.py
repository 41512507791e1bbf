"""A small hand-made shop for the after-sale action tests, on top of `build_shop` (test_identity).

Adds trousers in four sizes (XL sold out), delivered orders inside and outside the return
windows, price drops after payment below and above the frontline limit, and the agent accounts'
compensation authority.
"""

import asyncio
from datetime import date

from rasa_sdk.executor import CollectingDispatcher

from shop.db import make_engine, session_scope
from shop.db.models import (
    Agent,
    Customer,
    OrderItem,
    PriceHistory,
    Product,
    Shipment,
    Sku,
)
from shop.policy.compensation import COMPENSATION_LIMIT_FEN
from tests.actions.conftest import make_tracker, order_row
from tests.actions.kit.test_identity import D, H, build_shop, signed

TAIL = "1234"
NUMBERS = {
    "fresh": "2024112100001",  # trousers M, delivered 2 days ago, 8 yuan shipping
    "ten_days": "2024112100002",  # trousers L, delivered 10 days ago
    "old": "2024112100003",  # hood, delivered 20 days ago (3-year warranty)
    "small_drop": "2024112100004",  # oil paid 3 days ago at 89, now 79
    "big_drop": "2024112100005",  # hood paid 3 days ago at 2999, now 2499
    "paid_trousers": "2024112100006",  # trousers M, paid, not shipped
    "long_ago": "2024112100007",  # oil paid 30 days ago
}


def build_aftersale_shop(tmp_path, monkeypatch):
    """The identity test shop plus the after-sale cases above; returns its namespace."""
    ns = build_shop(tmp_path, monkeypatch)
    now = ns.now
    engine = make_engine(ns.url)
    with session_scope(engine) as s:
        alice = s.get(Customer, ns.alice_id)
        hood = s.query(Product).filter_by(code="H-J1").one()
        hood.warranty_years = 3
        oil = s.query(Product).filter_by(code="O-LAV").one()
        grey = s.query(Sku).filter_by(code="H-J1-01").one()
        bottle = s.query(Sku).filter_by(code="O-LAV-01").one()
        trousers = Product(
            code="A-P1",
            name="衣见直筒休闲裤",
            department="apparel",
            category="裤装",
            brand="衣见",
            price_fen=19900,
        )
        s.add(trousers)
        s.flush()
        sizes = {}
        for size, stock in (("S", 3), ("M", 4), ("L", 2), ("XL", 0)):
            sizes[size] = Sku(
                product_id=trousers.id,
                code=f"A-P1-{size}",
                colour="黑色",
                size=size,
                stock=stock,
                restock_date=date(2030, 1, 5) if stock == 0 else None,
            )
        s.add_all(sizes.values())
        s.flush()
        s.add_all(
            [
                PriceHistory(product_id=trousers.id, price_fen=19900, effective_from=now - 90 * D),
                PriceHistory(product_id=oil.id, price_fen=8900, effective_from=now - 90 * D),
                PriceHistory(product_id=oil.id, price_fen=7900, effective_from=now - 1 * D),
                PriceHistory(product_id=hood.id, price_fen=299900, effective_from=now - 90 * D),
                PriceHistory(product_id=hood.id, price_fen=249900, effective_from=now - 2 * D),
                PriceHistory(product_id=hood.id, price_fen=299900, effective_from=now - 1 * D),
            ]
        )
        for username, role in (("agent", "agent"), ("supervisor", "supervisor")):
            s.add(
                Agent(
                    username=username,
                    display_name=username,
                    role=role,
                    password_hash="x",
                    compensation_limit_fen=COMPENSATION_LIMIT_FEN[role],
                )
            )

        def delivered(number, sku, price, days, fee=0):
            order = order_row(
                number,
                alice,
                "delivered",
                now - (days + 3) * D,
                price + fee,
                paid_at=now - (days + 3) * D,
                shipped_at=now - (days + 2) * D,
                delivered_at=now - days * D,
            )
            order.shipping_fee_fen = fee
            order.items = [OrderItem(sku_id=sku.id, quantity=1, unit_price_fen=price)]
            order.shipments = [
                Shipment(
                    carrier="顺丰",
                    tracking_number=f"SF7{number}",
                    status="delivered",
                    shipped_at=now - (days + 2) * D,
                    delivered_at=now - days * D,
                    signed_by="本人",
                )
            ]
            return order

        orders = [
            delivered(NUMBERS["fresh"], sizes["M"], 19900, 2, fee=800),
            delivered(NUMBERS["ten_days"], sizes["L"], 19900, 10),
            delivered(NUMBERS["old"], grey, 299900, 20),
            delivered(NUMBERS["small_drop"], bottle, 8900, 1),
            delivered(NUMBERS["big_drop"], grey, 299900, 1),
        ]
        paid = order_row(
            NUMBERS["paid_trousers"], alice, "paid", now - 5 * H, 19900, paid_at=now - 5 * H
        )
        paid.items = [OrderItem(sku_id=sizes["M"].id, quantity=1, unit_price_fen=19900)]
        long_ago = order_row(
            NUMBERS["long_ago"], alice, "completed", now - 31 * D, 8900, paid_at=now - 30 * D
        )
        long_ago.items = [OrderItem(sku_id=bottle.id, quantity=1, unit_price_fen=8900)]
        s.add_all(orders + [paid, long_ago])
        s.flush()
        ns.size_ids = {size: sku.id for size, sku in sizes.items()}
    engine.dispose()
    return ns


def tracker(slots=None, text="", intent="inform", metadata=None, events=None, entities=None):
    """A tracker for an order of Alice's (phone tail 1234 unless slots say otherwise)."""
    return make_tracker(text, intent, slots, entities=entities, metadata=metadata, events=events)


def order_slots(key, **extra):
    """Slots naming one of the after-sale orders with Alice's phone tail."""
    return {"order_id": NUMBERS[key], "phone_tail": TAIL, **extra}


def run(action, tr):
    """Runs an action; returns (messages, events)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tr, {}))
    return dispatcher.messages, events


__all__ = ["NUMBERS", "TAIL", "build_aftersale_shop", "order_slots", "run", "signed", "tracker"]
