"""Who may use the console's routes, and the response headers every console response carries.

Every route but the sign-in page needs a valid agent session cookie of a frontline agent or a
supervisor (401 without one, 403 for a trainer); state-changing API calls must also come from the
console's own page (same origin, custom header), so cross-site posts are refused.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Dict, List, Optional, Tuple

from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.agent import accounts, trackers
from bot.settings import Settings
from bot.web.origin import same_origin
from shop.db import session_scope

API_HEADER = "X-Agent-Console"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


async def in_db(work: Callable[..., Any], *args: Any) -> Any:
    """Runs `work(session, *args)` in a worker thread inside one shop database session."""

    def run() -> Any:
        with session_scope() as session:
            return work(session, *args)

    return await asyncio.to_thread(run)


def secure(response: HTTPResponse) -> HTTPResponse:
    """Adds the console's security and caching headers."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def error(code: str, status: int) -> HTTPResponse:
    """A JSON error the console's script turns into a Chinese message."""
    return secure(json({"error": code}, status=status))


def json_body(request: Request) -> dict:
    """The request's JSON object, or an empty dict for anything else."""
    try:
        body = request.json
    except Exception:  # noqa: BLE001 - Sanic raises its own error for malformed JSON
        return {}
    return body if isinstance(body, dict) else {}


class Guard:
    """Checks the staff session cookie (and, for changes, the origin) of console requests."""

    async def staff_of(self, request: Request) -> Optional[accounts.StaffSession]:
        """The signed-in staff member, or None."""
        config: Settings = request.app.ctx.settings
        value = request.cookies.get(accounts.COOKIE_NAME)
        if not value:
            return None
        return await in_db(accounts.staff_for_cookie, value, config.signing_key)

    async def check(
        self, request: Request, changes: bool = False
    ) -> Tuple[Optional[accounts.StaffSession], Optional[HTTPResponse]]:
        """The agent or supervisor making the request, or the refusal to answer with."""
        if changes and (not same_origin(request) or request.headers.get(API_HEADER) != "1"):
            return None, error("cross_site_refused", 403)
        staff = await self.staff_of(request)
        if staff is None:
            return None, error("sign_in_required", 401)
        if not staff.may_use_console:
            return None, error("role_not_allowed", 403)
        return staff, None


async def conversation_events(
    request: Request, conversation_id: str
) -> Tuple[Optional[List[Dict[str, Any]]], Optional[HTTPResponse]]:
    """A conversation's tracker events, or the refusal (bad id 400, unknown 404)."""
    if not trackers.valid_conversation_id(conversation_id):
        return None, error("bad_conversation_id", 400)
    config: Settings = request.app.ctx.settings
    events = await asyncio.to_thread(
        trackers.conversation_events, config.tracker_store_url, conversation_id
    )
    if events is None:
        return None, error("no_such_conversation", 404)
    return events, None
