"""Declarative models of the shop database (SQLAlchemy 1.4, 2.0-style use).

Money is integer fen (1 yuan = 100 fen). Moments are timezone-aware: stored in UTC, presented in
the shop's time zone (`shop.settings.to_shop_time`). Customers' phone numbers are never stored
in full: only a masked form and the last four digits used to verify an order's owner.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import declarative_base, relationship
from sqlalchemy.types import TypeDecorator

from shop.policy.compensation import AGENT_ROLES
from shop.policy.membership import MEMBER_LEVELS
from shop.policy.refunds import REFUND_STATES, REVIEW_REASONS

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
Base = declarative_base(metadata=MetaData(naming_convention=NAMING))

PERSONALITY_TYPES = ("dominant", "expressive", "amiable", "analytical")
ORDER_STATES = ("unpaid", "paid", "shipped", "delivered", "completed", "cancelled")
SHIPMENT_STATUSES = ("in_transit", "out_for_delivery", "delivered", "returned")
RETURN_KINDS = ("return", "exchange")
RETURN_STATUSES = (
    "requested",
    "approved",
    "return_shipped",
    "refunded",
    "exchange_shipped",
    "rejected",
    "closed",
)
TICKET_KINDS = ("complaint", "logistics_chase", "delivery_investigation", "price_protection")
TICKET_CATEGORIES = ("quality", "logistics", "attitude", "price")
TICKET_SEVERITIES = ("low", "medium", "high")
TICKET_STATUSES = ("open", "resolved", "closed")
SEVERITY_FOLLOW_UP_HOURS = {"high": 4, "medium": 24, "low": 48}
SLOTS = ("morning", "afternoon", "evening")
APPOINTMENT_STATUSES = ("booked", "confirmed", "done", "cancelled")


def _one_of(column: str, values: tuple) -> CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=f"{column}_valid")


def utcnow() -> datetime:
    """Return the current moment, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timezone-aware moment stored in UTC; naive datetimes are refused.

    SQLite keeps no zone, so values are written as naive UTC and read back with UTC attached;
    PostgreSQL stores `timestamptz` and the value is converted to UTC when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect: Any) -> Optional[datetime]:
        """Convert an aware datetime to UTC for storage."""
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError("shop moments must be timezone-aware datetimes")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Optional[datetime], dialect: Any) -> Optional[datetime]:
        """Return the stored moment as an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Product(Base):
    """A product on sale, with the facts pre-sale advice is given from."""

    __tablename__ = "products"
    __table_args__ = (CheckConstraint("price_fen >= 0", name="price_nonnegative"),)

    id = Column(Integer, primary_key=True)
    code = Column(String(32), nullable=False, unique=True)
    name = Column(String(120), nullable=False, unique=True)
    department = Column(String(32), nullable=False, index=True)
    category = Column(String(32), nullable=False, index=True)
    brand = Column(String(32), nullable=False)
    price_fen = Column(Integer, nullable=False)
    description = Column(Text, nullable=False, default="")
    specs = Column(JSON, nullable=False, default=dict)
    needs_installation = Column(Boolean, nullable=False, default=False)
    mounting_height_min_mm = Column(Integer)
    mounting_height_max_mm = Column(Integer)
    ceiling_cutout_width_mm = Column(Integer)
    ceiling_cutout_depth_mm = Column(Integer)
    flue_diameter_mm = Column(Integer)
    flue_max_length_m = Column(Integer)
    warranty_years = Column(Integer, nullable=False, default=0)
    authorisation_cert_no = Column(String(64))
    anti_counterfeit_scheme = Column(String(200))
    size_chart = Column(JSON)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    skus = relationship("Sku", back_populates="product", order_by="Sku.id")
    prices = relationship(
        "PriceHistory", back_populates="product", order_by="PriceHistory.effective_from"
    )


class Sku(Base):
    """A stock-keeping unit: one colour and size of a product.

    For food the `colour` column holds the flavour (`specs["variant_label"]` names it), and for
    gas appliances `size` holds the gas type (天然气 / 液化气).
    """

    __tablename__ = "skus"
    __table_args__ = (CheckConstraint("stock >= 0", name="stock_nonnegative"),)

    id = Column(Integer, primary_key=True)
    product_id = Column(
        Integer, ForeignKey("products.id", ondelete="CASCADE"), nullable=False, index=True
    )
    code = Column(String(40), nullable=False, unique=True)
    colour = Column(String(32))
    size = Column(String(32))
    stock = Column(Integer, nullable=False, default=0)
    restock_date = Column(Date)

    product = relationship("Product", back_populates="skus")


class PriceHistory(Base):
    """A product's price from a moment on (until the next row)."""

    __tablename__ = "price_history"
    __table_args__ = (
        Index("ix_price_history_product_from", "product_id", "effective_from"),
        CheckConstraint("price_fen >= 0", name="price_nonnegative"),
    )

    id = Column(Integer, primary_key=True)
    product_id = Column(Integer, ForeignKey("products.id", ondelete="CASCADE"), nullable=False)
    price_fen = Column(Integer, nullable=False)
    effective_from = Column(UTCDateTime, nullable=False)
    reason = Column(String(64))

    product = relationship("Product", back_populates="prices")


