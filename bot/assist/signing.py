"""The signature on requests from the web app to the Rasa server's assist endpoints."""

from __future__ import annotations

from shop.signing import labelled_mac, same_mac

SIGNATURE_HEADER = "X-Shop-Assist-Signature"
_LABEL = b"assist-request-body"


def sign_body(body: bytes, key: str) -> str:
    """The hex HMAC of a request body under a key derived from the shared signing key."""
    return labelled_mac(key, _LABEL, body)


def body_signed(body: bytes, signature: str, key: str) -> bool:
    """Whether a request body carries its valid signature (never without a key)."""
    return bool(key) and same_mac(sign_body(body, key), signature)
