"""Shipments with their latest tracking events; stalled and delivered parcels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, List, Optional, Tuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shop.db.models import Customer, Order, Shipment, ShipmentEvent
from shop.policy.delivery import STALL_HOURS
from shop.repository.orders import _owner_condition
from shop.text import inputs


@dataclass(frozen=True)
class TrackingEvent:
    """One line of a tracking timeline (time in UTC; present it in the shop's zone)."""

    occurred_at: datetime
    location: str
    description: str


@dataclass(frozen=True)
class ShipmentView:
    """A parcel's facts for a logistics answer.

    Attributes:
        events: The latest events, newest first.
        hours_since_update: Whole hours since the last event (or since shipping).
        stalled: Not delivered and no update for STALL_HOURS or more.

    """

    shipment_id: int
    order_id: int
    order_number: str
    carrier: str
    tracking_number: str
    status: str
    shipped_at: datetime
    delivered_at: Optional[datetime]
    signed_by: Optional[str]
    events: Tuple[TrackingEvent, ...]
    last_update_at: datetime
    hours_since_update: int
    stalled: bool

    @property
    def delivered(self) -> bool:
        """Whether the carrier reports the parcel as delivered (signed for)."""
        return self.status == "delivered"


def _view(
    session: Session, shipment: Shipment, order_number: str, now: datetime, events: int
) -> ShipmentView:
    stmt = (
        select(ShipmentEvent)
        .where(ShipmentEvent.shipment_id == shipment.id)
        .order_by(ShipmentEvent.occurred_at.desc(), ShipmentEvent.id.desc())
        .limit(max(1, events))
    )
    latest = [
        TrackingEvent(e.occurred_at, e.location, e.description)
        for e in session.execute(stmt).scalars()
    ]
    last_update = latest[0].occurred_at if latest else shipment.shipped_at
    hours = max(0, int((now - last_update) / timedelta(hours=1)))
    moving = shipment.status in ("in_transit", "out_for_delivery")
    return ShipmentView(
        shipment_id=shipment.id,
        order_id=shipment.order_id,
        order_number=order_number,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        status=shipment.status,
        shipped_at=shipment.shipped_at,
        delivered_at=shipment.delivered_at,
        signed_by=shipment.signed_by,
        events=tuple(latest),
        last_update_at=last_update,
        hours_since_update=hours,
        stalled=moving and hours >= STALL_HOURS,
    )


def shipments_for_order(
    session: Session, order: Order, now: datetime, *, events: int = 3
) -> List[ShipmentView]:
    """Return the parcels of an order (already checked to belong to the caller).

    Args:
        session: Open session.
        order: The order.
        now: Current moment (aware), to tell how long ago the last update was.
        events: How many of the latest events to include per parcel.

    Returns:
        The parcels, first shipped first; empty before shipping.

    """
    stmt = select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.id)
    return [
        _view(session, s, order.order_number, now, events) for s in session.execute(stmt).scalars()
    ]


def latest_shipment_for_order(
    session: Session, order: Order, now: datetime, *, events: int = 3
) -> Optional[ShipmentView]:
    """Return the most recent parcel of an order, or None before shipping."""
    views = shipments_for_order(session, order, now, events=events)
    return views[-1] if views else None


def find_shipment_by_tracking(
    session: Session,
    tracking_number: Any,
    now: datetime,
    *,
    customer_id: Any = None,
    phone_tail: Any = None,
    events: int = 3,
) -> Optional[ShipmentView]:
    """Find a parcel by tracking number for whoever proves to own its order.

    Args:
        session: Open session.
        tracking_number: As typed; spaces and dashes are ignored, letters upper-cased.
        now: Current moment (aware).
        customer_id: Logged-in customer's id, if any.
        phone_tail: Last four digits of the buyer's phone, if given.
        events: How many of the latest events to include.

    Returns:
        The parcel, or None when unknown or not the caller's (the same answer).

    """
    number = inputs.tracking_number(tracking_number)
    owner = _owner_condition(customer_id, phone_tail)
    if number is None or owner is None:
        return None
    stmt = (
        select(Shipment, Order.order_number)
        .join(Order, Order.id == Shipment.order_id)
        .join(Customer, Customer.id == Order.customer_id)
        .where(Shipment.tracking_number == number, owner)
    )
    row = session.execute(stmt).first()
    return _view(session, row[0], row[1], now, events) if row else None


def stalled_shipments(session: Session, now: datetime, *, limit: int = 100) -> List[ShipmentView]:
    """Return parcels in transit with no tracking update for STALL_HOURS or more, oldest first."""
    last_event = (
        select(ShipmentEvent.shipment_id, func.max(ShipmentEvent.occurred_at).label("last_at"))
        .group_by(ShipmentEvent.shipment_id)
        .subquery()
    )
    stmt = (
        select(Shipment, Order.order_number)
        .join(Order, Order.id == Shipment.order_id)
        .join(last_event, last_event.c.shipment_id == Shipment.id)
        .where(
            Shipment.status.in_(("in_transit", "out_for_delivery")),
            last_event.c.last_at <= now - timedelta(hours=STALL_HOURS),
        )
        .order_by(last_event.c.last_at)
        .limit(limit)
    )
    return [_view(session, s, number, now, 3) for s, number in session.execute(stmt)]
