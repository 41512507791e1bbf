"""The Rasa server's assist endpoints, for the agent console's web app only.

Registered as a channel in `credentials.yml` (name `assist`), so it runs inside the Rasa server
next to the model, the tracker store and the lock store:

- `POST /webhooks/assist/suggestions` `{conversation_id, authority_fen}` → ranked suggestions for
  the conversation's latest customer message (`bot.assist.draft.Drafter.suggest`).
- `POST /webhooks/assist/perform` `{conversation_id, message_id, choice, authority_fen, events}` →
  does what the sent suggestion stands for and delivers the agent's message events to the widget.

Each request carries `X-Shop-Assist-Signature`, the HMAC-SHA256 of its body under
SHOP_SIGNING_KEY; anything else is refused (a customer cannot reach these endpoints).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.lock_store import LockError
from rasa.shared.core.events import BotUttered
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from bot.assist import validation
from bot.assist.draft import Drafter, StaleMessage, output_channel_of
from bot.assist.signing import SIGNATURE_HEADER, body_signed
from shop.signing import signing_key

MAX_BODY_BYTES = 64_000

logger = logging.getLogger(__name__)


def _body(request: Request, key: str) -> Optional[Dict[str, Any]]:
    raw = request.body or b""
    signature = request.headers.get(SIGNATURE_HEADER) or ""
    if not key or len(raw) > MAX_BODY_BYTES:
        return None
    if not body_signed(raw, signature, key):
        return None
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("conversation_id"), str):
        return None
    authority = body.get("authority_fen")
    if isinstance(authority, bool) or not isinstance(authority, int) or authority < 0:
        return None
    return body


class AssistInput(InputChannel):
    """Not a customer channel: the console's draft and perform endpoints inside Rasa."""

    @classmethod
    def name(cls) -> Text:
        """The channel's name (its URL prefix is /webhooks/assist)."""
        return "assist"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The two endpoints; `on_new_message` is unused (no customer speaks here).

        Rasa builds the channels once at start-up, which is when its response validation is
        switched to compiled schemas (`bot.assist.validation`).
        """
        validation.install()
        bp = Blueprint("assist_webhook", url_prefix="/webhooks/assist")

        def drafter_of(request: Request) -> Optional[Drafter]:
            agent = request.app.ctx.agent
            if agent is None or not agent.is_ready():
                return None
            return Drafter(agent.processor, signing_key())

        @bp.get("/")
        async def health(_: Request) -> HTTPResponse:
            return json_response({"status": "ok"})

        @bp.post("/suggestions")
        async def suggestions(request: Request) -> HTTPResponse:
            body = _body(request, signing_key())
            if body is None:
                return json_response({"error": "refused"}, status=403)
            drafter = drafter_of(request)
            if drafter is None:
                return json_response({"error": "no_model"}, status=503)
            try:
                found = await drafter.suggest(body["conversation_id"], body["authority_fen"])
            except StaleMessage as why:
                return json_response({"error": "no_customer_message", "why": str(why)}, status=409)
            return json_response(found, ensure_ascii=False)

        @bp.post("/perform")
        async def perform(request: Request) -> HTTPResponse:
            body = _body(request, signing_key())
            if body is None or not isinstance(body.get("events"), list):
                return json_response({"error": "refused"}, status=403)
            drafter = drafter_of(request)
            if drafter is None:
                return json_response({"error": "no_model"}, status=503)
            conversation_id = body["conversation_id"]
            choice = body.get("choice") if isinstance(body.get("choice"), dict) else {}
            try:
                async with request.app.ctx.agent.lock_store.lock(conversation_id):
                    appended = await drafter.perform(
                        conversation_id,
                        body.get("message_id"),
                        choice,
                        body["authority_fen"],
                        body["events"],
                    )
            except StaleMessage as why:
                return json_response({"error": "stale_suggestion", "why": str(why)}, status=409)
            except LockError:
                return json_response({"error": "busy"}, status=409)
            output = output_channel_of(request.app)
            if output is not None:
                for event in appended:
                    if isinstance(event, BotUttered):
                        await output.send_response(conversation_id, event.message())
            return json_response({"ok": True, "events": len(appended)})

        return bp
