"""The web app's side of the Rasa server's push (`bot.event_push`): who waits is woken.

`POST /internal/events` `{"sender_id", "event"}` wakes whoever waits on that conversation.

`ConversationSignals.watching(conversation_id)` gives an `asyncio.Event` set by every push for
that conversation while the block runs (clear it, read the store, then wait on it: a push
during the read is not lost). The route accepts only the Rasa server (the shared endpoint
secret, `shop.endpoint_secret`) and only a well-formed conversation id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Dict, Iterator, Set

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, empty, json

from bot.agent.trackers import valid_conversation_id
from shop import endpoint_secret

logger = logging.getLogger(__name__)

# how long a waiter trusts the push before it reads the store again anyway
FALLBACK_SECONDS = 1.0


class ConversationSignals:
    """Who waits on which conversation, and waking them."""

    def __init__(self) -> None:
        """No one waits yet."""
        self._waiting: Dict[str, Set[asyncio.Event]] = {}

    @contextlib.contextmanager
    def watching(self, conversation_id: str) -> Iterator[asyncio.Event]:
        """An event set by every push for the conversation while the block runs."""
        woken = asyncio.Event()
        self._waiting.setdefault(conversation_id, set()).add(woken)
        try:
            yield woken
        finally:
            waiting = self._waiting.get(conversation_id)
            if waiting is not None:
                waiting.discard(woken)
                if not waiting:
                    del self._waiting[conversation_id]

    def notify(self, conversation_id: str) -> int:
        """Wakes everyone waiting on the conversation; how many that was."""
        waiting = self._waiting.get(conversation_id, ())
        for woken in waiting:
            woken.set()
        return len(waiting)


async def wait_woken(woken: asyncio.Event, seconds: float) -> bool:
    """Waits until `woken` is set or `seconds` pass; whether it was set."""
    try:
        await asyncio.wait_for(woken.wait(), max(0.0, seconds))
    except asyncio.TimeoutError:
        return False
    return True


def push_blueprint(signals: ConversationSignals, secret: str) -> Blueprint:
    """`POST /internal/events` `{"sender_id", "event"}`: 204, or 401 / 400."""
    blueprint = Blueprint("push")
    if not secret:
        logger.error("no endpoint secret configured: every push from Rasa will be refused")

    @blueprint.post("/internal/events")
    async def pushed(request: Request) -> HTTPResponse:
        if not endpoint_secret.accepts(request.headers.get(endpoint_secret.HEADER), secret):
            return json({"error": "this endpoint answers the Rasa server only"}, 401)
        body = request.json if request.body else None
        sender = body.get("sender_id") if isinstance(body, dict) else None
        if not isinstance(sender, str) or not valid_conversation_id(sender):
            return json({"error": "expected {sender_id, event}"}, 400)
        signals.notify(sender)
        return empty()

    return blueprint
