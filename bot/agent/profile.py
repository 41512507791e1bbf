"""The customer's emotional profile for the agent: plain JSON values from the shop database.

Only masked contact data is shown (the phone as stored masked, never in full); moments are in
the shop's time zone. Labels are the console's business (bot/web/static/agent.js).
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import date, datetime
from typing import Any, Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.db.models import ComplaintTicket, utcnow
from shop.policy.membership import level_label
from shop.repository.customers import customer_profile
from shop.settings import to_shop_time

MAX_TICKETS = 10
_DIGITS = re.compile(r"\d{7,}")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_shop_time(value).isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _masked_phone(value: str) -> str:
    """Masks any long run of digits that slipped into the stored masked phone."""
    return _DIGITS.sub(lambda m: m.group(0)[:3] + "****" + m.group(0)[-4:], value or "")


def _tickets(session: Session, customer_id: int) -> List[Dict[str, Any]]:
    rows = session.execute(
        select(ComplaintTicket)
        .where(ComplaintTicket.customer_id == customer_id, ComplaintTicket.status == "open")
        .order_by(ComplaintTicket.created_at.desc())
        .limit(MAX_TICKETS)
    ).scalars()
    return [
        {
            "id": ticket.id,
            "kind": ticket.kind,
            "category": ticket.category,
            "severity": ticket.severity,
            "escalated": bool(ticket.escalated),
            "created_at": _plain(ticket.created_at),
            "follow_up_due": _plain(ticket.follow_up_due),
        }
        for ticket in rows
    ]


def profile_for(session: Session, customer_id: int) -> Optional[Dict[str, Any]]:
    """The profile of a signed-in customer, or None when there is no such customer.

    Args:
        session: Open shop database session.
        customer_id: The customer (verified from the conversation's signed metadata).

    Returns:
        JSON-ready profile: orders and spend, member level, personality type, notes, birthday,
        baby's age and formula run-out date, open tickets; masked phone and address only.
    """
    found = customer_profile(session, customer_id, utcnow())
    if found is None:
        return None
    data = {key: _plain(value) for key, value in asdict(found).items()}
    data["phone_masked"] = _masked_phone(str(data.get("phone_masked") or ""))
    data["open_ticket_list"] = _tickets(session, found.customer_id)
    data["member_level_label"] = level_label(found.member_level)
    return data
