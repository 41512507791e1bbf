"""The agent console's routes at /agent: sign-in, the queue, the conversation view and modes.

Every route but the sign-in page needs a valid agent session cookie of a frontline agent or a
supervisor (401 without one, 403 for a trainer); state-changing API calls must also come from the
console's own page (same origin, custom header), so cross-site posts are refused.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, html, json, redirect
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from actions.db import session_scope
from actions.identity import conversation_id_for
from actions.models import Customer
from bot.agent import accounts, conversations, modes, profile, trackers
from bot.settings import Settings

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "web" / "templates"
ACTIVE_WINDOW_SECONDS = 6 * 3600
API_HEADER = "X-Agent-Console"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)

logger = logging.getLogger(__name__)


async def _db(work: Callable[..., Any], *args: Any) -> Any:
    def run() -> Any:
        with session_scope() as session:
            return work(session, *args)

    return await asyncio.to_thread(run)


def _same_origin(request: Request) -> bool:
    if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        return False
    origin = request.headers.get("origin") or request.headers.get("referer")
    return not origin or urlsplit(origin).netloc == request.host


def _secure(response: HTTPResponse) -> HTTPResponse:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _error(code: str, status: int) -> HTTPResponse:
    return _secure(json({"error": code}, status=status))


def _customers(session: Any, conversation_ids: List[str], key: str) -> Dict[str, Dict[str, Any]]:
    """Signed-in customers' conversations by id.

    A conversation id is the HMAC of a customer id, so conversations the shop started (proactive
    notices) are recognised too, not only those with signed message metadata.
    """
    wanted = {cid for cid in conversation_ids if cid.startswith("c-")}
    if not wanted:
        return {}
    found = {}
    for customer_id, nickname in session.execute(select(Customer.id, Customer.nickname)):
        cid = conversation_id_for(customer_id, key)
        if cid in wanted:
            found[cid] = {"id": int(customer_id), "nickname": str(nickname)}
    return found


def create_blueprint() -> Blueprint:
    """Builds the console's routes (templates loaded on first use)."""
    bp = Blueprint("agent_console")
    templates = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    revoked = accounts.Revocations()

    def render(template: str, status: int = 200, **context: Any) -> HTTPResponse:
        return _secure(html(templates.get_template(template).render(**context), status=status))

    async def staff_of(request: Request) -> Optional[accounts.StaffSession]:
        config: Settings = request.app.ctx.settings
        value = request.cookies.get(accounts.COOKIE_NAME)
        if not value:
            return None
        return await _db(accounts.staff_for_cookie, value, config.signing_key, revoked)

    async def guard(
        request: Request, changes: bool = False
    ) -> Tuple[Optional[accounts.StaffSession], Optional[HTTPResponse]]:
        if changes and (not _same_origin(request) or request.headers.get(API_HEADER) != "1"):
            return None, _error("cross_site_refused", 403)
        staff = await staff_of(request)
        if staff is None:
            return None, _error("sign_in_required", 401)
        if not staff.may_use_console:
            return None, _error("role_not_allowed", 403)
        return staff, None

    @bp.exception(SQLAlchemyError)
    async def shop_unavailable(request: Request, error: Exception) -> HTTPResponse:
        logger.error("shop database unavailable: %s", type(error).__name__)
        return _error("shop_unavailable", 503)

    @bp.get("/agent")
    async def console(request: Request) -> HTTPResponse:
        staff = await staff_of(request)
        if staff is None:
            return render("agent_signin.html", status=200)
        if not staff.may_use_console:
            return render("agent_signin.html", status=403, refused_role=True)
        return render("agent.html", staff=staff)

    @bp.post("/agent/signin")
    async def signin(request: Request) -> HTTPResponse:
        if not _same_origin(request):
            return _error("cross_site_refused", 403)
        username = str(request.form.get("username") or "")[:32]
        staff = await _db(accounts.sign_in, username, str(request.form.get("password") or ""))
        if staff is None:
            return render("agent_signin.html", status=401, failed=True, username=username)
        if not staff.may_use_console:
            return render("agent_signin.html", status=403, refused_role=True)
        config: Settings = request.app.ctx.settings
        response = redirect("/agent")
        response.cookies[accounts.COOKIE_NAME] = accounts.make_cookie(
            staff.agent_id, config.signing_key
        )
        cookie = response.cookies[accounts.COOKIE_NAME]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = "/agent"
        cookie["max-age"] = accounts.MAX_AGE_SECONDS
        if request.scheme == "https":
            cookie["secure"] = True
        return _secure(response)

    @bp.post("/agent/signout")
    async def signout(request: Request) -> HTTPResponse:
        if not _same_origin(request):
            return _error("cross_site_refused", 403)
        config: Settings = request.app.ctx.settings
        fields = accounts.read_cookie(request.cookies.get(accounts.COOKIE_NAME), config.signing_key)
        if fields is not None:
            revoked.revoke(str(fields["nonce"]), int(fields["issued"]))  # type: ignore[arg-type]
        response = redirect("/agent")
        response.cookies[accounts.COOKIE_NAME] = ""
        cookie = response.cookies[accounts.COOKIE_NAME]
        cookie["path"] = "/agent"
        cookie["max-age"] = 0
        return _secure(response)

    @bp.get("/agent/api/me")
    async def me(request: Request) -> HTTPResponse:
        staff, refused = await guard(request)
        if refused:
            return refused
        assert staff is not None
        return _secure(
            json(
                {
                    "username": staff.username,
                    "display_name": staff.display_name,
                    "role": staff.role,
                    "compensation_limit_fen": staff.compensation_limit_fen,
                },
                ensure_ascii=False,
            )
        )

    @bp.get("/agent/api/conversations")
    async def listing(request: Request) -> HTTPResponse:
        staff, refused = await guard(request)
        if refused:
            return refused
        config: Settings = request.app.ctx.settings
        now = time.time()
        found = await asyncio.to_thread(
            trackers.active_conversations, config.tracker_db, now - ACTIVE_WINDOW_SECONDS
        )
        summaries = [
            conversations.summarise(cid, events, config.signing_key)
            for cid, events in found.items()
        ]
        customers = await _db(_customers, list(found), config.signing_key)
        rows = []
        for summary in summaries:
            customer = customers.get(summary.conversation_id)
            if summary.customer_id is None and customer is not None:
                summary.customer_id = customer["id"]
            row = summary.as_dict(now)
            row["customer_name"] = customer["nickname"] if customer else None
            rows.append((summary, row))
        queue = [row for summary, row in rows if summary.needs_human]
        queue.sort(key=lambda row: -(row["waiting_seconds"] or 0))
        # Conversations where the customer has written (not only a greeting or a notice).
        active = [row for s, row in rows if s.customer_messages or s.mode != "auto"]
        active.sort(key=lambda row: -row["last_activity"])
        return _secure(json({"queue": queue, "active": active, "now": now}, ensure_ascii=False))

    async def events_of(
        request: Request, conversation_id: str
    ) -> Tuple[Optional[List[Dict[str, Any]]], Optional[HTTPResponse]]:
        if not trackers.valid_conversation_id(conversation_id):
            return None, _error("bad_conversation_id", 400)
        config: Settings = request.app.ctx.settings
        events = await asyncio.to_thread(
            trackers.conversation_events, config.tracker_db, conversation_id
        )
        if events is None:
            return None, _error("no_such_conversation", 404)
        return events, None

    @bp.get("/agent/api/conversations/<conversation_id>")
    async def conversation(request: Request, conversation_id: str) -> HTTPResponse:
        staff, refused = await guard(request)
        if refused:
            return refused
        events, missing = await events_of(request, conversation_id)
        if missing:
            return missing
        assert events is not None
        config: Settings = request.app.ctx.settings
        summary = conversations.summarise(conversation_id, events, config.signing_key)
        if summary.customer_id is None and conversation_id.startswith("c-"):
            known = await _db(_customers, [conversation_id], config.signing_key)
            summary.customer_id = known.get(conversation_id, {}).get("id")
        customer = None
        if summary.customer_id is not None:
            customer = await _db(profile.profile_for, summary.customer_id)
        body = {
            "summary": summary.as_dict(time.time()),
            "transcript": conversations.transcript(events),
            "profile": customer,
        }
        return _secure(json(body, ensure_ascii=False))

    async def change(
        request: Request, conversation_id: str, work: Callable[..., Any], field: str
    ) -> HTTPResponse:
        staff, refused = await guard(request, changes=True)
        if refused:
            return refused
        try:
            body = request.json
        except Exception:  # noqa: BLE001 - Sanic raises its own error for malformed JSON
            body = None
        value = body.get(field) if isinstance(body, dict) else None
        events, missing = await events_of(request, conversation_id)
        if missing:
            return missing
        config: Settings = request.app.ctx.settings
        try:
            await work(config.rasa_url, config.rasa_token, conversation_id, events, value, staff)
        except modes.ModeRefused as refusal:
            return _error(refusal.code, 409)
        except trackers.RasaUnavailable as error:
            logger.warning("rasa refused an agent change: %s", error)
            return _error("rasa_unavailable", 502)
        return _secure(json({"ok": True}))

    @bp.post("/agent/api/conversations/<conversation_id>/mode")
    async def set_mode(request: Request, conversation_id: str) -> HTTPResponse:
        return await change(request, conversation_id, modes.switch_mode, "mode")

    @bp.post("/agent/api/conversations/<conversation_id>/messages")
    async def send_message(request: Request, conversation_id: str) -> HTTPResponse:
        return await change(request, conversation_id, modes.send_agent_message, "text")

    return bp
