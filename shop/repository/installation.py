"""Installation providers by city and installation appointments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop import settings as settings_module
from shop.db.models import (
    SLOTS,
    InstallationAppointment,
    InstallationProvider,
    Order,
    OrderItem,
    Product,
    Sku,
)
from shop.policy import quiet_hours
from shop.text import inputs


def providers_for_city(
    session: Session, city: Any, *, category: Optional[str] = None
) -> List[InstallationProvider]:
    """Return the installation providers of a city, best rated and fastest first.

    Args:
        session: Open session.
        city: City name, with or without 市.
        category: Only providers installing this product category (油烟机 ...), when given.

    Returns:
        The providers; empty for a city without one.

    """
    name = inputs.city_name(city)
    if not name:
        return []
    stmt = (
        select(InstallationProvider)
        .where(InstallationProvider.city == name)
        .order_by(
            InstallationProvider.rating.desc(),
            InstallationProvider.contact_within_hours,
            InstallationProvider.id,
        )
    )
    providers = list(session.execute(stmt).scalars())
    if category is not None:
        providers = [p for p in providers if category in (p.categories or [])]
    return providers


def create_installation_appointment(
    session: Session,
    *,
    customer_id: int,
    provider: InstallationProvider,
    address: Any,
    day: date,
    slot: str,
    now: datetime,
    order_id: Optional[int] = None,
    product_id: Optional[int] = None,
) -> InstallationAppointment:
    """Book an installation visit; the provider must call the customer before the deadline.

    Args:
        session: Open session (the caller commits).
        customer_id: The customer.
        provider: The provider of the customer's city.
        address: The installation address as given (plain text, cut to 200 characters).
        day: The visit's date (today or later in the shop's time zone).
        slot: morning, afternoon or evening.
        now: Current moment (aware).
        order_id: The order with the appliance, if known.
        product_id: The appliance, if known.

    Returns:
        The new appointment (flushed), with contact_deadline = now + the provider's promise
        counted in waking hours (quiet hours do not count, so no call is promised at night).

    Raises:
        ValueError: For an unknown slot, a date in the past or an empty address.

    """
    if slot not in SLOTS:
        raise ValueError(f"slot must be one of {SLOTS}")
    today = now.astimezone(settings_module.load().tz).date()
    if day < today:
        raise ValueError("the visit date is in the past")
    text = inputs.clean_text(address)
    if not text:
        raise ValueError("an address is needed")
    appointment = InstallationAppointment(
        order_id=order_id,
        customer_id=customer_id,
        product_id=product_id,
        provider_id=provider.id,
        address=text,
        city=provider.city,
        date=day,
        slot=slot,
        status="booked",
        contact_deadline=quiet_hours.waking_deadline(
            now, provider.contact_within_hours, settings_module.load().tz
        ),
        created_at=now,
    )
    session.add(appointment)
    session.flush()
    return appointment


ACTIVE_APPOINTMENT_STATUSES = ("booked", "confirmed")
INSTALLABLE_ORDER_STATES = ("paid", "shipped", "delivered", "completed")


def active_appointment_for_order(
    session: Session, order_id: Any
) -> Optional[InstallationAppointment]:
    """Return the order's booked or confirmed installation visit (the latest), or None.

    Args:
        session: Open session.
        order_id: The order's database id.

    Returns:
        The appointment, or None when the order has no visit waiting.

    """
    oid = inputs.record_id(order_id)
    if oid is None:
        return None
    stmt = (
        select(InstallationAppointment)
        .where(
            InstallationAppointment.order_id == oid,
            InstallationAppointment.status.in_(ACTIVE_APPOINTMENT_STATUSES),
        )
        .order_by(InstallationAppointment.created_at.desc(), InstallationAppointment.id.desc())
        .limit(1)
    )
    return session.execute(stmt).scalars().first()


def latest_installable_order(session: Session, customer_id: Any) -> Optional[Order]:
    """Return the customer's latest paid order holding a product that needs installation.

    Args:
        session: Open session.
        customer_id: The signed-in customer.

    Returns:
        The order (paid, shipped, delivered or completed), or None.

    """
    cid = inputs.record_id(customer_id)
    if cid is None:
        return None
    stmt = (
        select(Order)
        .join(OrderItem, OrderItem.order_id == Order.id)
        .join(Sku, Sku.id == OrderItem.sku_id)
        .join(Product, Product.id == Sku.product_id)
        .where(
            Order.customer_id == cid,
            Order.state.in_(INSTALLABLE_ORDER_STATES),
            Product.needs_installation.is_(True),
        )
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(1)
    )
    return session.execute(stmt).scalars().first()