class Customer(Base):
    """A customer and their "emotional profile" (preferences and notes)."""

    __tablename__ = "customers"
    __table_args__ = (
        _one_of("personality_type", PERSONALITY_TYPES),
        _one_of("member_level", MEMBER_LEVELS),
        CheckConstraint("length(phone_tail) = 4", name="phone_tail_four_digits"),
        CheckConstraint("points >= 0", name="points_nonnegative"),
    )

    id = Column(Integer, primary_key=True)
    name = Column(String(32), nullable=False)
    nickname = Column(String(64), nullable=False)
    phone_masked = Column(String(16), nullable=False)
    phone_tail = Column(String(4), nullable=False, index=True)
    province = Column(String(16), nullable=False)
    city = Column(String(16), nullable=False, index=True)
    address_masked = Column(String(120), nullable=False)
    member_level = Column(String(16), nullable=False, default="regular")
    points = Column(Integer, nullable=False, default=0)
    free_shipping_card_until = Column(UTCDateTime)
    birthday = Column(Date)
    personality_type = Column(String(16), nullable=False)
    preferences = Column(JSON, nullable=False, default=dict)
    notes = Column(JSON, nullable=False, default=list)
    baby_birth_date = Column(Date)
    formula_daily_grams = Column(Integer)
    referred_by_id = Column(Integer, ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    orders = relationship("Order", back_populates="customer", order_by="Order.created_at")


class Order(Base):
    """An order; amounts in fen: items − discount + shipping fee = paid."""

    __tablename__ = "orders"
    __table_args__ = (
        _one_of("state", ORDER_STATES),
        CheckConstraint(
            "items_total_fen >= 0 AND discount_fen >= 0 AND shipping_fee_fen >= 0 "
            "AND payable_fen >= 0",
            name="amounts_nonnegative",
        ),
        Index("ix_orders_customer_created", "customer_id", "created_at"),
    )

    id = Column(Integer, primary_key=True)
    order_number = Column(String(13), nullable=False, unique=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False)
    state = Column(String(16), nullable=False, index=True)
    created_at = Column(UTCDateTime, nullable=False)
    paid_at = Column(UTCDateTime)
    shipped_at = Column(UTCDateTime)
    delivered_at = Column(UTCDateTime)
    completed_at = Column(UTCDateTime)
    cancelled_at = Column(UTCDateTime)
    items_total_fen = Column(Integer, nullable=False)
    discount_fen = Column(Integer, nullable=False, default=0)
    shipping_fee_fen = Column(Integer, nullable=False, default=0)
    payable_fen = Column(Integer, nullable=False)
    coupon_id = Column(Integer, ForeignKey("coupons.id", ondelete="SET NULL"))
    shipping_city = Column(String(16), nullable=False)
    address_masked = Column(String(120), nullable=False)
    invoice_title = Column(String(64))

    customer = relationship("Customer", back_populates="orders")
    items = relationship("OrderItem", back_populates="order", order_by="OrderItem.id")
    shipments = relationship("Shipment", back_populates="order", order_by="Shipment.id")


class OrderItem(Base):
    """One SKU in an order, at the unit price actually paid."""

    __tablename__ = "order_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id = Column(Integer, primary_key=True)
    order_id = Column(
        Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    sku_id = Column(Integer, ForeignKey("skus.id"), nullable=False, index=True)
    quantity = Column(Integer, nullable=False)
    unit_price_fen = Column(Integer, nullable=False)

    order = relationship("Order", back_populates="items")
    sku = relationship("Sku")

    @property
    def line_total_fen(self) -> int:
        """Quantity × unit price, in fen."""
        return self.quantity * self.unit_price_fen


class Shipment(Base):
    """A parcel of an order with a carrier's tracking number."""

    __tablename__ = "shipments"
    __table_args__ = (_one_of("status", SHIPMENT_STATUSES),)

    id = Column(Integer, primary_key=True)
    order_id = Column(
        Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    carrier = Column(String(16), nullable=False)
    tracking_number = Column(String(32), nullable=False, unique=True)
    status = Column(String(20), nullable=False, default="in_transit")
    shipped_at = Column(UTCDateTime, nullable=False)
    delivered_at = Column(UTCDateTime)
    signed_by = Column(String(32))

    order = relationship("Order", back_populates="shipments")
    events = relationship(
        "ShipmentEvent", back_populates="shipment", order_by="ShipmentEvent.occurred_at"
    )


class ShipmentEvent(Base):
    """One line of a parcel's tracking timeline."""

    __tablename__ = "shipment_events"
    __table_args__ = (Index("ix_shipment_events_shipment_time", "shipment_id", "occurred_at"),)

    id = Column(Integer, primary_key=True)
    shipment_id = Column(Integer, ForeignKey("shipments.id", ondelete="CASCADE"), nullable=False)
    occurred_at = Column(UTCDateTime, nullable=False)
    location = Column(String(64), nullable=False)
    description = Column(String(200), nullable=False)

    shipment = relationship("Shipment", back_populates="events")


class AntiCounterfeitCode(Base):
    """A printed anti-counterfeit code; the first check marks it used, every check is counted."""

    __tablename__ = "anti_counterfeit_codes"
    __table_args__ = (CheckConstraint("check_count >= 0", name="check_count_nonnegative"),)

    id = Column(Integer, primary_key=True)
    code = Column(String(32), nullable=False, unique=True)
    product_id = Column(
        Integer, ForeignKey("products.id", ondelete="CASCADE"), nullable=False, index=True
    )
    used = Column(Boolean, nullable=False, default=False)
    used_at = Column(UTCDateTime)
    check_count = Column(Integer, nullable=False, default=0, server_default="0")
    last_checked_at = Column(UTCDateTime)

    product = relationship("Product")


class ReturnRequest(Base):
    """A return or exchange; the refund is issued when the return's tracking number is given.

    A request is approved when the shop accepts it within policy (`approved_at`); only then is
    a return parcel's number taken. The refund's state (`shop.policy.refunds.REFUND_STATES`)
    says whether the money went back, waits for a person, or was reversed, with who set it
    (an agent's username, or "bot") and when. An exchange has a state only when its
    replacement waited for a person: under review (held), issued (sent) or reversed (declined).
    """

    __tablename__ = "returns"
    __table_args__ = (
        _one_of("kind", RETURN_KINDS),
        _one_of("status", RETURN_STATUSES),
        _one_of("refund_state", REFUND_STATES),
        _one_of("review_reason", REVIEW_REASONS),
        CheckConstraint("refund_fen >= 0", name="refund_nonnegative"),
    )

    id = Column(Integer, primary_key=True)
    order_id = Column(
        Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    order_item_id = Column(Integer, ForeignKey("order_items.id", ondelete="SET NULL"))
    kind = Column(String(16), nullable=False)
    reason = Column(String(200), nullable=False)
    status = Column(String(20), nullable=False, default="requested")
    refund_fen = Column(Integer, nullable=False, default=0)
    return_tracking_number = Column(String(32), index=True)
    exchange_sku_id = Column(Integer, ForeignKey("skus.id", ondelete="SET NULL"))
    photo_requested = Column(Boolean, nullable=False, default=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    return_shipped_at = Column(UTCDateTime)
    refunded_at = Column(UTCDateTime)
    approved_at = Column(UTCDateTime)
    refund_state = Column(String(16), index=True)
    refund_state_by = Column(String(32))
    refund_state_at = Column(UTCDateTime)
    review_reason = Column(String(24))
    review_due = Column(UTCDateTime)

    order = relationship("Order")
    order_item = relationship("OrderItem")


class Agent(Base):
    """A staff account: frontline agent, supervisor or trainer."""

    __tablename__ = "agents"
    __table_args__ = (
        _one_of("role", AGENT_ROLES),
        CheckConstraint("compensation_limit_fen >= 0", name="limit_nonnegative"),
    )

    id = Column(Integer, primary_key=True)
    username = Column(String(32), nullable=False, unique=True)
    display_name = Column(String(32), nullable=False)
    role = Column(String(16), nullable=False)
    password_hash = Column(String(255), nullable=False)
    compensation_limit_fen = Column(Integer, nullable=False, default=0)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)


class StaffSignOut(Base):
    """A signed-out console session: its nonce is refused until the session would have expired.

    Kept in the shop database so a sign-out holds across restarts and for every web app replica.
    """

    __tablename__ = "staff_signouts"

    nonce = Column(String(32), primary_key=True)
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False)
    expires_at = Column(UTCDateTime, nullable=False, index=True)


class CustomerSignOut(Base):
    """A customer's sign-out generation: how many times they signed out of the storefront.

    Every storefront cookie and chat signature names the generation it was issued at; signing
    out moves it on, which revokes them all for every process. A customer who never signed out
    has no row (generation 0).
    """

    __tablename__ = "customer_signouts"

    customer_id = Column(
        Integer,
        ForeignKey("customers.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    generation = Column(Integer, nullable=False)
    signed_out_at = Column(UTCDateTime, nullable=False)


VERIFICATION_ALERT_SCOPES = ("order", "conversation", "customer", "shop")


class VerificationFailure(Base):
    """A wrong phone tail given for an order number (`shop.policy.verification`).

    `guess` is a short digest of the order number and the tail given, so the same wrong tail
    checked again counts once; `conversation` is the conversation it came from and
    `customer_id` the signed-in customer, if any.
    """

    __tablename__ = "verification_failures"
    __table_args__ = (
        Index("ix_verification_failures_order_at", "order_number", "occurred_at"),
        Index("ix_verification_failures_conversation_at", "conversation", "occurred_at"),
        Index("ix_verification_failures_customer_at", "customer_id", "occurred_at"),
    )

    id = Column(Integer, primary_key=True)
    order_number = Column(String(13), nullable=False)
    guess = Column(String(16), nullable=False)
    conversation = Column(String(128), nullable=False)
    customer_id = Column(Integer, ForeignKey("customers.id", ondelete="CASCADE"))
    occurred_at = Column(UTCDateTime, nullable=False, index=True)


class VerificationAlert(Base):
    """A burst of wrong phone tails: on one order, from one client, or in the whole shop.

    One row per subject and burst: failures that follow within `ALERT_MERGE` raise its count.
    """

    __tablename__ = "verification_alerts"
    __table_args__ = (
        _one_of("scope", VERIFICATION_ALERT_SCOPES),
        Index("ix_verification_alerts_scope_subject", "scope", "subject", "last_at"),
    )

    id = Column(Integer, primary_key=True)
    scope = Column(String(16), nullable=False)
    subject = Column(String(128), nullable=False)
    failures = Column(Integer, nullable=False)
    first_at = Column(UTCDateTime, nullable=False)
    last_at = Column(UTCDateTime, nullable=False, index=True)


class ComplaintTicket(Base):
    """A complaint or a service ticket (logistics chase, delivery investigation, price protection).

    Follows the four steps: confirm problem and demand, classify severity, offer options allowed
    by policy, record the choice and a follow-up date; escalated when above frontline authority.
    """

    __tablename__ = "complaint_tickets"
    __table_args__ = (
        _one_of("kind", TICKET_KINDS),
        _one_of("category", TICKET_CATEGORIES),
        _one_of("severity", TICKET_SEVERITIES),
        _one_of("status", TICKET_STATUSES),
        Index("ix_complaint_tickets_status_due", "status", "follow_up_due"),
    )

    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    order_id = Column(Integer, ForeignKey("orders.id", ondelete="SET NULL"), index=True)
    shipment_id = Column(Integer, ForeignKey("shipments.id", ondelete="SET NULL"))
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="SET NULL"))
    kind = Column(String(24), nullable=False, default="complaint")
    category = Column(String(16), nullable=False)
    severity = Column(String(8), nullable=False, default="medium")
    description = Column(Text, nullable=False, default="")
    demand = Column(String(200))
    options_offered = Column(JSON, nullable=False, default=list)
    chosen_option = Column(String(64))
    compensation_fen = Column(Integer, nullable=False, default=0)
    resolution = Column(Text)
    escalated = Column(Boolean, nullable=False, default=False)
    status = Column(String(16), nullable=False, default="open")
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    follow_up_due = Column(UTCDateTime)
    resolved_at = Column(UTCDateTime)

    customer = relationship("Customer")
    order = relationship("Order")


class InstallationProvider(Base):
    """A local installation and repair service provider."""

    __tablename__ = "installation_providers"

    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False)
    city = Column(String(16), nullable=False, index=True)
    service_point = Column(String(120), nullable=False)
    categories = Column(JSON, nullable=False, default=list)
    contact_within_hours = Column(Integer, nullable=False, default=24)
    rating = Column(Integer, nullable=False, default=5)


class InstallationAppointment(Base):
    """A booked installation visit and the deadline for the provider to call the customer."""

    __tablename__ = "installation_appointments"
    __table_args__ = (
        _one_of("slot", SLOTS),
        _one_of("status", APPOINTMENT_STATUSES),
    )

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id", ondelete="SET NULL"), index=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    product_id = Column(Integer, ForeignKey("products.id"))
    provider_id = Column(
        Integer, ForeignKey("installation_providers.id"), nullable=False, index=True
    )
    address = Column(String(200), nullable=False)
    city = Column(String(16), nullable=False)
    date = Column(Date, nullable=False)
    slot = Column(String(16), nullable=False)
    status = Column(String(16), nullable=False, default="booked")
    contact_deadline = Column(UTCDateTime, nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    provider = relationship("InstallationProvider")
    product = relationship("Product")


class Coupon(Base):
    """A customer's coupon: amount off when the order reaches the threshold."""

    __tablename__ = "coupons"
    __table_args__ = (
        CheckConstraint("amount_fen > 0 AND threshold_fen >= 0", name="amounts_valid"),
        Index("ix_coupons_customer_valid", "customer_id", "valid_until"),
    )

    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False)
    name = Column(String(64), nullable=False)
    amount_fen = Column(Integer, nullable=False)
    threshold_fen = Column(Integer, nullable=False, default=0)
    category = Column(String(32))
    valid_from = Column(UTCDateTime, nullable=False)
    valid_until = Column(UTCDateTime, nullable=False)
    used = Column(Boolean, nullable=False, default=False)
    used_at = Column(UTCDateTime)


class Promotion(Base):
    """A shop promotion for one product or a whole category: an amount or a percentage off."""

    __tablename__ = "promotions"
    __table_args__ = (
        CheckConstraint("product_id IS NOT NULL OR category IS NOT NULL", name="has_target"),
        CheckConstraint("(discount_fen IS NULL) <> (percent_off IS NULL)", name="one_discount"),
        CheckConstraint(
            "percent_off IS NULL OR (percent_off > 0 AND percent_off < 100)", name="percent_range"
        ),
        Index("ix_promotions_window", "starts_at", "ends_at"),
    )

    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False)
    product_id = Column(Integer, ForeignKey("products.id", ondelete="CASCADE"), index=True)
    category = Column(String(32), index=True)
    discount_fen = Column(Integer)
    percent_off = Column(Integer)
    threshold_fen = Column(Integer, nullable=False, default=0)
    starts_at = Column(UTCDateTime, nullable=False)
    ends_at = Column(UTCDateTime, nullable=False)

    product = relationship("Product")


class Gift(Base):
    """A gift that fits a product category from a minimum order amount on."""

    __tablename__ = "gifts"

    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False)
    category = Column(String(32), nullable=False, index=True)
    min_order_fen = Column(Integer, nullable=False, default=0)
    stock = Column(Integer, nullable=False, default=0)
    notes = Column(String(200), nullable=False, default="")


