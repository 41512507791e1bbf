"""What is due: the notices the shop owes its customers at a given moment.

- shipping notice: a parcel left in the last 48 hours and is on its way;
- delay apology: a parcel on its way without a tracking update for 48 hours (once per parcel);
- follow-up visit (回访): an order delivered three to ten days ago;
- installation reminder: an installation visit booked for tomorrow, or for today while its slot
  has not started (:data:`VISIT_SLOT_STARTS`);
- infant-formula run-out reminder: from the purchase day, quantity × net weight and the
  customer's daily consumption, the day the formula runs out; reminded from
  :data:`REMIND_DAYS_BEFORE` days before until the day before, unless formula was bought since.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Dict, Iterable, List, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from shop.conversation import external_intent
from shop.db.models import (
    Customer,
    InstallationAppointment,
    Order,
    OrderItem,
    Shipment,
    ShipmentEvent,
    Sku,
)
from shop.policy.delivery import STALL_HOURS

SHIPPING_WINDOW = timedelta(hours=48)
STALL_AFTER = timedelta(hours=STALL_HOURS)
STALL_WINDOW = timedelta(days=14)
FOLLOW_UP_FROM = timedelta(days=3)
FOLLOW_UP_UNTIL = timedelta(days=10)
REMIND_DAYS_BEFORE = 5
FORMULA_DEPARTMENT = "infant"
ON_THE_WAY = ("in_transit", "out_for_delivery")
SLOT_LABELS = {"morning": "上午", "afternoon": "下午", "evening": "晚上"}
# When a visit's slot begins, shop time. The shop's model only names the slots (models.SLOTS);
# these are the earliest moments a fitter may arrive: 上午 from 09:00, 下午 from 12:00 (the
# booking form files 中午 under it), 晚上 from 18:00 (傍晚, 下班后). A reminder after that is late.
VISIT_SLOT_STARTS = {"morning": time(9), "afternoon": time(12), "evening": time(18)}


@dataclass(frozen=True)
class Notice:
    """One notice owed to one customer about one subject."""

    kind: str
    subject_key: str
    customer_id: int
    due_at: datetime
    facts: Dict[str, str] = field(default_factory=dict)
    order_id: Optional[int] = None
    # From this moment on it is pointless (an installation reminder once the visit's slot began).
    not_after: Optional[datetime] = None

    @property
    def intent(self) -> str:
        """The external intent that delivers it (data/rules/notices.yml)."""
        return external_intent(self.kind)

    @property
    def notice_id(self) -> str:
        """Names the notice in the conversation (the trigger's ``notice_id`` entity)."""
        return f"{self.kind}:{self.subject_key}"


def day_label(day: date) -> str:
    """A day as customers write it, e.g. ``11月25日``."""
    return f"{day.month}月{day.day}日"


def goods_label(items: Iterable[OrderItem]) -> str:
    """The goods of an order: ``名称×2、名称``."""
    parts = []
    for item in items:
        name = item.sku.product.name
        parts.append(f"{name}×{item.quantity}" if item.quantity > 1 else name)
    return "、".join(parts)


def _order_facts(order: Order) -> Dict[str, str]:
    return {"order_number": order.order_number, "goods": goods_label(order.items)}


def shipping_notices(session: Session, now: datetime) -> List[Notice]:
    """Parcels that left in the last 48 hours and are on their way."""
    rows = session.execute(
        select(Shipment)
        .where(Shipment.shipped_at > now - SHIPPING_WINDOW, Shipment.shipped_at <= now)
        .where(Shipment.status.in_(ON_THE_WAY))
        .options(selectinload(Shipment.order))
    ).scalars()
    return [
        Notice(
            kind="shipping_notice",
            subject_key=f"shipment:{s.id}",
            customer_id=s.order.customer_id,
            order_id=s.order_id,
            due_at=s.shipped_at,
            facts={
                **_order_facts(s.order),
                "courier": s.carrier,
                "waybill": s.tracking_number,
            },
        )
        for s in rows
    ]


def delay_notices(session: Session, now: datetime) -> List[Notice]:
    """Parcels on their way whose tracking has not moved for 48 hours."""
    latest = (
        select(ShipmentEvent.shipment_id, func.max(ShipmentEvent.occurred_at).label("at"))
        .group_by(ShipmentEvent.shipment_id)
        .subquery()
    )
    rows = session.execute(
        select(Shipment, latest.c.at)
        .outerjoin(latest, latest.c.shipment_id == Shipment.id)
        .where(Shipment.status.in_(ON_THE_WAY), Shipment.shipped_at > now - STALL_WINDOW)
        .options(selectinload(Shipment.order))
    ).all()
    notices = []
    for shipment, last_at in rows:
        last = shipment.shipped_at if last_at is None else last_at
        last = last if last.tzinfo else last.replace(tzinfo=now.tzinfo)
        if now - last < STALL_AFTER:
            continue
        notices.append(
            Notice(
                kind="delay_apology",
                subject_key=f"shipment:{shipment.id}",
                customer_id=shipment.order.customer_id,
                order_id=shipment.order_id,
                due_at=last + STALL_AFTER,
                facts={
                    **_order_facts(shipment.order),
                    "courier": shipment.carrier,
                    "waybill": shipment.tracking_number,
                    "hours_stalled": str(int((now - last).total_seconds() // 3600)),
                },
            )
        )
    return notices


def follow_up_notices(session: Session, now: datetime, tz: ZoneInfo) -> List[Notice]:
    """Orders delivered three to ten days ago: ask how the goods are doing."""
    rows = session.execute(
        select(Order).where(
            Order.state.in_(("delivered", "completed")),
            Order.delivered_at <= now - FOLLOW_UP_FROM,
            Order.delivered_at > now - FOLLOW_UP_UNTIL,
        )
    ).scalars()
    return [
        Notice(
            kind="follow_up_visit",
            subject_key=f"order:{o.id}",
            customer_id=o.customer_id,
            order_id=o.id,
            due_at=o.delivered_at + FOLLOW_UP_FROM,
            facts={**_order_facts(o), "delivered_on": day_label(o.delivered_at.astimezone(tz))},
        )
        for o in rows
    ]


def visit_starts_at(day: date, slot: str, tz: ZoneInfo) -> datetime:
    """The moment a visit's slot begins (an unknown slot counts from the start of the day)."""
    return datetime.combine(day, VISIT_SLOT_STARTS.get(slot, time(0)), tz)


def installation_notices(session: Session, now: datetime, tz: ZoneInfo) -> List[Notice]:
    """Installation visits booked for tomorrow, or for today before the visit's slot begins."""
    today = now.astimezone(tz).date()
    rows = session.execute(
        select(InstallationAppointment).where(
            InstallationAppointment.status.in_(("booked", "confirmed")),
            InstallationAppointment.date >= today,
            InstallationAppointment.date <= today + timedelta(days=1),
        )
    ).scalars()
    notices = []
    for visit in rows:
        starts_at = visit_starts_at(visit.date, visit.slot, tz)
        if now >= starts_at:
            continue
        goods = visit.product.name if visit.product is not None else "商品"
        notices.append(
            Notice(
                kind="installation_reminder",
                subject_key=f"appointment:{visit.id}",
                customer_id=visit.customer_id,
                order_id=visit.order_id,
                due_at=datetime.combine(visit.date - timedelta(days=1), time(8), tz),
                not_after=starts_at,
                facts={
                    "goods": goods,
                    "visit_day": day_label(visit.date),
                    "visit_slot": SLOT_LABELS.get(visit.slot, visit.slot),
                    "provider": visit.provider.name,
                    "service_point": visit.provider.service_point,
                },
            )
        )
    return notices


def _formula_items(order: Order) -> List[OrderItem]:
    return [
        item
        for item in order.items
        if item.sku.product.department == FORMULA_DEPARTMENT
        and (item.sku.product.specs or {}).get("net_weight_g")
    ]


def formula_notices(session: Session, now: datetime, tz: ZoneInfo) -> List[Notice]:
    """Infant formula that runs out within :data:`REMIND_DAYS_BEFORE` days."""
    today = now.astimezone(tz).date()
    customers = session.execute(
        select(Customer).where(Customer.formula_daily_grams.is_not(None))
    ).scalars()
    notices = []
    for customer in customers:
        orders = session.execute(
            select(Order)
            .where(Order.customer_id == customer.id, Order.paid_at.is_not(None))
            .where(Order.state != "cancelled")
            .order_by(Order.created_at)
            .options(
                selectinload(Order.items).selectinload(OrderItem.sku).selectinload(Sku.product)
            )
        ).scalars()
        formula_orders = [(o, items) for o in orders if (items := _formula_items(o))]
        if not formula_orders:
            continue
        order, items = formula_orders[-1]  # only the latest purchase can run out next
        start = (order.delivered_at or order.paid_at).astimezone(tz).date()
        grams = sum(i.quantity * int(i.sku.product.specs["net_weight_g"]) for i in items)
        runout = start + timedelta(days=grams // customer.formula_daily_grams)
        days_left = (runout - today).days
        if not 1 <= days_left <= REMIND_DAYS_BEFORE:
            continue
        notices.append(
            Notice(
                kind="formula_runout",
                subject_key=f"order:{order.id}",
                customer_id=customer.id,
                order_id=order.id,
                due_at=datetime.combine(runout - timedelta(days=REMIND_DAYS_BEFORE), time(8), tz),
                facts={
                    "goods": items[0].sku.product.name,
                    "cans": str(sum(i.quantity for i in items)),
                    "daily_grams": str(customer.formula_daily_grams),
                    "purchased_on": day_label(order.paid_at.astimezone(tz)),
                    "runout_day": day_label(runout),
                    "days_left": str(days_left),
                },
            )
        )
    return notices


def find_due(session: Session, now: datetime, tz: ZoneInfo) -> List[Notice]:
    """Every notice due at a moment, oldest first.

    Args:
        session: Open session on the shop database.
        now: The current moment (timezone-aware; tests pass their own).
        tz: The shop's time zone.

    Returns:
        The notices, whether or not they were sent before (see :mod:`bot.notices.run`).
    """
    found = (
        shipping_notices(session, now)
        + delay_notices(session, now)
        + follow_up_notices(session, now, tz)
        + installation_notices(session, now, tz)
        + formula_notices(session, now, tz)
    )
    return sorted(found, key=lambda notice: (notice.due_at, notice.kind, notice.subject_key))
