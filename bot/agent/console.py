"""The agent console's routes at /agent: sign-in, the queue, the conversation view and modes.

Who may call them is `bot.agent.guard`'s business; suggestions, agent messages and the metrics
page are registered from `bot.agent.assist_routes`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any, Dict, List

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, html, json
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bot.agent import (
    assist_routes,
    conversation_index,
    conversations,
    modes,
    profile,
    throttle,
)
from bot.agent import signin as signin_forms
from bot.agent.guard import (
    Guard,
    conversation_events,
    error,
    in_db,
    json_body,
    secure,
)
from bot.rasa_client import RasaUnavailable
from bot.settings import Settings
from shop.db.models import Customer
from shop.signing import conversation_id_for

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "web" / "templates"

logger = logging.getLogger(__name__)
DOOR = signin_forms.AGENT_DOOR


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


def _whole(value: Any, default: int) -> int:
    """A positive whole number from a query argument, else the default."""
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and 0 < len(text) < 7 else default


def create_blueprint() -> Blueprint:
    """Builds the console's routes (templates loaded on first use)."""
    bp = Blueprint("agent_console")
    templates = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    guard = Guard()
    attempts = throttle.SignInThrottle()

    def render(template: str, status: int = 200, **context: Any) -> HTTPResponse:
        return secure(html(templates.get_template(template).render(**context), status=status))

    @bp.exception(SQLAlchemyError)
    async def shop_unavailable(request: Request, problem: Exception) -> HTTPResponse:
        logger.error("shop database unavailable: %s", type(problem).__name__)
        return error("shop_unavailable", 503)

    @bp.get("/agent")
    async def console(request: Request) -> HTTPResponse:
        staff = await guard.staff_of(request)
        if staff is None:
            return DOOR.form(render)
        if not staff.may_use_console:
            return DOOR.form(render, status=403, refused_role=True)
        return render("agent.html", staff=staff)

    @bp.post("/agent/signin")
    async def signin(request: Request) -> HTTPResponse:
        return await signin_forms.sign_in(request, DOOR, attempts, render)

    @bp.post("/agent/signout")
    async def signout(request: Request) -> HTTPResponse:
        return await signin_forms.sign_out(request, DOOR)

    @bp.get("/agent/api/me")
    async def me(request: Request) -> HTTPResponse:
        staff, refused = await guard.check(request)
        if refused:
            return refused
        assert staff is not None
        return secure(
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
        """The whole queue the staff member sees, and a page of the active conversations.

        Query: `page` (from 1), `per_page`, `q` (a conversation id, customer id or words the
        customer wrote). Both lists come from the console's index of conversations, brought up
        to date with the tracker store first.
        """
        staff, refused = await guard.check(request)
        if refused:
            return refused
        assert staff is not None
        config: Settings = request.app.ctx.settings
        index = conversation_index.index_for(
            conversation_index.database_url(config.var_dir),
            config.tracker_store_url,
            config.signing_key,
        )
        query = str(request.args.get("q") or "")
        page_number = _whole(request.args.get("page"), 1)
        per_page = _whole(request.args.get("per_page"), conversation_index.PAGE_SIZE)

        def read() -> Any:
            index.refresh()
            return index.queue(staff.role), index.active(page_number, per_page, query)

        (queue, queue_total), page = await asyncio.to_thread(read)
        entries = queue + page.rows
        ids = list(dict.fromkeys(summary.conversation_id for summary, _ in entries))
        customers = await in_db(_customers, ids, config.signing_key)
        now = time.time()

        def shown(entry: conversation_index.Entry) -> Dict[str, Any]:
            summary, extra = entry
            customer = customers.get(summary.conversation_id)
            if summary.customer_id is None and customer is not None:
                summary.customer_id = customer["id"]
            row = {**summary.as_dict(now), **extra}
            row["customer_name"] = customer["nickname"] if customer else None
            return row

        body = {
            "queue": [shown(entry) for entry in queue],
            "queue_total": queue_total,
            "active": [shown(entry) for entry in page.rows],
            "active_total": page.total,
            "page": page.page,
            "pages": page.pages,
            "per_page": page.per_page,
            "query": query.strip()[: conversation_index.MAX_QUERY_CHARS],
            "now": now,
        }
        return secure(json(body, ensure_ascii=False))

    @bp.get("/agent/api/conversations/<conversation_id>")
    async def conversation(request: Request, conversation_id: str) -> HTTPResponse:
        staff, refused = await guard.check(request)
        if refused:
            return refused
        events, missing = await conversation_events(request, conversation_id)
        if missing:
            return missing
        assert events is not None
        config: Settings = request.app.ctx.settings
        summary = conversations.summarise(conversation_id, events, config.signing_key)
        if summary.customer_id is None and conversation_id.startswith("c-"):
            known = await in_db(_customers, [conversation_id], config.signing_key)
            summary.customer_id = known.get(conversation_id, {}).get("id")
        customer = None
        if summary.customer_id is not None:
            customer = await in_db(profile.profile_for, summary.customer_id)
        body = {
            "summary": summary.as_dict(time.time()),
            "transcript": conversations.transcript(events),
            "profile": customer,
        }
        return secure(json(body, ensure_ascii=False))

    @bp.post("/agent/api/conversations/<conversation_id>/mode")
    async def set_mode(request: Request, conversation_id: str) -> HTTPResponse:
        staff, refused = await guard.check(request, changes=True)
        if refused:
            return refused
        events, missing = await conversation_events(request, conversation_id)
        if missing:
            return missing
        wanted = json_body(request).get("mode")
        try:
            await modes.switch_mode(request.app.ctx.rasa, conversation_id, events, wanted, staff)
        except modes.ModeRefused as refusal:
            return error(refusal.code, 409)
        except RasaUnavailable as failure:
            logger.warning("rasa refused an agent change: %s", failure)
            return error("rasa_unavailable", 502)
        return secure(json({"ok": True}))

    assist_routes.register(bp, guard, render)
    return bp