NOTICE_KINDS = (
    "shipping_notice",
    "delay_apology",
    "follow_up_visit",
    "installation_reminder",
    "formula_runout",
)
NOTICE_STATUSES = ("pending", "sent", "failed")


class NoticeLog(Base):
    """A proactive notice claimed for one subject (order, shipment, appointment, purchase).

    The unique (kind, subject_key) pair is what keeps a notice from being sent twice, also
    across restarts: a notice is claimed (pending) before it is delivered, then marked sent.
    """

    __tablename__ = "notice_log"
    __table_args__ = (
        _one_of("kind", NOTICE_KINDS),
        _one_of("status", NOTICE_STATUSES),
        Index("ix_notice_log_kind_subject", "kind", "subject_key", unique=True),
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
    )

    id = Column(Integer, primary_key=True)
    kind = Column(String(24), nullable=False)
    subject_key = Column(String(64), nullable=False)
    customer_id = Column(
        Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    order_id = Column(Integer, ForeignKey("orders.id", ondelete="SET NULL"))
    conversation_id = Column(String(64), nullable=False)
    status = Column(String(16), nullable=False, default="pending")
    attempts = Column(Integer, nullable=False, default=0)
    due_at = Column(UTCDateTime, nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    sent_at = Column(UTCDateTime)
    last_error = Column(String(200))


INVOICE_STATUSES = ("requested", "issued", "cancelled")


class InvoiceRequest(Base):
    """A customer's request for an invoice of an order and when it will be issued."""

    __tablename__ = "invoice_requests"
    __table_args__ = (_one_of("status", INVOICE_STATUSES),)

    id = Column(Integer, primary_key=True)
    order_id = Column(
        Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    title = Column(String(64), nullable=False)
    tax_number = Column(String(32))
    status = Column(String(16), nullable=False, default="requested")
    requested_at = Column(UTCDateTime, nullable=False, default=utcnow)
    issue_by = Column(UTCDateTime, nullable=False)
    issued_at = Column(UTCDateTime)

    order = relationship("Order")


__all__ = [
    "Agent",
    "AntiCounterfeitCode",
    "Base",
    "ComplaintTicket",
    "Coupon",
    "Customer",
    "CustomerSignOut",
    "Gift",
    "InstallationAppointment",
    "InstallationProvider",
    "InvoiceRequest",
    "NoticeLog",
    "Order",
    "OrderItem",
    "PriceHistory",
    "Product",
    "Promotion",
    "ReturnRequest",
    "Shipment",
    "ShipmentEvent",
    "Sku",
    "UTCDateTime",
    "VerificationAlert",
    "VerificationFailure",
    "utcnow",
]
