"""Order proof by phone tail, with wrong tails counted so that guessing stays slow.

`order_by_phone_tail` is the one check of an order number plus the buyer's phone tail. Wrong
tails are written to `verification_failures` (the same database for every process); past the
limits of `shop.policy.verification` the check answers None even for the right tail, the same
answer as for an unknown order or a wrong tail, so the reply tells a guesser nothing. Bursts
become `verification_alerts` rows for the agent console (`recent_alerts`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, List, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shop.db.models import Order, Shipment, VerificationAlert, VerificationFailure
from shop.policy import verification as policy
from shop.repository.orders import find_order
from shop.text import inputs

CONVERSATION_CHARS = 128


@dataclass(frozen=True)
class Client:
    """Who is trying: the conversation, and the signed-in customer when there is one."""

    conversation: str
    customer_id: Optional[int] = None


@dataclass(frozen=True)
class AlertView:
    """A burst of wrong phone tails as the console shows it (times in UTC)."""

    id: int
    scope: str
    subject: str
    failures: int
    first_at: datetime
    last_at: datetime


def _guess(number: str, tail: str) -> str:
    """A short digest of an order number and a tail, to tell repeated guesses apart."""
    return hashlib.sha256(f"{number}:{tail}".encode()).hexdigest()[:16]


def _count(session: Session, *conditions: Any, distinct: bool = False) -> int:
    counted = func.count(func.distinct(VerificationFailure.guess)) if distinct else func.count()
    stmt = select(counted).select_from(VerificationFailure).where(*conditions)
    return int(session.execute(stmt).scalar_one())


def failures_for_order(session: Session, order_number: str, now: datetime) -> int:
    """Different wrong tails given for an order number within the window, from anyone."""
    return _count(
        session,
        VerificationFailure.order_number == order_number,
        VerificationFailure.occurred_at > now - policy.WINDOW,
        distinct=True,
    )


def failures_for_client(session: Session, client: Client, now: datetime) -> int:
    """Wrong tails within the window from the client: its conversation or customer, the most."""
    since = VerificationFailure.occurred_at > now - policy.WINDOW
    conversation = client.conversation[:CONVERSATION_CHARS]
    counts = [_count(session, VerificationFailure.conversation == conversation, since)]
    if client.customer_id is not None:
        counts.append(_count(session, VerificationFailure.customer_id == client.customer_id, since))
    return max(counts)


def locked(session: Session, order_number: str, client: Client, now: datetime) -> bool:
    """Whether tail checks of this order, or by this client, are locked now."""
    return policy.order_locked(
        failures_for_order(session, order_number, now)
    ) or policy.client_locked(failures_for_client(session, client, now))


def order_by_phone_tail(
    session: Session, order_number: Any, phone_tail: Any, client: Client, now: datetime
) -> Optional[Order]:
    """The order when the tail is its buyer's and no limit is reached; else None.

    Args:
        session: Open session (the caller commits; a wrong tail is flushed with it).
        order_number: The order number as given.
        phone_tail: The four digits as given.
        client: Who is trying.
        now: Current moment (aware).

    Returns:
        The order, or None for a malformed input, an unknown order, a wrong tail, or a locked
        order or client (all alike).
    """
    number, tail = inputs.order_number(order_number), inputs.phone_tail(phone_tail)
    if number is None or tail is None:
        return None
    is_locked = locked(session, number, client, now)
    order = find_order(session, number, phone_tail=tail)
    if order is not None:
        return None if is_locked else order
    _record_failure(session, number, _guess(number, tail), client, now)
    return None


def order_of_parcel(session: Session, tracking_number: Any) -> Optional[str]:
    """The number of the order a parcel belongs to (to count tail guesses made by parcel)."""
    number = inputs.tracking_number(tracking_number)
    if number is None:
        return None
    stmt = (
        select(Order.order_number)
        .join(Shipment, Shipment.order_id == Order.id)
        .where(Shipment.tracking_number == number)
    )
    return session.execute(stmt.limit(1)).scalar_one_or_none()


def _record_failure(
    session: Session, number: str, guess: str, client: Client, now: datetime
) -> None:
    conversation = client.conversation[:CONVERSATION_CHARS]
    repeated = select(VerificationFailure.id).where(
        VerificationFailure.order_number == number,
        VerificationFailure.guess == guess,
        VerificationFailure.conversation == conversation,
        VerificationFailure.occurred_at > now - policy.WINDOW,
    )
    if session.execute(repeated.limit(1)).first() is not None:
        return  # the same wrong tail checked again: no new information, no new count
    session.add(
        VerificationFailure(
            order_number=number,
            guess=guess,
            conversation=conversation,
            customer_id=client.customer_id,
            occurred_at=now,
        )
    )
    session.flush()
    _raise_alerts(session, number, client, now)


def _raise_alerts(session: Session, number: str, client: Client, now: datetime) -> None:
    on_order = failures_for_order(session, number, now)
    if on_order >= policy.ORDER_FAILURES_ALLOWED:
        _alert(session, "order", number, on_order, now)
    since = VerificationFailure.occurred_at > now - policy.WINDOW
    conversation = client.conversation[:CONVERSATION_CHARS]
    from_conversation = _count(session, VerificationFailure.conversation == conversation, since)
    if from_conversation >= policy.CLIENT_FAILURES_ALLOWED:
        _alert(session, "conversation", conversation, from_conversation, now)
    if client.customer_id is not None:
        from_customer = _count(
            session, VerificationFailure.customer_id == client.customer_id, since
        )
        if from_customer >= policy.CLIENT_FAILURES_ALLOWED:
            _alert(session, "customer", str(client.customer_id), from_customer, now)
    in_shop = _count(session, since)
    if in_shop >= policy.SHOP_FAILURES_ALERT:
        _alert(session, "shop", "shop", in_shop, now)


def _alert(session: Session, scope: str, subject: str, failures: int, now: datetime) -> None:
    stmt = select(VerificationAlert).where(
        VerificationAlert.scope == scope,
        VerificationAlert.subject == subject,
        VerificationAlert.last_at > now - policy.ALERT_MERGE,
    )
    alert = session.execute(stmt.order_by(VerificationAlert.id.desc()).limit(1)).scalar()
    if alert is None:
        session.add(
            VerificationAlert(
                scope=scope, subject=subject, failures=failures, first_at=now, last_at=now
            )
        )
    else:
        alert.failures, alert.last_at = max(alert.failures, failures), now
    session.flush()


def recent_alerts(session: Session, since: datetime, *, limit: int = 50) -> List[AlertView]:
    """Bursts of wrong phone tails seen since a moment, the latest first.

    Args:
        session: Open session.
        since: Only alerts whose last failure came after this moment.
        limit: Most alerts returned (1 to 500).

    Returns:
        The alerts.
    """
    stmt = (
        select(VerificationAlert)
        .where(VerificationAlert.last_at >= since)
        .order_by(VerificationAlert.last_at.desc(), VerificationAlert.id.desc())
        .limit(max(1, min(limit, 500)))
    )
    return [
        AlertView(
            id=a.id,
            scope=a.scope,
            subject=a.subject,
            failures=a.failures,
            first_at=a.first_at,
            last_at=a.last_at,
        )
        for a in session.execute(stmt).scalars()
    ]


__all__ = [
    "AlertView",
    "Client",
    "failures_for_client",
    "failures_for_order",
    "locked",
    "order_by_phone_tail",
    "order_of_parcel",
    "recent_alerts",
]
