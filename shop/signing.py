"""Signatures under the shop's signing key: chat signatures, message proofs and cookie MACs.

Two stages, two signatures, so that nothing stored in a conversation can be replayed by a browser:

- The chat signature (`customer_sig`, what the storefront hands a signed-in customer's widget)
  signs the customer id, its issue time, the customer's sign-out generation and the conversation
  it is for: `<issued>.<generation>.<hex HMAC>`. It expires `chat_signature_ttl()` seconds after
  issue (SHOP_CHAT_SIGNATURE_TTL, 12 hours by default) and is refused once the customer signed
  out (the generation moved on; the channel checks it against the shop database). Only the
  customer channels read it, and they never store it.
- The message proof (`customer_proof`) is what a channel writes into the message's metadata after
  checking the chat signature: `<issued>.<hex HMAC>` over the customer id, the issue time and the
  conversation, under a key of its own. The channels strip any proof a client sends, so a copy
  read from the tracker store is good for nothing but telling who sent that message.

One rule for "this customer is signed in", used by the actions, the renderer and the console:
the newest message the customer sent (not an external event) decides; it is signed in when its
metadata carries `customer_id` and a `customer_proof` valid for this conversation, issued no more
than the signature's lifetime before the message was sent. Anything unsigned, malformed, from
another conversation or stale is anonymous. Each use derives its own key from the signing key
with a label, so no signature is valid for another use.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Mapping, Optional, Union

from shop.conversation import is_external
from shop.text.inputs import record_id

SIGNING_KEY_ENV = "SHOP_SIGNING_KEY"
CHAT_SIGNATURE_TTL_ENV = "SHOP_CHAT_SIGNATURE_TTL"
DEFAULT_CHAT_SIGNATURE_TTL = 12 * 3600
# A message may be stamped a little before the clock that issued its signature (other process).
CLOCK_SKEW_SECONDS = 60
CUSTOMER_ID_KEY = "customer_id"
CHAT_SIGNATURE_KEY = "customer_sig"
PROOF_KEY = "customer_proof"
_CHAT_LABEL = b"customer-chat-signature"
_PROOF_LABEL = b"customer-message-proof"
_CHAT_SIGNATURE = re.compile(r"^(\d{1,12})\.(\d{1,9})\.([0-9a-fA-F]{64})$")
_PROOF = re.compile(r"^(\d{1,12})\.([0-9a-fA-F]{64})$")


def signing_key() -> str:
    """The shared signing key from SHOP_SIGNING_KEY, read when asked ("" when unset)."""
    return os.environ.get(SIGNING_KEY_ENV) or ""


def chat_signature_ttl() -> int:
    """Seconds a chat signature is valid after issue (SHOP_CHAT_SIGNATURE_TTL, default 12 h)."""
    raw = (os.environ.get(CHAT_SIGNATURE_TTL_ENV) or "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_CHAT_SIGNATURE_TTL


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


@dataclass(frozen=True)
class ChatSignature:
    """What a valid chat signature says: who, for which conversation, since when, which sign-in.

    Attributes:
        customer_id: The customer's database id.
        conversation_id: The conversation the signature is for.
        issued: Unix time of issue.
        generation: The customer's sign-out generation when it was issued; the signature is
            revoked once the customer's current generation differs.
    """

    customer_id: int
    conversation_id: str
    issued: int
    generation: int


def _chat_mac(key: str, customer_id: int, issued: int, generation: int, conversation: str) -> str:
    return labelled_mac(key, _CHAT_LABEL, f"{customer_id}.{issued}.{generation}.{conversation}")


def sign_chat(
    customer_id: int,
    conversation_id: str,
    key: str,
    generation: int = 0,
    now: Optional[float] = None,
) -> str:
    """Return the chat signature the storefront hands a signed-in customer's widget.

    Args:
        customer_id: The customer's database id (from the storefront's session, never the browser).
        conversation_id: The conversation the widget will write into.
        key: The shared signing key.
        generation: The customer's current sign-out generation.
        now: Unix time of issue; the current time when omitted.

    Returns:
        ``<issued>.<generation>.<hex HMAC>``.
    """
    issued = int(time.time() if now is None else now)
    mac = _chat_mac(key, int(customer_id), issued, int(generation), conversation_id)
    return f"{issued}.{int(generation)}.{mac}"


def read_chat_signature(
    metadata: Any,
    conversation_id: str,
    key: str,
    now: Optional[float] = None,
    ttl: Optional[int] = None,
) -> Optional[ChatSignature]:
    """The chat signature a message's metadata carries, if valid for this conversation now.

    Revocation is the caller's part: compare `generation` with the customer's current one.

    Args:
        metadata: The message's metadata as the client sent it (only a mapping can sign).
        conversation_id: The conversation the message is for.
        key: The shared signing key; without one nobody is signed in.
        now: Unix time to check the age against; the current time when omitted.
        ttl: Lifetime in seconds; `chat_signature_ttl()` when omitted.

    Returns:
        The signature's content, or None for a missing, forged, moved or expired one.
    """
    if not key or not isinstance(metadata, Mapping) or not conversation_id:
        return None
    customer_id = record_id(metadata.get(CUSTOMER_ID_KEY))
    match = _CHAT_SIGNATURE.match(str(metadata.get(CHAT_SIGNATURE_KEY) or "").strip())
    if customer_id is None or not match:
        return None
    issued, generation = int(match.group(1)), int(match.group(2))
    expected = _chat_mac(key, customer_id, issued, generation, conversation_id)
    if not same_mac(expected, match.group(3)):
        return None
    age = (time.time() if now is None else now) - issued
    if age < -CLOCK_SKEW_SECONDS or age > (chat_signature_ttl() if ttl is None else ttl):
        return None
    return ChatSignature(customer_id, conversation_id, issued, generation)


def _proof_mac(key: str, customer_id: int, issued: int, conversation: str) -> str:
    return labelled_mac(key, _PROOF_LABEL, f"{customer_id}.{issued}.{conversation}")


def proven_metadata(
    customer_id: int, conversation_id: str, key: str, issued: Optional[float] = None
) -> Dict[str, Any]:
    """The identity a channel stores with a message whose chat signature it checked.

    Args:
        customer_id: The customer the signature names.
        conversation_id: The conversation the message is in.
        key: The shared signing key.
        issued: Unix time the checked signature was issued; now when omitted (tests, tools).

    Returns:
        ``{"customer_id": id, "customer_proof": "<issued>.<hex HMAC>"}``.
    """
    stamp = int(time.time() if issued is None else issued)
    mac = _proof_mac(key, int(customer_id), stamp, conversation_id)
    return {CUSTOMER_ID_KEY: int(customer_id), PROOF_KEY: f"{stamp}.{mac}"}


def customer_from_metadata(
    metadata: Any,
    key: str,
    conversation_id: Optional[str] = None,
    sent_at: Optional[float] = None,
    ttl: Optional[int] = None,
) -> Optional[int]:
    """The customer id one stored message's metadata proves, or None.

    Args:
        metadata: The message's metadata (anything; only a mapping can prove an identity).
        key: The shared signing key; without one nobody is signed in.
        conversation_id: The conversation the message belongs to; without it nobody is signed in.
        sent_at: Unix time the message was sent (its event's timestamp); when given, the proof
            must have been issued no more than the signature's lifetime before it.
        ttl: Lifetime in seconds; `chat_signature_ttl()` when omitted.

    Returns:
        The customer id when `customer_proof` is valid for it and this conversation, else None.
    """
    if not key or not conversation_id or not isinstance(metadata, Mapping):
        return None
    customer_id = record_id(metadata.get(CUSTOMER_ID_KEY))
    match = _PROOF.match(str(metadata.get(PROOF_KEY) or "").strip())
    if customer_id is None or not match:
        return None
    issued = int(match.group(1))
    if not same_mac(_proof_mac(key, customer_id, issued, conversation_id), match.group(2)):
        return None
    if sent_at is not None:
        age = sent_at - issued
        if age < -CLOCK_SKEW_SECONDS or age > (chat_signature_ttl() if ttl is None else ttl):
            return None
    return customer_id


def _timestamp(event: Mapping[str, Any]) -> Optional[float]:
    stamp = event.get("timestamp")
    if isinstance(stamp, bool) or not isinstance(stamp, (int, float)):
        return None
    return float(stamp)


def signed_in_customer(
    events: Iterable[Mapping[str, Any]],
    key: str,
    conversation_id: Optional[str] = None,
    ttl: Optional[int] = None,
) -> Optional[int]:
    """The signed-in customer of a conversation: the newest customer message decides.

    Args:
        events: The tracker's events (dicts), oldest first.
        key: The shared signing key.
        conversation_id: The conversation's id (the tracker's `sender_id`); without it nobody is
            signed in.
        ttl: Signature lifetime in seconds; `chat_signature_ttl()` when omitted.

    Returns:
        The customer id, or None when the newest customer message is not validly signed.
    """
    for event in reversed(list(events)):
        if event.get("event") == "user" and not is_external(event):
            return customer_from_metadata(
                event.get("metadata"), key, conversation_id, _timestamp(event), ttl
            )
    return None
