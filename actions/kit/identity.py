"""Who is asking: a signed, logged-in customer id or an order number plus phone tail.

The web channel puts the logged-in customer's id into the message metadata together with
`customer_sig`, the hex HMAC-SHA256 of the id under SHOP_SIGNING_KEY. Anything unsigned or
wrongly signed counts as anonymous. Lookups return None both for "not found" and "not yours".
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any, Dict, Optional

from rasa_sdk import Tracker
from sqlalchemy.orm import Session

from shop.db.models import Order
from shop.repository import _inputs
from shop.repository.orders import find_order, orders_for_customer

SIGNING_KEY_ENV = "SHOP_SIGNING_KEY"


def sign_customer_id(customer_id: Any, key: str) -> str:
    """Return the hex HMAC-SHA256 signature of a customer id (what the channel sends).

    Args:
        customer_id: The customer's database id.
        key: The shared signing secret.

    Returns:
        The lower-case hex digest.
    """
    return hmac.new(key.encode(), str(customer_id).encode(), hashlib.sha256).hexdigest()


def conversation_id_for(customer_id: Any, key: str) -> str:
    """Return the signed-in customer's conversation id: stable, yet not guessable without the key.

    The widget joins this conversation when the customer signs in; proactive notices are
    delivered into it.

    Args:
        customer_id: The customer's database id.
        key: The shared signing secret.

    Returns:
        An id like ``c-<32 hex digits>``.
    """
    digest = hmac.new(key.encode(), f"conversation:{customer_id}".encode(), hashlib.sha256)
    return "c-" + digest.hexdigest()[:32]


def _latest_metadata(tracker: Tracker) -> Dict[str, Any]:
    metadata = (tracker.latest_message or {}).get("metadata")
    if isinstance(metadata, dict) and metadata:
        return metadata
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            found = event.get("metadata")
            return found if isinstance(found, dict) else {}
    return {}


def verified_customer_id(tracker: Tracker) -> Optional[int]:
    """Return the logged-in customer's id when the latest message carries a valid signature.

    The key is read from SHOP_SIGNING_KEY on every call; without a key nobody is verified.

    Args:
        tracker: The conversation.

    Returns:
        The customer id, or None when absent, malformed, unsigned or wrongly signed.
    """
    key = os.environ.get(SIGNING_KEY_ENV) or ""
    if not key:
        return None
    metadata = _latest_metadata(tracker)
    customer_id = _inputs.record_id(metadata.get("customer_id"))
    signature = metadata.get("customer_sig")
    if customer_id is None or not isinstance(signature, str):
        return None
    expected = sign_customer_id(customer_id, key)
    if not hmac.compare_digest(expected, signature.strip().lower()):
        return None
    return customer_id


def identified_order(session: Session, tracker: Tracker) -> Optional[Order]:
    """Return the order the customer may see, or None ("not found" and "not yours" alike).

    With an order_id slot the order must belong to the verified customer or match the phone_tail
    slot; a verified customer without an order number gets their latest order.

    Args:
        session: Open session.
        tracker: The conversation (slots order_id, phone_tail; message metadata).

    Returns:
        The order, or None.
    """
    customer_id = verified_customer_id(tracker)
    number = tracker.get_slot("order_id")
    tail = tracker.get_slot("phone_tail")
    if number:
        return find_order(session, number, customer_id=customer_id, phone_tail=tail)
    if customer_id is not None:
        latest = orders_for_customer(session, customer_id, limit=1)
        return latest[0] if latest else None
    return None
