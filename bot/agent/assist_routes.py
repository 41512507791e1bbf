"""The console's suggestion routes, the agent's own messages, and the metrics page.

- `GET  …/suggestions?after=<message id>` waits (up to `wait` seconds) for a customer message
  other than `after` in a conversation a person holds, then answers its ranked suggestions.
- `POST …/suggestions/shown` `{message_id}` records that the agent saw them.
- `POST …/suggestions/reject` `{message_id, rank}` records a rejection.
- `POST …/suggestions/send` `{message_id, rank, text}` sends a suggestion, as it is or edited:
  Rasa performs what it stands for and the customer receives the agent's text.
- `POST …/messages` `{text}` sends what the agent wrote.
- `GET /agent/metrics` and `/agent/metrics.csv`: acceptance, edits, handoffs, response times.

Nothing that promises more compensation than the signed-in agent's authority is sent: neither a
suggestion drafted with a higher authority nor an edited or written text, nor a text whose promise
cannot be read for certain (`bot.agent.authority`; the agent's previous message is read with it,
so a promise split over two messages is still one promise).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable, Dict, List, Optional

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json, text

from bot.agent import assist, authority, metrics, modes, trackers
from bot.agent.accounts import StaffSession
from bot.agent.conversations import current_session
from bot.agent.guard import Guard, conversation_events, error, json_body, secure
from bot.agent.signin import AGENT_DOOR
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.settings import Settings
from shop.conversation import latest_customer_message
from shop.policy import calendar

MAX_WAIT_SECONDS = 25.0
METRICS_WINDOW_SECONDS = 30 * 24 * 3600
METRICS_ROWS_SHOWN = 200
CSV_PARTS = {
    "decisions": "assist-metrics.csv",
    "intents": "assist-metrics-by-intent.csv",
    "handoffs": "assist-handoffs.csv",
}

logger = logging.getLogger(__name__)


def _previous_agent_text(events: List[Dict[str, Any]]) -> str:
    """The text of the latest message an agent sent in the conversation's current session."""
    for event in reversed(current_session(events)):
        meta = event.get("metadata") or {}
        if event.get("event") == "bot" and meta.get("sender") == "agent":
            return str(event.get("text") or "")
    return ""


def _authority_refusal(
    staff: StaffSession,
    message: str,
    suggestion: Optional[Dict[str, Any]],
    events: List[Dict[str, Any]],
) -> str:
    """Why the agent may not send this (`above_authority`, `compensation_unclear`), or ""."""
    suggested = int((suggestion or {}).get("compensation_fen") or 0)
    earlier = _previous_agent_text(events)
    return authority.refusal(message, staff.compensation_limit_fen, earlier, suggested)


