"""Price protection: the lowest price in a window and the frontline's compensation authority."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.db.models import Agent, PriceHistory
from shop.policy.compensation import COMPENSATION_LIMIT_FEN


@dataclass(frozen=True)
class LowestPrice:
    """The lowest price a product had in a window and since when it applied."""

    price_fen: int
    effective_from: datetime


def lowest_price_between(
    session: Session, product_id: int, since: datetime, until: datetime
) -> Optional[LowestPrice]:
    """Return the lowest recorded price of a product from `since` to `until`, or None.

    The price in effect at `since` counts (with the moment it took effect), as does every change
    after it up to `until`. Without price records there is no answer (never an invented price).
    """
    in_effect = (
        select(PriceHistory)
        .where(PriceHistory.product_id == product_id, PriceHistory.effective_from <= since)
        .order_by(PriceHistory.effective_from.desc(), PriceHistory.id.desc())
        .limit(1)
    )
    changes = select(PriceHistory).where(
        PriceHistory.product_id == product_id,
        PriceHistory.effective_from > since,
        PriceHistory.effective_from <= until,
    )
    rows = list(session.execute(in_effect).scalars()) + list(session.execute(changes).scalars())
    if not rows:
        return None
    best = min(rows, key=lambda row: (row.price_fen, row.effective_from))
    return LowestPrice(best.price_fen, best.effective_from)


def frontline_limit_fen(session: Session) -> int:
    """Return the compensation a frontline agent may grant (the agents table, else the policy)."""
    stmt = select(Agent.compensation_limit_fen).where(Agent.role == "agent", Agent.active.is_(True))
    limits = list(session.execute(stmt).scalars())
    return min(limits) if limits else COMPENSATION_LIMIT_FEN["agent"]
