"""The signature on requests from the web app to the Rasa server's assist endpoints."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Shop-Assist-Signature"


def sign_body(body: bytes, key: str) -> str:
    """The hex HMAC-SHA256 of a request body under the shared signing key."""
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
