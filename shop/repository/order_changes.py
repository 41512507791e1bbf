"""Changes to an order before it ships: cancel, new address, another colour or size; invoices."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.db.models import InvoiceRequest, Order, OrderItem, ReturnRequest, Sku
from shop.text import inputs

CHANGEABLE_STATES = ("unpaid", "paid")


def _check_changeable(order: Order) -> None:
    if order.state not in CHANGEABLE_STATES:
        raise ValueError(f"order is already {order.state}")


def cancel_order(
    session: Session, order: Order, now: datetime, reason: Any
) -> Optional[ReturnRequest]:
    """Cancel an order that has not shipped; a paid one is refunded at once.

    Args:
        session: Open session (the caller commits).
        order: The order (already checked to be the caller's).
        now: Current moment (aware).
        reason: The customer's words, kept with the refund.

    Returns:
        The refund row for a paid order, None for an unpaid one.

    Raises:
        ValueError: When the order has shipped or is cancelled already.

    """
    _check_changeable(order)
    was_paid = order.state == "paid"
    order.state, order.cancelled_at = "cancelled", now
    refund = None
    if was_paid:
        refund = ReturnRequest(
            order_id=order.id,
            kind="return",
            reason=inputs.clean_text(reason) or "cancelled before shipping",
            status="refunded",
            refund_fen=order.payable_fen,
            created_at=now,
            refunded_at=now,
        )
        session.add(refund)
    session.flush()
    return refund


def change_address(session: Session, order: Order, masked_address: str) -> Order:
    """Replace the delivery address (stored masked) of an order that has not shipped."""
    _check_changeable(order)
    order.address_masked = inputs.clean_text(masked_address, 120)
    session.flush()
    return order


def skus_of_product(session: Session, product_id: int) -> List[Sku]:
    """Return every SKU of a product."""
    return list(
        session.execute(select(Sku).where(Sku.product_id == product_id).order_by(Sku.id)).scalars()
    )


def change_item_sku(session: Session, order: Order, item: OrderItem, sku: Sku) -> OrderItem:
    """Switch an order line to another SKU of the same product, moving the stock.

    Raises:
        ValueError: When the order has shipped, the SKU is of another product or out of stock.

    """
    _check_changeable(order)
    old = session.get(Sku, item.sku_id)
    if item.order_id != order.id or old is None or old.product_id != sku.product_id:
        raise ValueError("not a variant of this order's product")
    if sku.stock < item.quantity:
        raise ValueError("not enough stock")
    sku.stock -= item.quantity
    old.stock += item.quantity
    item.sku_id = sku.id
    session.flush()
    return item


def create_invoice_request(
    session: Session, order: Order, *, title: Any, tax_number: Any, now: datetime, hours: int
) -> InvoiceRequest:
    """Record an invoice request and when it will be issued; keep the title on the order."""
    clean_title = inputs.clean_text(title, 64) or "个人"
    row = InvoiceRequest(
        order_id=order.id,
        title=clean_title,
        tax_number=inputs.clean_text(tax_number, 32) or None,
        status="requested",
        requested_at=now,
        issue_by=now + timedelta(hours=hours),
    )
    order.invoice_title = clean_title
    session.add(row)
    session.flush()
    return row


def invoice_requests_for_order(session: Session, order: Order) -> List[InvoiceRequest]:
    """Return an order's invoice requests, newest first."""
    stmt = (
        select(InvoiceRequest)
        .where(InvoiceRequest.order_id == order.id)
        .order_by(InvoiceRequest.requested_at.desc(), InvoiceRequest.id.desc())
    )
    return list(session.execute(stmt).scalars())
