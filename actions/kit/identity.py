"""Who is asking: a signed, logged-in customer id or an order number plus phone tail.

The web channel puts the logged-in customer's id into the message metadata together with its
signature (`shop.signing`, the one rule of who is signed in). Lookups return None both for
"not found" and "not yours".
"""

from __future__ import annotations

from typing import Optional

from rasa_sdk import Tracker
from sqlalchemy.orm import Session

from shop import signing
from shop.db.models import Order
from shop.repository.orders import find_order, orders_for_customer


def verified_customer_id(tracker: Tracker) -> Optional[int]:
    """Return the logged-in customer's id by the shop's one rule (`shop.signing`).

    The newest customer message decides (the latest message's metadata, else the latest user
    event's); the key is read from SHOP_SIGNING_KEY on every call; without a key nobody is
    verified.

    Args:
        tracker: The conversation.

    Returns:
        The customer id, or None when absent, malformed, unsigned or wrongly signed.
    """
    events = list(tracker.events or [])
    latest = tracker.latest_message or {}
    if latest.get("metadata"):
        events.append({**latest, "event": "user"})
    return signing.signed_in_customer(events, signing.signing_key())


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