def register(bp: Blueprint, guard: Guard, render: Callable[..., HTTPResponse]) -> None:
    """Adds the suggestion, message and metrics routes to the console's blueprint."""
    cache = assist.SuggestionCache()

    async def suggestions_for(
        request: Request, conversation_id: str, message_id: str, staff: StaffSession
    ) -> Dict[str, Any]:
        config: Settings = request.app.ctx.settings
        rasa: RasaClient = request.app.ctx.rasa
        authority = staff.compensation_limit_fen

        async def fetch() -> Dict[str, Any]:
            return await assist.draft(rasa, config.signing_key, conversation_id, authority)

        return await cache.fetch_once(conversation_id, message_id, authority, fetch)

    @bp.get("/agent/api/conversations/<conversation_id>/suggestions")
    async def suggestions(request: Request, conversation_id: str) -> HTTPResponse:
        staff, refused = await guard.check(request)
        if refused:
            return refused
        assert staff is not None
        if not trackers.valid_conversation_id(conversation_id):
            return error("bad_conversation_id", 400)
        config: Settings = request.app.ctx.settings
        after = request.args.get("after") or None
        try:
            wait = min(MAX_WAIT_SECONDS, max(0.0, float(request.args.get("wait") or 0)))
        except ValueError:
            wait = 0.0
        message_id, held = await assist.wait_for_message(
            config.tracker_store_url, conversation_id, after, wait, request.app.ctx.signals
        )
        if not message_id or not held:
            return secure(json({"message_id": message_id, "held": held, "suggestions": []}))
        if message_id == after:
            return secure(json({"message_id": message_id, "held": True, "unchanged": True}))
        try:
            found = await suggestions_for(request, conversation_id, message_id, staff)
        except RasaUnavailable as failure:
            logger.warning("no suggestions: %s", failure)
            return error("rasa_unavailable", 502)
        if found.get("stale"):
            return secure(json({"message_id": None, "held": True, "suggestions": []}))
        body = {**found, "held": True, "authority_fen": staff.compensation_limit_fen}
        return secure(json(body, ensure_ascii=False))

    async def cached_set(
        request: Request, conversation_id: str, staff: StaffSession
    ) -> Optional[Dict[str, Any]]:
        message_id = str(json_body(request).get("message_id") or "")
        if not message_id:
            return None
        return cache.get(conversation_id, message_id, staff.compensation_limit_fen)

    def ranked(found: Dict[str, Any], rank: object) -> Optional[Dict[str, Any]]:
        for suggestion in found.get("suggestions") or []:
            if suggestion.get("rank") == rank:
                return suggestion
        return None

    async def recorded(
        request: Request, conversation_id: str, events: List[Dict[str, Any]], **answer: Any
    ) -> HTTPResponse:
        """Appends events (decisions, the agent's message) to the tracker; answers the console."""
        try:
            await request.app.ctx.rasa.append_events(conversation_id, events)
        except RasaUnavailable as failure:
            logger.warning("rasa refused an agent's events: %s", failure)
            return error("rasa_unavailable", 502)
        return secure(json({"ok": True, **answer}))

    async def chosen(request: Request, conversation_id: str, with_rank: bool = True) -> Any:
        """`(staff, set, suggestion)` the console's request names, or the refusal."""
        staff, refused = await guard.check(request, changes=True)
        if refused:
            return refused
        assert staff is not None
        found = await cached_set(request, conversation_id, staff)
        suggestion = ranked(found or {}, json_body(request).get("rank")) if with_rank else None
        if found is None or (with_rank and suggestion is None):
            return error("stale_suggestion", 409)
        return staff, found, suggestion

    @bp.post("/agent/api/conversations/<conversation_id>/suggestions/shown")
    async def shown(request: Request, conversation_id: str) -> HTTPResponse:
        picked = await chosen(request, conversation_id, with_rank=False)
        if isinstance(picked, HTTPResponse):
            return picked
        staff, found, _ = picked
        answer = await recorded(request, conversation_id, [assist.shown_event(found, staff)])
        if answer.status == 200:
            found.setdefault("shown_to", []).append(staff.username)
        return answer

    @bp.post("/agent/api/conversations/<conversation_id>/suggestions/reject")
    async def reject(request: Request, conversation_id: str) -> HTTPResponse:
        picked = await chosen(request, conversation_id)
        if isinstance(picked, HTTPResponse):
            return picked
        staff, found, suggestion = picked
        event = assist.rejected_event(str(found["message_id"]), suggestion, staff)
        return await recorded(request, conversation_id, [event])

    async def checked_message(
        request: Request,
        conversation_id: str,
        staff: StaffSession,
        suggestion: Optional[Dict[str, Any]],
    ) -> Any:
        """The agent's message event with its decision, or the refusal."""
        events, missing = await conversation_events(request, conversation_id)
        if missing:
            return missing
        assert events is not None
        message = json_body(request).get("text")
        try:
            event = modes.agent_message_event(events, message, staff)
        except modes.ModeRefused as refusal:
            return error(refusal.code, 409)
        refused = _authority_refusal(staff, event["text"], suggestion, events)
        if refused:
            return error(refused, 403)
        customer = latest_customer_message(events)
        event["metadata"]["assist"] = assist.decision(
            event["text"], suggestion, customer, time.time()
        )
        return event

    @bp.post("/agent/api/conversations/<conversation_id>/suggestions/send")
    async def send_suggestion(request: Request, conversation_id: str) -> HTTPResponse:
        picked = await chosen(request, conversation_id)
        if isinstance(picked, HTTPResponse):
            return picked
        staff, found, suggestion = picked
        event = await checked_message(request, conversation_id, staff, suggestion)
        if isinstance(event, HTTPResponse):
            return event
        if event["metadata"]["assist"]["for_message"] != found["message_id"]:
            return error("stale_suggestion", 409)
        config: Settings = request.app.ctx.settings
        try:
            done = await assist.perform(
                request.app.ctx.rasa,
                config.signing_key,
                conversation_id,
                str(found["message_id"]),
                suggestion,
                staff,
                [
                    # a set sent before the console said it was shown was shown all the same
                    *(
                        []
                        if staff.username in found.get("shown_to", [])
                        else [assist.shown_event(found, staff)]
                    ),
                    event,
                    *assist.card_events(suggestion, staff),
                ],
            )
        except RasaUnavailable as failure:
            logger.warning("a suggestion was not sent: %s", failure)
            return error("rasa_unavailable", 502)
        cache.forget(conversation_id, str(found["message_id"]))
        if done.get("stale"):
            return error("stale_suggestion", 409)
        return secure(json({"ok": True, "decision": event["metadata"]["assist"]["decision"]}))

    @bp.post("/agent/api/conversations/<conversation_id>/messages")
    async def send_message(request: Request, conversation_id: str) -> HTTPResponse:
        staff, refused = await guard.check(request, changes=True)
        if refused:
            return refused
        assert staff is not None
        event = await checked_message(request, conversation_id, staff, None)
        if isinstance(event, HTTPResponse):
            return event
        return await recorded(request, conversation_id, [event], decision="written")

    async def all_rows(config: Settings) -> Any:
        since = time.time() - METRICS_WINDOW_SECONDS
        found = await asyncio.to_thread(
            trackers.active_conversations, config.tracker_store_url, since
        )
        rows, handoffs = [], []
        for conversation_id, events in found.items():
            rows.extend(metrics.decision_rows(conversation_id, events))
            handoffs.extend(metrics.handoffs(events))
        return rows, handoffs

    @bp.get("/agent/metrics")
    async def metrics_page(request: Request) -> HTTPResponse:
        staff, refused = await guard.check(request)
        if refused:
            return AGENT_DOOR.form(render, status=refused.status)
        rows, handoffs = await all_rows(request.app.ctx.settings)
        return render(
            "agent_metrics.html",
            staff=staff,
            summary=metrics.summarise(rows, handoffs),
            rows=metrics.latest(rows, METRICS_ROWS_SHOWN),
            period_label="最近 30 天",
            calendar_known_until=calendar.known_until().isoformat(),
        )

    @bp.get("/agent/metrics.csv")
    async def metrics_csv(request: Request) -> HTTPResponse:
        staff, refused = await guard.check(request)
        if refused:
            return refused
        part = request.args.get("part", "decisions")
        if part not in CSV_PARTS:
            return error("unknown_part", 400)
        rows, handoffs = await all_rows(request.app.ctx.settings)
        if part == "intents":
            body = metrics.summary_csv(metrics.summarise(rows, handoffs))
        elif part == "handoffs":
            body = metrics.handoffs_csv(handoffs)
        else:
            body = metrics.to_csv(rows)
        # with a byte order mark, spreadsheet programs read the Chinese as UTF-8
        response = text("\ufeff" + body, content_type="text/csv; charset=utf-8")
        filename = CSV_PARTS[part]
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return secure(response)
