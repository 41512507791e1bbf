"""The signed-in customer's personality type from their profile in the shop database.

Who is signed in follows the shop's one rule (`shop.signing.signed_in_customer`). Looked-up types are kept for
a few minutes so rendering stays fast.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Dict, Optional, Tuple

logger = logging.getLogger(__name__)
TTL_SECONDS = 300.0


def _personality_from_database(customer_id: int) -> Optional[str]:
    from sqlalchemy import select

    from shop.db import session_scope
    from shop.db.models import Customer

    with session_scope() as session:
        return session.execute(
            select(Customer.personality_type).where(Customer.id == customer_id)
        ).scalar_one_or_none()


class ProfileStyles:
    """Personality types of signed-in customers, cached for :data:`TTL_SECONDS`."""

    def __init__(self, lookup: Callable[[int], Optional[str]] = _personality_from_database):
        self._lookup = lookup
        self._cache: Dict[int, Tuple[float, Optional[str]]] = {}
        self._lock = threading.Lock()

    def style_for(self, customer_id: int) -> Optional[str]:
        """The customer's personality type, or None when unknown or the database fails."""
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(customer_id)
            if hit and hit[0] > now:
                return hit[1]
        try:
            style = self._lookup(customer_id)
        except Exception as error:  # the database is down: render without a style
            logger.warning("customer profile lookup failed: %s", type(error).__name__)
            return None
        with self._lock:
            self._cache[customer_id] = (now + TTL_SECONDS, style)
        return style
