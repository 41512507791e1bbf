"""How the agent console's calls reach the actions: drafts that write nothing, and whose authority.

When an agent assists a conversation, the Rasa server runs the bot's real actions twice: once as a
draft, to show the agent what the bot would say (nothing may be written to the shop database), and
once for real when the agent sends it (with the agent's compensation authority instead of the
bot's frontline limit). Rasa marks those calls with the header `X-Shop-Assist`:
`<draft|live>.<authority in fen>.<signature>`, the signature being an HMAC under SHOP_SIGNING_KEY,
so nobody without the key can turn drafts on or raise an authority.

The action server (actions.server) reads the header into context variables for the one request;
`shop.db.engine.session_scope` rolls a draft's work back, and `authority_fen` gives the limit.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Optional, Tuple

from sqlalchemy.orm import Session

from shop.repository.price_protection import frontline_limit_fen
from shop.signing import labelled_mac, same_mac

HEADER = "X-Shop-Assist"
MODES = ("draft", "live")

_draft: ContextVar[bool] = ContextVar("shop_assist_draft", default=False)
_authority: ContextVar[Optional[int]] = ContextVar("shop_assist_authority", default=None)


def _signature(mode: str, authority_fen: int, key: str) -> str:
    return labelled_mac(key, b"assist-action-header", f"{mode}:{authority_fen}")


def header_value(mode: str, authority_fen: int, key: str) -> str:
    """The header Rasa sends with an assisted action call.

    Args:
        mode: `draft` (write nothing) or `live`.
        authority_fen: The agent's compensation authority in fen.
        key: The shared signing key.

    Returns:
        The header's value.
    """
    if mode not in MODES or authority_fen < 0:
        raise ValueError("bad assist mode or authority")
    return f"{mode}.{authority_fen}.{_signature(mode, authority_fen, key)}"


def read_header(value: Optional[str], key: str) -> Optional[Tuple[str, int]]:
    """The mode and authority of a validly signed header, else None.

    Args:
        value: The header's value (may be missing).
        key: The shared signing key (without a key nothing is accepted).

    Returns:
        `(mode, authority_fen)` or None.
    """
    if not value or not key:
        return None
    parts = value.split(".")
    if (
        len(parts) != 3
        or parts[0] not in MODES
        or not (parts[1].isascii() and parts[1].isdigit())
        or len(parts[1]) > 9
    ):
        return None
    mode, authority = parts[0], int(parts[1])
    if not same_mac(_signature(mode, authority, key), parts[2]):
        return None
    return mode, authority


def enter(mode: str, authority_fen: int) -> None:
    """Marks the current request (its context) as an assisted call."""
    _draft.set(mode == "draft")
    _authority.set(authority_fen)


def leave() -> None:
    """Marks the current request (its context) as the bot's own call: written, frontline limit."""
    _draft.set(False)
    _authority.set(None)


def is_draft() -> bool:
    """Whether the current call is a draft (its database work is rolled back)."""
    return _draft.get()


def authority_fen() -> Optional[int]:
    """The assisting agent's compensation authority, or None when the bot acts alone."""
    return _authority.get()


def compensation_limit_fen(session: Session) -> int:
    """The compensation the one answering may grant now.

    The assisting agent's own authority when an agent sends the bot's suggestion, otherwise the
    frontline's (the agents table, else the policy).

    Args:
        session: An open shop database session.

    Returns:
        The limit in fen.
    """
    assisting = _authority.get()
    return assisting if assisting is not None else frontline_limit_fen(session)
