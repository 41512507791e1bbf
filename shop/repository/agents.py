"""Staff accounts: salted scrypt password hashes, roles and compensation authority.

Usernames are stored and looked up in one form (`shop.text.inputs.staff_username`): look-alikes
of a name (full-width letters, other case, invisible characters) are the same account, for
sign-in and for the lock that counts its failures.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.db.models import Agent
from shop.policy.compensation import AGENT_ROLES, COMPENSATION_LIMIT_FEN
from shop.text import inputs

_N, _R, _P = 2**14, 8, 1
_dummy_hash: list = []


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str, *, salt: Optional[bytes] = None) -> str:
    """Hash a password with scrypt and a random 16-byte salt.

    Args:
        password: The password.
        salt: A fixed salt (tests only); random when None.

    Returns:
        `scrypt$n$r$p$salt$hash` with base64 salt and hash.

    """
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Tell whether a password matches a stored hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def create_agent(
    session: Session, username: str, password: str, role: str, display_name: str
) -> Agent:
    """Create a staff account with the compensation authority of its role.

    Args:
        session: Open session (the caller commits).
        username: Login name; stored as `shop.text.inputs.staff_username` reads it.
        password: Password (only its salted hash is stored).
        role: agent, supervisor or trainer.
        display_name: Name shown in the console.

    Returns:
        The new account (flushed).

    Raises:
        ValueError: For an unknown role or a name that is empty once normalised.

    """
    if role not in AGENT_ROLES:
        raise ValueError(f"role must be one of {AGENT_ROLES}")
    name = inputs.staff_username(username)
    if not name:
        raise ValueError("a staff account needs a visible username")
    agent = Agent(
        username=name,
        display_name=display_name,
        role=role,
        password_hash=hash_password(password),
        compensation_limit_fen=COMPENSATION_LIMIT_FEN[role],
        active=True,
    )
    session.add(agent)
    session.flush()
    return agent


def authenticate_agent(session: Session, username: Any, password: Any) -> Optional[Agent]:
    """Return the active account when the username and password match, else None.

    Args:
        session: Open session.
        username: As typed; read as `shop.text.inputs.staff_username` reads it.
        password: As typed.

    Returns:
        The account, or None (unknown name, wrong password, inactive account, bad input).

    """
    name = inputs.staff_username(username) if isinstance(username, str) else ""
    if not name or not isinstance(password, str):
        return None
    agent = session.execute(select(Agent).where(Agent.username == name)).scalars().first()
    if agent is None:
        if not _dummy_hash:
            _dummy_hash.append(hash_password("not-a-password"))
        verify_password(password, _dummy_hash[0])  # same time for unknown names
        return None
    if not agent.active or not verify_password(password, agent.password_hash):
        return None
    return agent
