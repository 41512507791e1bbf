"""Customers: profile summary (the "emotional profile") and coupons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Dict, List, Optional

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shop import settings as settings_module
from shop.db.models import (
    ComplaintTicket,
    Coupon,
    Customer,
    Order,
    OrderItem,
    Product,
    Sku,
)
from shop.text import inputs

SPENDING_STATES = ("paid", "shipped", "delivered", "completed")
# A referral is rewarded once the invited friend's first order ships.
SHIPPED_STATES = ("shipped", "delivered", "completed")


@dataclass(frozen=True)
class CustomerProfile:
    """What an agent (and the style adaptation) may know about a customer; no full phone/address.

    Attributes:
        referrals: How many customers this customer invited.
        rewarded_referrals: Of those, how many have an order that shipped (the reward's condition).
        formula_runs_out_on: For infant formula buyers, when the last purchase is estimated to run
            out (grams bought / daily consumption), for a timely reminder.

    """

    customer_id: int
    name: str
    nickname: str
    phone_masked: str
    city: str
    address_masked: str
    member_level: str
    points: int
    free_shipping_card_until: Optional[datetime]
    free_shipping_card_active: bool
    birthday: Optional[date]
    days_to_birthday: Optional[int]
    personality_type: str
    preferences: Dict[str, Any]
    notes: List[str]
    order_count: int
    total_spent_fen: int
    last_order_at: Optional[datetime]
    open_tickets: int
    valid_coupons: int
    referrals: int
    baby_birth_date: Optional[date] = None
    baby_age_months: Optional[int] = None
    formula_daily_grams: Optional[int] = None
    formula_runs_out_on: Optional[date] = None
    rewarded_referrals: int = 0


def get_customer(session: Session, customer_id: Any) -> Optional[Customer]:
    """Return a customer by id (int or digit string), or None."""
    cid = inputs.record_id(customer_id)
    return session.get(Customer, cid) if cid is not None else None


def coupons_valid_now(
    session: Session,
    customer_id: Any,
    now: datetime,
    *,
    order_amount_fen: Optional[int] = None,
    category: Optional[str] = None,
) -> List[Coupon]:
    """Return a customer's unused coupons valid at `now`, biggest amount first.

    Args:
        session: Open session.
        customer_id: The customer.
        now: Current moment (aware).
        order_amount_fen: Only coupons whose threshold this amount reaches, when given.
        category: Only coupons for all products or for this category, when given.

    Returns:
        The coupons.

    """
    cid = inputs.record_id(customer_id)
    if cid is None:
        return []
    stmt = select(Coupon).where(
        Coupon.customer_id == cid,
        Coupon.used.is_(False),
        Coupon.valid_from <= now,
        Coupon.valid_until > now,
    )
    if order_amount_fen is not None:
        stmt = stmt.where(Coupon.threshold_fen <= int(order_amount_fen))
    if category is not None:
        stmt = stmt.where(or_(Coupon.category.is_(None), Coupon.category == category))
    stmt = stmt.order_by(Coupon.amount_fen.desc(), Coupon.valid_until, Coupon.id)
    return list(session.execute(stmt).scalars())


def _days_to_birthday(birthday: Optional[date], today: date) -> Optional[int]:
    if birthday is None:
        return None
    for year in (today.year, today.year + 1):
        try:
            next_day = birthday.replace(year=year)
        except ValueError:  # 29 February
            next_day = date(year, 3, 1)
        if next_day >= today:
            return (next_day - today).days
    return None


def _formula_runs_out_on(session: Session, customer: Customer) -> Optional[date]:
    if not customer.formula_daily_grams:
        return None
    latest = (
        session.execute(
            select(Order)
            .join(OrderItem, OrderItem.order_id == Order.id)
            .join(Sku, Sku.id == OrderItem.sku_id)
            .join(Product, Product.id == Sku.product_id)
            .where(
                Order.customer_id == customer.id,
                Order.state.in_(SPENDING_STATES),
                Product.category == "奶粉",
            )
            .order_by(Order.created_at.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )
    if latest is None:
        return None
    grams = 0
    for item, product in session.execute(
        select(OrderItem, Product)
        .join(Sku, Sku.id == OrderItem.sku_id)
        .join(Product, Product.id == Sku.product_id)
        .where(OrderItem.order_id == latest.id, Product.category == "奶粉")
    ):
        grams += item.quantity * int((product.specs or {}).get("net_weight_g", 0))
    start = latest.delivered_at or latest.paid_at or latest.created_at
    tz = settings_module.load().tz
    return (start.astimezone(tz) + timedelta(days=grams // customer.formula_daily_grams)).date()


def customer_profile(
    session: Session, customer_id: Any, now: datetime
) -> Optional[CustomerProfile]:
    """Summarise a customer for the agent console and for style adaptation.

    Args:
        session: Open session.
        customer_id: The customer.
        now: Current moment (aware).

    Returns:
        The summary (masked phone and address only), or None for an unknown customer.

    """
    customer = get_customer(session, customer_id)
    if customer is None:
        return None
    today = now.astimezone(settings_module.load().tz).date()
    count, spent, last = session.execute(
        select(
            func.count(Order.id),
            func.coalesce(func.sum(Order.payable_fen), 0),
            func.max(Order.created_at),
        ).where(Order.customer_id == customer.id, Order.state.in_(SPENDING_STATES))
    ).one()
    open_tickets = session.execute(
        select(func.count(ComplaintTicket.id)).where(
            ComplaintTicket.customer_id == customer.id, ComplaintTicket.status == "open"
        )
    ).scalar_one()
    referrals = session.execute(
        select(func.count(Customer.id)).where(Customer.referred_by_id == customer.id)
    ).scalar_one()
    rewarded = session.execute(
        select(func.count(Customer.id)).where(
            Customer.referred_by_id == customer.id,
            select(Order.id)
            .where(Order.customer_id == Customer.id, Order.state.in_(SHIPPED_STATES))
            .exists(),
        )
    ).scalar_one()
    card = customer.free_shipping_card_until
    baby_months = None
    if customer.baby_birth_date is not None:
        born = customer.baby_birth_date
        baby_months = (today.year - born.year) * 12 + today.month - born.month
        baby_months -= 1 if today.day < born.day else 0
    return CustomerProfile(
        customer_id=customer.id,
        name=customer.name,
        nickname=customer.nickname,
        phone_masked=customer.phone_masked,
        city=customer.city,
        address_masked=customer.address_masked,
        member_level=customer.member_level,
        points=customer.points,
        free_shipping_card_until=card,
        free_shipping_card_active=card is not None and card > now,
        birthday=customer.birthday,
        days_to_birthday=_days_to_birthday(customer.birthday, today),
        personality_type=customer.personality_type,
        preferences=dict(customer.preferences or {}),
        notes=list(customer.notes or []),
        order_count=int(count),
        total_spent_fen=int(spent),
        last_order_at=last,
        open_tickets=int(open_tickets),
        valid_coupons=len(coupons_valid_now(session, customer.id, now)),
        referrals=int(referrals),
        rewarded_referrals=int(rewarded),
        baby_birth_date=customer.baby_birth_date,
        baby_age_months=baby_months,
        formula_daily_grams=customer.formula_daily_grams,
        formula_runs_out_on=_formula_runs_out_on(session, customer),
    )
