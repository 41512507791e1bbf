"""Signatures under the shop's signing key: customer ids, conversation ids and cookie MACs.

One rule for "this customer is signed in", used by the actions, the renderer and the console:
the newest message the customer sent (not an external event) decides; it is signed in when its
metadata carries `customer_id` and `customer_sig`, the hex HMAC-SHA256 of the id under
SHOP_SIGNING_KEY. Anything unsigned, malformed or wrongly signed is anonymous. Each cookie kind
derives its own key from the signing key with a label, so no signature is valid for another use.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any, Iterable, Mapping, Optional, Union

from shop.conversation import is_external
from shop.text.inputs import record_id

SIGNING_KEY_ENV = "SHOP_SIGNING_KEY"


def signing_key() -> str:
    """The shared signing key from SHOP_SIGNING_KEY, read when asked ("" when unset)."""
    return os.environ.get(SIGNING_KEY_ENV) or ""


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


def labelled_mac(key: str, label: bytes, message: Union[str, bytes]) -> str:
    """The hex HMAC of a message under a key derived from the signing key for one purpose.

    Args:
        key: The shared signing key.
        label: What the MAC is for (e.g. ``b"web-session-cookie"``); one label per use.
        message: The signed content.

    Returns:
        The lower-case hex digest.
    """
    derived = hmac.new(key.encode(), label, hashlib.sha256).digest()
    content = message.encode() if isinstance(message, str) else message
    return hmac.new(derived, content, hashlib.sha256).hexdigest()


def same_mac(expected: str, given: str) -> bool:
    """Constant-time comparison of two hex MACs (case-insensitive, surrounding blanks ignored)."""
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode())


def customer_from_metadata(metadata: Any, key: str) -> Optional[int]:
    """The customer id one message's metadata proves, or None.

    Args:
        metadata: The message's metadata (anything; only a mapping can prove an identity).
        key: The shared signing key; without one nobody is signed in.

    Returns:
        The customer id when `customer_sig` is its valid signature, else None.
    """
    if not key or not isinstance(metadata, Mapping):
        return None
    customer_id = record_id(metadata.get("customer_id"))
    signature = metadata.get("customer_sig")
    if customer_id is None or not isinstance(signature, str):
        return None
    if not same_mac(sign_customer_id(customer_id, key), signature):
        return None
    return customer_id


def signed_in_customer(events: Iterable[Mapping[str, Any]], key: str) -> Optional[int]:
    """The signed-in customer of a conversation: the newest customer message decides.

    Args:
        events: The tracker's events (dicts), oldest first.
        key: The shared signing key.

    Returns:
        The customer id, or None when the newest customer message is not validly signed.
    """
    for event in reversed(list(events)):
        if event.get("event") == "user" and not is_external(event):
            return customer_from_metadata(event.get("metadata"), key)
    return None
