"""Installation providers by city and installation appointments."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import settings as settings_module
from actions.models import SLOTS, InstallationAppointment, InstallationProvider
from actions.repository import _inputs


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
    name = _inputs.city_name(city)
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
        The new appointment (flushed), with contact_deadline = now + the provider's promise.

    Raises:
        ValueError: For an unknown slot, a date in the past or an empty address.

    """
    if slot not in SLOTS:
        raise ValueError(f"slot must be one of {SLOTS}")
    today = now.astimezone(settings_module.load().tz).date()
    if day < today:
        raise ValueError("the visit date is in the past")
    text = _inputs.clean_text(address)
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
        contact_deadline=now + timedelta(hours=provider.contact_within_hours),
        created_at=now,
    )
    session.add(appointment)
    session.flush()
    return appointment
