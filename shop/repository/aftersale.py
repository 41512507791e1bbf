"""Returns, exchanges and refunds; complaint and service tickets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, List, Optional

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shop.db.models import (
    RETURN_KINDS,
    SEVERITY_FOLLOW_UP_HOURS,
    TICKET_CATEGORIES,
    TICKET_KINDS,
    TICKET_SEVERITIES,
    ComplaintTicket,
    Order,
    OrderItem,
    ReturnRequest,
    Shipment,
    Sku,
)
from shop.policy import refunds as refund_policy
from shop.policy.aftersale import NO_REASON_RETURN_DAYS
from shop.policy.compensation import COMPENSATION_LIMIT_FEN
from shop.text import inputs

# Requests whose refund is promised or paid (a rejected or closed one is not).
COMMITTED_STATUSES = ("requested", "approved", "return_shipped", "refunded")
# Requests still waiting for the return parcel: an exchange among them holds its new SKU.
OPEN_STATUSES = ("requested", "approved")


class OutOfStock(ValueError):
    """The SKU an exchange would send has no stock left (someone took the last one)."""


class NumberRefused(ValueError):
    """A return parcel's tracking number the shop does not take, and why.

    Reasons: malformed, not_a_parcel (a mobile or the order's own number), check_digit,
    outbound (a parcel the shop sent), in_use (given for another return), not_approved,
    closed (the request is already settled).
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class RefundNotChangeable(ValueError):
    """An agent's decision that does not fit the refund's state (e.g. approving a reversed one)."""


def as_written(value: Any, max_len: int = inputs.MAX_TEXT) -> str:
    """A customer's own words as stored: blanks made one, cut to max_len, nothing else changed.

    Unlike `inputs.clean_text` no NFKC: a complaint keeps its "…", full-width signs, braces
    and the word "None" exactly as typed (every page escapes it when shown).
    """
    if value is None:
        return ""
    return " ".join(str(value).split())[:max_len]


def line_paid_fen(order: Order, item: OrderItem) -> int:
    """What the customer paid for one line: its total less its share of the order's discount.

    The discount is shared in proportion to the line totals (rounded to the fen); the shipping
    fee belongs to no line.
    """
    line = item.quantity * item.unit_price_fen
    total = sum(i.quantity * i.unit_price_fen for i in order.items) or order.items_total_fen
    if not order.discount_fen or total <= 0:
        return line
    share = (order.discount_fen * line + total // 2) // total
    return max(0, line - share)


def refunds_committed_fen(
    session: Session, order: Order, *, except_request_id: Optional[int] = None
) -> int:
    """Money of the order already refunded or promised: returns and paid price protection.

    Args:
        session: Open session.
        order: The order.
        except_request_id: A request being (re)computed, which does not count.

    Returns:
        The sum in fen of the other returns' refunds (not rejected or closed) and of the
        resolved price-protection compensations of the order.

    """
    stmt = select(func.coalesce(func.sum(ReturnRequest.refund_fen), 0)).where(
        ReturnRequest.order_id == order.id,
        ReturnRequest.kind == "return",
        ReturnRequest.status.in_(COMMITTED_STATUSES),
    )
    if except_request_id is not None:
        stmt = stmt.where(ReturnRequest.id != except_request_id)
    returns = int(session.execute(stmt).scalar_one())
    compensated = select(func.coalesce(func.sum(ComplaintTicket.compensation_fen), 0)).where(
        ComplaintTicket.order_id == order.id,
        ComplaintTicket.kind == "price_protection",
        ComplaintTicket.status == "resolved",
    )
    return returns + int(session.execute(compensated).scalar_one())


def reserve_stock(session: Session, sku_id: int, quantity: int = 1) -> bool:
    """Take units of a SKU off the shelf, atomically: never below zero, even under a race.

    One `UPDATE … WHERE stock >= quantity`: of two customers after the last unit, exactly one
    statement changes a row.

    Returns:
        True when reserved, False when fewer than `quantity` are left.

    """
    result = session.execute(
        update(Sku)
        .where(Sku.id == sku_id, Sku.stock >= quantity)
        .values(stock=Sku.stock - quantity)
        .execution_options(synchronize_session=False)
    )
    _expire_stock(session, sku_id)
    return result.rowcount == 1


def release_stock(session: Session, sku_id: int, quantity: int = 1) -> None:
    """Put reserved units of a SKU back on the shelf."""
    session.execute(
        update(Sku)
        .where(Sku.id == sku_id)
        .values(stock=Sku.stock + quantity)
        .execution_options(synchronize_session=False)
    )
    _expire_stock(session, sku_id)


def _expire_stock(session: Session, sku_id: int) -> None:
    cached = session.identity_map.get(session.identity_key(Sku, sku_id))
    if cached is not None:
        session.expire(cached, ["stock"])


def _exchange_quantity(session: Session, request: ReturnRequest) -> int:
    item = session.get(OrderItem, request.order_item_id) if request.order_item_id else None
    return item.quantity if item is not None else 1


def holds_stock(request: ReturnRequest) -> bool:
    """Whether the request holds reserved stock: an exchange with its new SKU not sent yet.

    That is an open exchange, or one whose return parcel a person checks before the new item
    goes out (`refund_state` "under_review").
    """
    return (
        request.kind == "exchange"
        and request.exchange_sku_id is not None
        and (request.status in OPEN_STATUSES or request.refund_state == "under_review")
    )


def release_exchange(session: Session, request: ReturnRequest) -> None:
    """Give back the stock an open exchange holds and forget its new SKU (it becomes a return)."""
    if holds_stock(request):
        release_stock(session, request.exchange_sku_id, _exchange_quantity(session, request))
    request.exchange_sku_id = None
    session.flush()


def make_exchange(
    session: Session, request: ReturnRequest, order_item: OrderItem, sku_id: int
) -> ReturnRequest:
    """Turn an open request into an exchange of the line for the SKU, reserving the SKU first.

    Args:
        session: Open session (the caller commits).
        request: The order's open request (a return, or an exchange for another SKU).
        order_item: The line sent back.
        sku_id: The SKU to send instead.

    Returns:
        The request, now an exchange without refund that holds the new SKU's stock.

    Raises:
        OutOfStock: When the SKU has no stock left; the request is left as it was.

    """
    if not (holds_stock(request) and request.exchange_sku_id == sku_id):
        if not reserve_stock(session, sku_id, order_item.quantity):
            raise OutOfStock(f"sku {sku_id} is out of stock")
        release_exchange(session, request)
    request.kind, request.refund_fen, request.exchange_sku_id = "exchange", 0, sku_id
    request.order_item_id = order_item.id
    session.flush()
    return request


def within_no_reason_window(order: Order, now: datetime) -> bool:
    """Tell whether an order is within the 7-day no-reason return period from delivery."""
    if order.delivered_at is None:
        return False
    return now - order.delivered_at <= timedelta(days=NO_REASON_RETURN_DAYS)


def create_return(
    session: Session,
    order: Order,
    *,
    reason: Any,
    now: datetime,
    kind: str = "return",
    order_item: Optional[OrderItem] = None,
    refund_fen: Optional[int] = None,
    exchange_sku_id: Optional[int] = None,
    photo_requested: bool = False,
    approved: bool = True,
) -> ReturnRequest:
    """Record a return or an exchange request for an order (already checked to be the caller's).

    The caller has checked the request against the policy, so it is approved as it is recorded
    (from now on the return parcel's number is taken) unless `approved` is False: a quality
    issue waits for its photo, and is approved when the customer then asks for the return.

    Args:
        session: Open session (the caller commits).
        order: The order.
        reason: The customer's reason, stored as plain text (cut to 200 characters).
        now: Current moment (aware).
        kind: "return" or "exchange".
        order_item: The line concerned; the whole order when None.
        refund_fen: Amount to refund; defaults to the line total (or the amount paid) for a
            return and 0 for an exchange.
        exchange_sku_id: The SKU to send instead, for an exchange: its stock is reserved
            (taken off the shelf) here, so the replacement promised is really there.
        photo_requested: Whether a photo of the defect was asked for.
        approved: Whether the request is approved now ("approved") or waits ("requested").

    Returns:
        The new row (flushed, with its id).

    Raises:
        OutOfStock: For an exchange whose SKU has no stock left (nothing is recorded).
        ValueError: For an unknown kind, a line of another order or a negative refund.

    """
    if kind not in RETURN_KINDS:
        raise ValueError(f"unknown return kind: {kind!r}")
    if order_item is not None and order_item.order_id != order.id:
        raise ValueError("the order line belongs to another order")
    if refund_fen is None:
        if kind == "exchange":
            refund_fen = 0
        elif order_item is not None:
            refund_fen = order_item.quantity * order_item.unit_price_fen
        else:
            refund_fen = order.payable_fen
    if isinstance(refund_fen, bool) or not isinstance(refund_fen, int) or refund_fen < 0:
        raise ValueError("refund must be a non-negative integer amount of fen")
    if kind == "exchange" and exchange_sku_id is not None:
        quantity = order_item.quantity if order_item is not None else 1
        if not reserve_stock(session, exchange_sku_id, quantity):
            raise OutOfStock(f"sku {exchange_sku_id} is out of stock")
    row = ReturnRequest(
        order_id=order.id,
        order_item_id=order_item.id if order_item is not None else None,
        kind=kind,
        reason=inputs.clean_text(reason) or "未说明",
        status="approved" if approved else "requested",
        refund_fen=refund_fen,
        exchange_sku_id=exchange_sku_id,
        photo_requested=photo_requested,
        created_at=now,
        approved_at=now if approved else None,
    )
    session.add(row)
    session.flush()
    return row


def approve(request: ReturnRequest, now: datetime) -> ReturnRequest:
    """Mark an open request approved (the policy allows it) from now on, if it is not yet."""
    if request.status == "requested":
        request.status = "approved"
    if request.approved_at is None:
        request.approved_at = now
    return request


def refused_number(
    session: Session, request: ReturnRequest, tracking_number: Any, now: datetime
) -> Optional[str]:
    """Why a return parcel's number is not taken for this request, or None when it is.

    Args:
        session: Open session.
        request: The return or exchange request.
        tracking_number: The number as typed.
        now: Current moment (aware): the request must have been approved before it.

    Returns:
        A `NumberRefused` reason, or None.
    """
    number = inputs.tracking_number(tracking_number)
    if number is None:
        return "malformed"
    if request.status in ("rejected", "closed", "refunded", "exchange_shipped", "return_shipped"):
        return "closed"
    if request.status != "approved" or request.approved_at is None or request.approved_at > now:
        return "not_approved"
    order = request.order
    if refund_policy.not_a_parcel(number, order.order_number if order is not None else None):
        return "not_a_parcel"
    if refund_policy.fails_check_rule(number):
        return "check_digit"
    if parcel_sent_by_shop(session, number):
        return "outbound"
    if return_tracking_in_use(session, number, except_request_id=request.id):
        return "in_use"
    return None


def parcel_sent_by_shop(session: Session, tracking_number: Any) -> bool:
    """Whether the number is one of the shop's own parcels (of any order)."""
    number = inputs.tracking_number(tracking_number)
    if number is None:
        return False
    stmt = select(Shipment.id).where(Shipment.tracking_number == number)
    return session.execute(stmt.limit(1)).first() is not None


def record_return_shipment(
    session: Session, request: ReturnRequest, tracking_number: Any, now: datetime
) -> ReturnRequest:
    """Record the return parcel's tracking number and refund (or re-send) at once.

    The shop refunds the moment the customer ships the return, not when the parcel arrives,
    once the number passes `refused_number`. A refund above the automatic limit, or on a number
    of no known carrier format, waits for a person instead (`refund_state` "under_review",
    status "return_shipped", `review_due` set); `shop.policy.refunds` says which. For an
    exchange the replacement is marked as sent: its stock was reserved when the exchange was
    recorded (`create_return`, `make_exchange`), so it is not taken again here. On a number of
    no known carrier format the replacement waits for a person the same way (its stock stays
    reserved), decided like a refund (`approve_refund` sends it, `reverse_refund` declines it).

    Args:
        session: Open session (the caller commits).
        request: The return or exchange request.
        tracking_number: The return parcel's tracking number as typed.
        now: Current moment (aware).

    Returns:
        The updated row.

    Raises:
        NumberRefused: When the number is not taken (see `refused_number`).

    """
    reason = refused_number(session, request, tracking_number, now)
    if reason is not None:
        raise NumberRefused(reason)
    number = inputs.tracking_number(tracking_number)
    request.return_tracking_number = number
    request.return_shipped_at = now
    review = refund_policy.review_reason(int(request.refund_fen), number)
    if request.kind != "return" and review is None:
        request.status = "exchange_shipped"
    elif review is None:
        request.status, request.refunded_at = "refunded", now
        _set_refund_state(request, "issued", refund_policy.BOT, now)
    else:
        request.status = "return_shipped"
        request.review_reason, request.review_due = review, refund_policy.review_due(now)
        _set_refund_state(request, "under_review", refund_policy.BOT, now)
    session.flush()
    return request


def _set_refund_state(request: ReturnRequest, state: str, by: str, now: datetime) -> None:
    request.refund_state, request.refund_state_by, request.refund_state_at = state, by[:32], now


def approve_refund(
    session: Session, request: ReturnRequest, agent: str, now: datetime
) -> ReturnRequest:
    """An agent approves a refund under review: the money goes back now.

    For an exchange under review the replacement is sent now (its stock was reserved when
    the exchange was recorded).

    Raises:
        RefundNotChangeable: When the refund is not under review.
    """
    if request.refund_state != "under_review":
        raise RefundNotChangeable(f"refund is {request.refund_state}, not under review")
    if request.kind == "return":
        request.status, request.refunded_at = "refunded", now
    else:
        request.status = "exchange_shipped"
    request.review_due = None
    _set_refund_state(request, "issued", agent, now)
    session.flush()
    return request


def reverse_refund(
    session: Session, request: ReturnRequest, agent: str, now: datetime
) -> ReturnRequest:
    """An agent reverses a refund (issued: taken back; under review: declined).

    The request is rejected: its money no longer counts as refunded on the order. An exchange
    can be declined while under review (its reserved item goes back on sale); a replacement
    already sent is not taken back here.

    Raises:
        RefundNotChangeable: When there is no issued or pending refund to reverse.
    """
    changeable = ("issued", "under_review") if request.kind == "return" else ("under_review",)
    if request.refund_state not in changeable:
        raise RefundNotChangeable(f"refund is {request.refund_state}, nothing to reverse")
    if holds_stock(request):
        release_stock(session, request.exchange_sku_id, _exchange_quantity(session, request))
    request.status, request.review_due = "rejected", None
    _set_refund_state(request, "reversed", agent, now)
    session.flush()
    return request


@dataclass(frozen=True)
class RefundView:
    """A return's refund (or an exchange's replacement) as the console lists it (times in UTC).

    `kind` is "return" or "exchange"; an exchange's state is its replacement's: under review
    (held), issued (sent) or reversed (declined), with no money of its own.
    """

    request_id: int
    order_number: str
    kind: str
    refund_fen: int
    state: str
    state_by: Optional[str]
    state_at: Optional[datetime]
    review_reason: Optional[str]
    review_due: Optional[datetime]
    tracking_number: Optional[str]
    carrier: Optional[str]
    shipped_at: Optional[datetime]


def refunds_to_review(session: Session, since: datetime, *, limit: int = 200) -> List[RefundView]:
    """Refunds under review (every one, the earliest due first), then refunds decided since.

    Args:
        session: Open session.
        since: Issued and reversed refunds whose state was set after this moment are listed.
        limit: Most rows of each kind (1 to 1000).

    Returns:
        The refunds.
    """
    limit = max(1, min(limit, 1000))
    base = select(ReturnRequest, Order.order_number).join(Order, Order.id == ReturnRequest.order_id)
    pending = base.where(ReturnRequest.refund_state == "under_review").order_by(
        ReturnRequest.review_due, ReturnRequest.id
    )
    decided = base.where(
        ReturnRequest.refund_state.in_(("issued", "reversed")),
        ReturnRequest.refund_state_at >= since,
    ).order_by(ReturnRequest.refund_state_at.desc(), ReturnRequest.id.desc())
    rows = list(session.execute(pending.limit(limit))) + list(session.execute(decided.limit(limit)))
    return [_refund_view(request, number) for request, number in rows]


def _refund_view(request: ReturnRequest, order_number: str) -> RefundView:
    number = request.return_tracking_number
    carrier = refund_policy.carrier_of(number) if number else None
    return RefundView(
        request_id=request.id,
        order_number=order_number,
        kind=request.kind,
        refund_fen=int(request.refund_fen),
        state=request.refund_state,
        state_by=request.refund_state_by,
        state_at=request.refund_state_at,
        review_reason=request.review_reason,
        review_due=request.review_due,
        tracking_number=number,
        carrier=carrier.name if carrier is not None else None,
        shipped_at=request.return_shipped_at,
    )


def return_tracking_in_use(
    session: Session, tracking_number: Any, *, except_request_id: Optional[int] = None
) -> bool:
    """Tell whether a return parcel's tracking number was already given for another request.

    Args:
        session: Open session.
        tracking_number: The number as typed (cleaned here; a malformed one is never in use).
        except_request_id: The request the number is being given for, which does not count.

    Returns:
        True when any other return or exchange request (of any order) carries the number.

    """
    number = inputs.tracking_number(tracking_number)
    if number is None:
        return False
    stmt = select(ReturnRequest.id).where(ReturnRequest.return_tracking_number == number)
    if except_request_id is not None:
        stmt = stmt.where(ReturnRequest.id != except_request_id)
    return session.execute(stmt.limit(1)).first() is not None


def returns_for_order(session: Session, order: Order) -> List[ReturnRequest]:
    """Return the return and exchange requests of an order, newest first."""
    stmt = (
        select(ReturnRequest)
        .where(ReturnRequest.order_id == order.id)
        .order_by(ReturnRequest.created_at.desc(), ReturnRequest.id.desc())
    )
    return list(session.execute(stmt).scalars())


def create_ticket(
    session: Session,
    *,
    customer_id: int,
    now: datetime,
    category: str,
    kind: str = "complaint",
    severity: str = "medium",
    description: Any = "",
    demand: Any = None,
    options_offered: Iterable[str] = (),
    order_id: Optional[int] = None,
    shipment_id: Optional[int] = None,
    agent_id: Optional[int] = None,
    follow_up_hours: Optional[int] = None,
) -> ComplaintTicket:
    """Open a complaint or service ticket (logistics chase, delivery investigation ...).

    Args:
        session: Open session (the caller commits).
        customer_id: The customer.
        now: Current moment (aware).
        category: quality, logistics, attitude or price.
        kind: complaint, logistics_chase, delivery_investigation or price_protection.
        severity: low, medium or high.
        description: The problem as confirmed with the customer, stored as written.
        demand: What the customer asks for, stored as written.
        options_offered: The options allowed by policy that were offered.
        order_id: The order concerned.
        shipment_id: The parcel concerned.
        agent_id: The agent handling it.
        follow_up_hours: When to follow up; by severity (high 4 h, medium 24 h, low 48 h) if None.

    Returns:
        The new, open ticket (flushed, with its id).

    Raises:
        ValueError: For an unknown category, kind or severity.

    """
    for value, allowed in (
        (category, TICKET_CATEGORIES),
        (kind, TICKET_KINDS),
        (severity, TICKET_SEVERITIES),
    ):
        if value not in allowed:
            raise ValueError(f"{value!r} is not one of {allowed}")
    hours = follow_up_hours if follow_up_hours is not None else SEVERITY_FOLLOW_UP_HOURS[severity]
    ticket = ComplaintTicket(
        customer_id=customer_id,
        order_id=order_id,
        shipment_id=shipment_id,
        agent_id=agent_id,
        kind=kind,
        category=category,
        severity=severity,
        description=as_written(description, 1000),
        demand=as_written(demand) or None,
        options_offered=[inputs.clean_text(o, 64) for o in options_offered],
        status="open",
        created_at=now,
        follow_up_due=now + timedelta(hours=hours),
    )
    session.add(ticket)
    session.flush()
    return ticket


def record_ticket_choice(
    session: Session,
    ticket: ComplaintTicket,
    *,
    chosen_option: Any,
    now: datetime,
    compensation_fen: int = 0,
    authority_fen: int = COMPENSATION_LIMIT_FEN["agent"],
    resolution: Any = None,
) -> ComplaintTicket:
    """Record the customer's chosen option; escalate when it exceeds the handler's authority.

    Args:
        session: Open session (the caller commits).
        ticket: The ticket.
        chosen_option: The option the customer chose.
        now: Current moment (aware).
        compensation_fen: Compensation granted, in fen.
        authority_fen: The handler's compensation authority (frontline 5000 fen by default).
        resolution: What was done, if already done.

    Returns:
        The ticket: resolved when within authority, else escalated and still open.

    Raises:
        ValueError: For a negative or non-integer compensation.

    """
    if (
        isinstance(compensation_fen, bool)
        or not isinstance(compensation_fen, int)
        or compensation_fen < 0
    ):
        raise ValueError("compensation must be a non-negative integer amount of fen")
    ticket.chosen_option = inputs.clean_text(chosen_option, 64) or None
    ticket.compensation_fen = compensation_fen
    if compensation_fen > authority_fen:
        ticket.escalated = True
    else:
        ticket.resolution = inputs.clean_text(resolution, 1000) or ticket.chosen_option
        ticket.status, ticket.resolved_at = "resolved", now
    session.flush()
    return ticket


def open_tickets(
    session: Session,
    customer_id: Any,
    *,
    kind: Optional[str] = None,
    order_id: Optional[int] = None,
    shipment_id: Optional[int] = None,
) -> List[ComplaintTicket]:
    """Return a customer's open tickets, the most urgent follow-up first.

    Args:
        session: Open session.
        customer_id: The customer.
        kind: Only tickets of this kind, when given.
        order_id: Only tickets about this order, when given.
        shipment_id: Only tickets about this parcel, when given.

    """
    cid = inputs.record_id(customer_id)
    if cid is None:
        return []
    stmt = select(ComplaintTicket).where(
        ComplaintTicket.customer_id == cid, ComplaintTicket.status == "open"
    )
    if kind is not None:
        stmt = stmt.where(ComplaintTicket.kind == kind)
    if order_id is not None:
        stmt = stmt.where(ComplaintTicket.order_id == order_id)
    if shipment_id is not None:
        stmt = stmt.where(ComplaintTicket.shipment_id == shipment_id)
    return list(
        session.execute(stmt.order_by(ComplaintTicket.follow_up_due, ComplaintTicket.id)).scalars()
    )


def open_request_for_order(
    session: Session, order: Order, *, line: Optional[OrderItem] = None
) -> Optional[ReturnRequest]:
    """Return the order's newest request still waiting for the return parcel, or None.

    With `line`, only a request for that line or for the whole order (no line) counts: an
    open request for another line of the order is left alone.
    """
    for request in returns_for_order(session, order):
        if request.status not in OPEN_STATUSES or request.return_tracking_number:
            continue
        if line is None or request.order_item_id in (None, line.id):
            return request
    return None


def request_of_order(session: Session, order: Order, request_id: Any) -> Optional[ReturnRequest]:
    """Return one request by id when it belongs to the order (None otherwise)."""
    rid = inputs.record_id(request_id)
    if rid is None:
        return None
    request = session.get(ReturnRequest, rid)
    return request if request is not None and request.order_id == order.id else None


def tickets_for_order(
    session: Session, order: Order, *, kind: Optional[str] = None
) -> List[ComplaintTicket]:
    """Return the tickets of an order (any status), newest first."""
    stmt = select(ComplaintTicket).where(ComplaintTicket.order_id == order.id)
    if kind is not None:
        stmt = stmt.where(ComplaintTicket.kind == kind)
    stmt = stmt.order_by(ComplaintTicket.created_at.desc(), ComplaintTicket.id.desc())
    return list(session.execute(stmt).scalars())


def record_complaint_choice(
    session: Session,
    ticket: ComplaintTicket,
    *,
    chosen_option: Any,
    compensation_fen: int,
    escalate: bool,
) -> ComplaintTicket:
    """Record the option a complaining customer chose; the ticket stays open for the follow-up.

    Args:
        session: Open session (the caller commits).
        ticket: The complaint ticket (its follow-up date was set by severity when opened).
        chosen_option: The option chosen, as offered.
        compensation_fen: Compensation that goes with the option, in fen.
        escalate: Whether a supervisor must decide (beyond frontline authority).

    Returns:
        The ticket, open, with the choice, the compensation and the escalation recorded.

    """
    ticket.chosen_option = inputs.clean_text(chosen_option, 64) or None
    ticket.compensation_fen = int(compensation_fen)
    ticket.escalated = bool(escalate)
    session.flush()
    return ticket
