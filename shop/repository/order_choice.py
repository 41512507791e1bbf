"""A signed-in customer's recent orders that a request may be about (the candidates to offer).

Only ever asked with the signed-in customer's own id, so everything returned is theirs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, List, Optional

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from shop.db.models import Order, OrderItem, Product, ReturnRequest, Sku
from shop.text import inputs

MAX_CANDIDATES = 20


def recent_orders(
    session: Session,
    customer_id: Any,
    *,
    since: datetime,
    states: Optional[Iterable[str]] = None,
    with_returns: bool = False,
    installable: bool = False,
    limit: int = 5,
) -> List[Order]:
    """The customer's orders placed since a moment, newest first.

    Args:
        session: Open session.
        customer_id: The signed-in customer's id.
        since: Orders placed before this moment are left out (aware).
        states: Only orders in these states, when given.
        with_returns: Only orders with a return or exchange request.
        installable: Only orders holding a product that needs installation.
        limit: Most orders returned (at most MAX_CANDIDATES).

    Returns:
        The orders; empty for an unknown or malformed id.

    """
    cid = inputs.record_id(customer_id)
    if cid is None:
        return []
    stmt = select(Order).where(Order.customer_id == cid, Order.created_at >= since)
    if states is not None:
        stmt = stmt.where(Order.state.in_(list(states)))
    if with_returns:
        stmt = stmt.where(exists().where(ReturnRequest.order_id == Order.id))
    if installable:
        stmt = stmt.where(
            exists()
            .where(OrderItem.order_id == Order.id)
            .where(Sku.id == OrderItem.sku_id)
            .where(Product.id == Sku.product_id)
            .where(Product.needs_installation.is_(True))
        )
    stmt = stmt.order_by(Order.created_at.desc(), Order.id.desc())
    return list(session.execute(stmt.limit(max(1, min(limit, MAX_CANDIDATES)))).scalars())


__all__ = ["MAX_CANDIDATES", "recent_orders"]
