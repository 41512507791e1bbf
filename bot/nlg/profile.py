"""The signed-in customer's personality type from their profile in the shop database.

The channel sends ``customer_id`` + ``customer_sig`` (HMAC under SHOP_SIGNING_KEY) as message
metadata; unsigned or wrongly signed metadata counts as anonymous. Looked-up types are kept for
a few minutes so rendering stays fast.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Tuple

logger = logging.getLogger(__name__)
TTL_SECONDS = 300.0


def signed_customer_id(events: Iterable[Mapping[str, Any]], key: str) -> Optional[int]:
    """The customer id of the latest customer message with metadata, when correctly signed.

    Args:
        events: The tracker's events, oldest first.
        key: The signing key; without one nobody is signed in.

    Returns:
        The customer id, or None.
    """
    from actions.kit.identity import sign_customer_id

    if not key:
        return None
    for event in reversed(list(events)):
        if event.get("event") != "user":
            continue
        metadata = event.get("metadata")
        if not isinstance(metadata, dict) or "customer_id" not in metadata:
            continue
        raw, signature = metadata.get("customer_id"), metadata.get("customer_sig")
        if not isinstance(signature, str) or not str(raw).isdigit():
            return None
        if hmac.compare_digest(sign_customer_id(int(raw), key), signature.strip().lower()):
            return int(raw)
        return None
    return None


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
