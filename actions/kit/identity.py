"""Who is asking: a signed, logged-in customer id or an order number plus phone tail.

Which order a conversation is about is decided by the order resolver (`actions.kit.which_order`),
which proves each order through `order_by_number` here.

The web channel puts the logged-in customer's id into the message metadata together with its
signature (`shop.signing`, the one rule of who is signed in). Lookups return None both for
"not found" and "not yours". A phone tail is only ever checked through
`shop.repository.verification`, which counts wrong tails per order and per client (this
conversation, the signed-in customer) and answers None alike once a limit is reached.
"""

from __future__ import annotations

from typing import Any, Optional

from rasa_sdk import Tracker
from sqlalchemy.orm import Session

from shop import clock, signing
from shop.db.models import Order
from shop.repository import verification
from shop.repository.logistics import ShipmentView, find_shipment_by_tracking
from shop.repository.orders import find_order


def verified_customer_id(tracker: Tracker) -> Optional[int]:
    """Return the logged-in customer's id by the shop's one rule (`shop.signing`).

    The newest customer message decides (the latest message's metadata, else the latest user
    event's), and its proof must be for this conversation (the tracker's sender id); the key is
    read from SHOP_SIGNING_KEY on every call; without a key nobody is verified.

    Args:
        tracker: The conversation.

    Returns:
        The customer id, or None when absent, malformed, unsigned or wrongly signed.
    """
    events = list(tracker.events or [])
    latest = tracker.latest_message or {}
    if latest.get("metadata"):
        events.append({**latest, "event": "user"})
    return signing.signed_in_customer(events, signing.signing_key(), tracker.sender_id)


def client_of(tracker: Tracker) -> verification.Client:
    """Who is trying to prove an order: the conversation and the signed-in customer, if any."""
    return verification.Client(
        conversation=str(tracker.sender_id or ""), customer_id=verified_customer_id(tracker)
    )


def order_by_number(
    session: Session, tracker: Tracker, order_number: Any, phone_tail: Any = None
) -> Optional[Order]:
    """The order with this number if the asker may see it, or None (for every refusal alike).

    A signed-in customer's own order needs no tail; anything else needs the buyer's phone tail,
    checked with the guessing limits of `shop.repository.verification`.

    Args:
        session: Open session.
        tracker: The conversation (who is asking).
        order_number: The order number as given.
        phone_tail: The phone tail as given, if any.

    Returns:
        The order, or None.
    """
    customer_id = verified_customer_id(tracker)
    if customer_id is not None:
        own = find_order(session, order_number, customer_id=customer_id)
        if own is not None:
            return own
    if not phone_tail:
        return None
    return verification.order_by_phone_tail(
        session, order_number, phone_tail, client_of(tracker), clock.now()
    )


def parcel_by_number(
    session: Session, tracker: Tracker, tracking_number: Any, now: Any, *, events: int = 3
) -> Optional[ShipmentView]:
    """The parcel with this tracking number if the asker may see it, or None.

    The signed-in customer's own parcel, else the parcel whose order the phone tail proves
    (the tail counts against that order's and this client's guessing limits).
    """
    customer_id = verified_customer_id(tracker)
    if customer_id is not None:
        own = find_shipment_by_tracking(
            session, tracking_number, now, customer_id=customer_id, events=events
        )
        if own is not None:
            return own
    tail = tracker.get_slot("phone_tail")
    order_number = verification.order_of_parcel(session, tracking_number) if tail else None
    if order_number is None or order_by_number(session, tracker, order_number, tail) is None:
        return None
    return find_shipment_by_tracking(session, tracking_number, now, phone_tail=tail, events=events)
