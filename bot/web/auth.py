"""The storefront's sign-in: a signed session cookie naming the customer (stands for a shop login).

The cookie holds `<customer_id>.<issued unix time>.<hex HMAC>`; the HMAC key is derived from the
shared signing key, so the cookie cannot be forged or moved to another customer, and it is never
the same value as the chat metadata signature. Pure functions: no I/O, no clock unless passed.
"""

from __future__ import annotations

import hmac
import re
import time
from typing import Optional

from shop.signing import conversation_id_for, labelled_mac, same_mac, sign_customer_id

COOKIE_NAME = "shop_session"
MAX_AGE_SECONDS = 7 * 24 * 3600
ANONYMOUS_ID = re.compile(r"^a-[0-9a-f]{32}$")
_COOKIE = re.compile(r"^(\d{1,12})\.(\d{1,12})\.([0-9a-f]{64})$")


def _mac(key: str, customer_id: int, issued: int) -> str:
    return labelled_mac(key, b"web-session-cookie", f"{customer_id}.{issued}")


def make_cookie(customer_id: int, key: str, now: Optional[float] = None) -> str:
    """Return the cookie value that signs a customer in.

    Args:
        customer_id: The customer's database id.
        key: The shared signing key.
        now: Unix time of issue; the current time when omitted.

    Returns:
        The cookie value.
    """
    issued = int(time.time() if now is None else now)
    return f"{int(customer_id)}.{issued}.{_mac(key, int(customer_id), issued)}"


def read_cookie(value: Optional[str], key: str, now: Optional[float] = None) -> Optional[int]:
    """Return the signed-in customer's id, or None for a missing, forged or expired cookie.

    Args:
        value: The cookie value as sent by the browser.
        key: The shared signing key.
        now: Unix time to check the age against; the current time when omitted.

    Returns:
        The customer id, or None.
    """
    match = _COOKIE.match(value or "")
    if not match or not key:
        return None
    customer_id, issued = int(match.group(1)), int(match.group(2))
    if not same_mac(_mac(key, customer_id, issued), match.group(3)):
        return None
    age = (time.time() if now is None else now) - issued
    if age < 0 or age > MAX_AGE_SECONDS:
        return None
    return customer_id


def chat_identity(customer_id: int, key: str) -> dict:
    """Return what the widget of a signed-in customer needs: session id and signed metadata.

    Args:
        customer_id: The signed-in customer's id (from the cookie, never from the browser).
        key: The shared signing key.

    Returns:
        `session_id` (the customer's conversation id) and `custom_data` for `customData`.
    """
    return {
        "session_id": conversation_id_for(customer_id, key),
        "custom_data": {
            "customer_id": customer_id,
            "customer_sig": sign_customer_id(customer_id, key),
        },
    }


def may_read_history(session_id: str, customer_id: Optional[int], key: str) -> bool:
    """Tell whether this browser may read the conversation with this id.

    A signed-in customer reads only their own conversation (checked against the cookie); an
    anonymous visitor reads only an anonymous conversation, whose id is a 128-bit random secret
    the browser made and keeps (the same secret Rasa's socket.io channel takes as the session).
    Customer conversations, agents' and test conversations are never readable anonymously.

    Args:
        session_id: The conversation id the browser asks for.
        customer_id: The customer id from the session cookie, or None.
        key: The shared signing key.

    Returns:
        True when the history may be shown.
    """
    own = conversation_id_for(customer_id, key) if customer_id is not None else ""
    if own and hmac.compare_digest(own.encode(), session_id.encode()):
        return True
    return bool(ANONYMOUS_ID.match(session_id))
