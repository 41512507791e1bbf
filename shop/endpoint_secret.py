"""The shared secret Rasa presents to the action server and to the web app's `/nlg`.

Rasa sends it as the header `X-Shop-Endpoint-Secret` on every call to those endpoints
(`headers:` in `endpoints.yml`, filled from SHOP_ENDPOINT_SECRET); both refuse a call without it.
`make run` generates the secret (kept in `var/endpoint_secret`, owner-only) unless the variable is
set, and hands it to every process through the environment, never on a command line.
"""

from __future__ import annotations

import hmac
import os
from typing import Optional

HEADER = "X-Shop-Endpoint-Secret"
ENV = "SHOP_ENDPOINT_SECRET"


def endpoint_secret() -> str:
    """The secret from SHOP_ENDPOINT_SECRET, read when asked ("" when unset)."""
    return os.environ.get(ENV) or ""


def accepts(presented: Optional[str], secret: str) -> bool:
    """Whether a request presenting `presented` may call the endpoint.

    Args:
        presented: The request's `X-Shop-Endpoint-Secret` header (None when absent).
        secret: The configured secret; an empty one accepts nobody.

    Returns:
        True only when a secret is configured and the header equals it (compared in constant
        time).
    """
    if not secret or presented is None:
        return False
    return hmac.compare_digest(presented.encode(), secret.encode())
