"""Orders and their items, shown only to the customer they belong to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, List, Optional

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shop.db.models import Customer, Order, OrderItem, Product, Sku
from shop.text import inputs


@dataclass(frozen=True)
class ItemView:
    """One line of an order with the product facts an answer needs."""

    item_id: int
    product_id: int
    sku_id: int
    product_name: str
    category: str
    colour: Optional[str]
    size: Optional[str]
    quantity: int
    unit_price_fen: int
    line_total_fen: int


def _owner_condition(customer_id: Any, phone_tail: Any) -> Optional[Any]:
    cid = inputs.record_id(customer_id)
    tail = inputs.phone_tail(phone_tail)
    conditions = []
    if cid is not None:
        conditions.append(Order.customer_id == cid)
    if tail is not None:
        conditions.append(Customer.phone_tail == tail)
    return or_(*conditions) if conditions else None


def find_order(
    session: Session,
    order_number: Any,
    *,
    customer_id: Any = None,
    phone_tail: Any = None,
) -> Optional[Order]:
    """Find an order by number for whoever proves to own it.

    The owner is proved by the logged-in customer id (from the channel metadata) or by the last
    four digits of the buyer's phone. An order that does not exist and an order of somebody else
    give the same answer, None, so the reply cannot tell them apart.

    Args:
        session: Open session.
        order_number: The order number as typed (full-width digits are accepted).
        customer_id: Logged-in customer's id, if any.
        phone_tail: Last four digits of the buyer's phone, if given.

    Returns:
        The order, or None when it is malformed, unknown, or not the caller's.

    """
    number = inputs.order_number(order_number)
    owner = _owner_condition(customer_id, phone_tail)
    if number is None or owner is None:
        return None
    stmt = (
        select(Order)
        .join(Customer, Customer.id == Order.customer_id)
        .where(Order.order_number == number, owner)
    )
    return session.execute(stmt).scalars().first()


def find_order_for_customer(
    session: Session, order_number: Any, customer_id: Any
) -> Optional[Order]:
    """Find an order of the logged-in customer (None for unknown and for not theirs)."""
    return find_order(session, order_number, customer_id=customer_id)


def find_order_by_phone_tail(
    session: Session, order_number: Any, phone_tail: Any
) -> Optional[Order]:
    """Find an order by number and the buyer's phone tail (None for unknown and for not theirs)."""
    return find_order(session, order_number, phone_tail=phone_tail)


def orders_for_customer(
    session: Session,
    customer_id: Any,
    *,
    states: Optional[Iterable[str]] = None,
    limit: int = 5,
) -> List[Order]:
    """Return a customer's latest orders, newest first.

    Args:
        session: Open session.
        customer_id: The logged-in customer's id.
        states: Only orders in these states, when given.
        limit: Most orders returned.

    Returns:
        The orders; empty for an unknown or malformed id.

    """
    cid = inputs.record_id(customer_id)
    if cid is None:
        return []
    stmt = select(Order).where(Order.customer_id == cid)
    if states is not None:
        stmt = stmt.where(Order.state.in_(list(states)))
    stmt = stmt.order_by(Order.created_at.desc(), Order.id.desc()).limit(max(1, min(limit, 50)))
    return list(session.execute(stmt).scalars())


def order_items(session: Session, order: Order | int) -> List[ItemView]:
    """Return the lines of an order with product name, colour and size.

    Args:
        session: Open session.
        order: The order or its id (already checked to belong to the caller).

    Returns:
        The lines in the order they were added.

    """
    order_id = order.id if isinstance(order, Order) else inputs.record_id(order)
    if order_id is None:
        return []
    stmt = (
        select(OrderItem, Sku, Product)
        .join(Sku, Sku.id == OrderItem.sku_id)
        .join(Product, Product.id == Sku.product_id)
        .where(OrderItem.order_id == order_id)
        .order_by(OrderItem.id)
    )
    return [
        ItemView(
            item_id=item.id,
            product_id=product.id,
            sku_id=sku.id,
            product_name=product.name,
            category=product.category,
            colour=sku.colour,
            size=sku.size,
            quantity=item.quantity,
            unit_price_fen=item.unit_price_fen,
            line_total_fen=item.quantity * item.unit_price_fen,
        )
        for item, sku, product in session.execute(stmt)
    ]
