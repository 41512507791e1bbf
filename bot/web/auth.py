"""Who a browser is: the storefront's signed session cookie and the chat widget's conversations.

The cookie holds `<customer_id>.<issued unix time>.<sign-out generation>.<hex HMAC>`; the HMAC key
is derived from the shared signing key, so the cookie cannot be forged or moved to another
customer, and it is never the same value as a chat signature. Signing out moves the customer's
generation on (`bot.web.signouts`), which revokes the cookie on the server, not only in the
browser.

Conversations are bound to their owner: a signed-in customer's conversation (`c-…`) to the chat
signature of that customer and conversation (`shop.signing`); an anonymous visitor's (`a-…`) to a
secret the widget made and keeps, the conversation id being a hash of it. Pure functions: no I/O,
no clock unless passed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional

from shop.signing import conversation_id_for, labelled_mac, same_mac, sign_chat

COOKIE_NAME = "shop_session"
MAX_AGE_SECONDS = 7 * 24 * 3600
ANONYMOUS_ID = re.compile(r"^a-[0-9a-f]{32}$")
CUSTOMER_CONVERSATION_ID = re.compile(r"^c-[0-9a-f]{32}$")
SESSION_SECRET = re.compile(r"^[0-9a-f]{64}$")
_COOKIE = re.compile(r"^(\d{1,12})\.(\d{1,12})\.(\d{1,9})\.([0-9a-f]{64})$")


@dataclass(frozen=True)
class SignedIn:
    """The customer a valid cookie names, and the sign-out generation it was issued in."""

    customer_id: int
    generation: int


def _mac(key: str, customer_id: int, issued: int, generation: int) -> str:
    return labelled_mac(key, b"web-session-cookie", f"{customer_id}.{issued}.{generation}")


def make_cookie(
    customer_id: int, key: str, generation: int = 0, now: Optional[float] = None
) -> str:
    """Return the cookie value that signs a customer in.

    Args:
        customer_id: The customer's database id.
        key: The shared signing key.
        generation: The customer's current sign-out generation.
        now: Unix time of issue; the current time when omitted.

    Returns:
        The cookie value.
    """
    issued = int(time.time() if now is None else now)
    mac = _mac(key, int(customer_id), issued, int(generation))
    return f"{int(customer_id)}.{issued}.{int(generation)}.{mac}"


def read_cookie(value: Optional[str], key: str, now: Optional[float] = None) -> Optional[SignedIn]:
    """Return who a cookie signs in, or None for a missing, forged or expired cookie.

    Whether it was revoked is the caller's part: compare `generation` with the customer's
    current one.

    Args:
        value: The cookie value as sent by the browser.
        key: The shared signing key.
        now: Unix time to check the age against; the current time when omitted.

    Returns:
        The customer and generation, or None.
    """
    match = _COOKIE.match(value or "")
    if not match or not key:
        return None
    customer_id, issued, generation = (int(match.group(n)) for n in (1, 2, 3))
    if not same_mac(_mac(key, customer_id, issued, generation), match.group(4)):
        return None
    age = (time.time() if now is None else now) - issued
    if age < 0 or age > MAX_AGE_SECONDS:
        return None
    return SignedIn(customer_id, generation)


def chat_identity(
    customer_id: int, key: str, generation: int = 0, now: Optional[float] = None
) -> Dict[str, Any]:
    """Return what the widget of a signed-in customer needs: session id and signed metadata.

    Args:
        customer_id: The signed-in customer's id (from the cookie, never from the browser).
        key: The shared signing key.
        generation: The customer's current sign-out generation.
        now: Unix time of issue; the current time when omitted.

    Returns:
        `session_id` (the customer's conversation id) and `custom_data` for `customData`: the
        customer id and a chat signature for that conversation (`shop.signing.sign_chat`).
    """
    session_id = conversation_id_for(customer_id, key)
    return {
        "session_id": session_id,
        "custom_data": {
            "customer_id": customer_id,
            "customer_sig": sign_chat(customer_id, session_id, key, generation, now),
        },
    }


def anonymous_session_id(secret: Any) -> Optional[str]:
    """The anonymous conversation a widget's secret owns (`a-` + 32 hex digits), or None.

    The id is a hash of the secret, so knowing a conversation's id (an agent sees it, a log may
    name it) gives no way into it; only the browser that keeps the secret can join or read it.

    Args:
        secret: The widget's session secret (64 lower-case hex digits).

    Returns:
        The conversation id, or None when the secret is malformed.
    """
    if not isinstance(secret, str) or not SESSION_SECRET.match(secret):
        return None
    digest = hashlib.sha256(b"shop-anonymous-conversation:" + secret.encode()).hexdigest()
    return "a-" + digest[:32]


def owns_anonymous(session_id: str, secret: Any) -> bool:
    """Whether a session secret owns this anonymous conversation id."""
    own = anonymous_session_id(secret)
    return own is not None and hmac.compare_digest(own.encode(), str(session_id).encode())


def may_read_history(
    session_id: str, customer_id: Optional[int], key: str, secret: Any = None
) -> bool:
    """Tell whether this browser may read the conversation with this id.

    A signed-in customer reads only their own conversation (checked against the cookie); an
    anonymous conversation is read only with the secret that owns it. Agents' and test
    conversations are never readable here.

    Args:
        session_id: The conversation id the browser asks for.
        customer_id: The customer id from a valid, unrevoked session cookie, or None.
        key: The shared signing key.
        secret: The widget's session secret, if it sent one.

    Returns:
        True when the history may be shown.
    """
    own = conversation_id_for(customer_id, key) if customer_id is not None else ""
    if own and hmac.compare_digest(own.encode(), session_id.encode()):
        return True
    return bool(ANONYMOUS_ID.match(session_id)) and owns_anonymous(session_id, secret)
