"""Staff sessions for the agent console: a signed cookie of its own, expiry and sign-out.

The cookie holds `<agent id>.<issued unix time>.<nonce>.<hex HMAC>`; the HMAC key is derived from
the shared signing key with a label of its own, so neither the customer's storefront cookie nor
the chat signature is ever a valid agent session. Passwords are checked against the salted scrypt
hashes of `shop.repository.agents`. Signing out records the session's nonce in the shop
database (`staff_signouts`) until the session would have expired.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Dict, Optional

from sqlalchemy import delete
from sqlalchemy.orm import Session

from shop.db.models import Agent, StaffSignOut
from shop.repository.agents import authenticate_agent
from shop.signing import labelled_mac, same_mac
from shop.text import inputs

COOKIE_NAME = "agent_session"
MAX_AGE_SECONDS = 8 * 3600
CONSOLE_ROLES = ("agent", "supervisor")
_COOKIE = re.compile(r"^(\d{1,12})\.(\d{1,12})\.([0-9a-f]{32})\.([0-9a-f]{64})$")


@dataclass(frozen=True)
class StaffSession:
    """A signed-in staff member as the console knows them."""

    agent_id: int
    username: str
    display_name: str
    role: str
    compensation_limit_fen: int
    nonce: str
    issued: int

    @property
    def may_use_console(self) -> bool:
        """Frontline agents and supervisors use the console; trainers do not."""
        return self.role in CONSOLE_ROLES


def _mac(key: str, agent_id: int, issued: int, nonce: str) -> str:
    return labelled_mac(key, b"agent-console-session", f"{agent_id}.{issued}.{nonce}")


def make_cookie(agent_id: int, key: str, now: Optional[float] = None) -> str:
    """Return a new session cookie value for a staff account.

    Args:
        agent_id: The account's database id.
        key: The shared signing key.
        now: Unix time of issue; the current time when omitted.

    Returns:
        The cookie value (a fresh random nonce each time).
    """
    issued = int(time.time() if now is None else now)
    nonce = secrets.token_hex(16)
    return f"{int(agent_id)}.{issued}.{nonce}.{_mac(key, int(agent_id), issued, nonce)}"


def read_cookie(
    value: Optional[str], key: str, now: Optional[float] = None
) -> Optional[Dict[str, object]]:
    """Return `{"agent_id", "issued", "nonce"}` for a valid cookie, None when forged or expired.

    Args:
        value: The cookie value as sent by the browser.
        key: The shared signing key.
        now: Unix time to check the age against; the current time when omitted.

    Returns:
        The cookie's fields, or None.
    """
    match = _COOKIE.match(value or "")
    if not match or not key:
        return None
    agent_id, issued, nonce = int(match.group(1)), int(match.group(2)), match.group(3)
    if not same_mac(_mac(key, agent_id, issued, nonce), match.group(4)):
        return None
    age = (time.time() if now is None else now) - issued
    if age < 0 or age > MAX_AGE_SECONDS:
        return None
    return {"agent_id": agent_id, "issued": issued, "nonce": nonce}


def sign_out(session: Session, value: Optional[str], key: str, now: Optional[float] = None) -> bool:
    """Records the session a cookie names as signed out, until it would have expired anyway.

    Sign-outs live in the shop database (`staff_signouts`), so they hold after a restart and for
    every web app process; expired ones are deleted on the way.

    Args:
        session: Open shop database session.
        value: The agent cookie as sent by the browser.
        key: The shared signing key.
        now: Unix time; the current time when omitted.

    Returns:
        Whether the cookie named a valid session (which is now signed out).
    """
    now = time.time() if now is None else now
    fields = read_cookie(value, key, now)
    if fields is None:
        return False
    agent_id, issued, nonce = int(fields["agent_id"]), int(fields["issued"]), str(fields["nonce"])
    session.execute(delete(StaffSignOut).where(StaffSignOut.expires_at < _utc(now)))
    if session.get(Agent, agent_id) is not None and session.get(StaffSignOut, nonce) is None:
        expires = _utc(issued + MAX_AGE_SECONDS)
        session.add(StaffSignOut(nonce=nonce, agent_id=agent_id, expires_at=expires))
    return True


def _utc(stamp: float) -> datetime:
    return datetime.fromtimestamp(stamp, timezone.utc)


def _session(agent: Agent, nonce: str, issued: int) -> StaffSession:
    return StaffSession(
        agent_id=agent.id,
        username=agent.username,
        display_name=agent.display_name,
        role=agent.role,
        compensation_limit_fen=int(agent.compensation_limit_fen or 0),
        nonce=nonce,
        issued=issued,
    )


def sign_in(session: Session, username: object, password: object) -> Optional[StaffSession]:
    """Check a username and password against the stored hash.

    Args:
        session: Open shop database session.
        username: As typed; read as `shop.text.inputs.staff_username` reads it, the same way
            the sign-in lock counts it.
        password: As typed.

    Returns:
        The staff member (any role: the caller refuses trainers), or None.
    """
    agent = authenticate_agent(session, inputs.staff_username(username), password)
    return None if agent is None else _session(agent, "", 0)


def staff_for_cookie(session: Session, value: Optional[str], key: str) -> Optional[StaffSession]:
    """Return the staff member a cookie names, if it is valid, not signed out and still active.

    Args:
        session: Open shop database session.
        value: The agent cookie as sent by the browser.
        key: The shared signing key.

    Returns:
        The staff member, or None.
    """
    fields = read_cookie(value, key)
    if fields is None or session.get(StaffSignOut, fields["nonce"]) is not None:
        return None
    agent = session.get(Agent, fields["agent_id"])
    if agent is None or not agent.active:
        return None
    return _session(agent, str(fields["nonce"]), int(fields["issued"]))  # type: ignore[arg-type]
