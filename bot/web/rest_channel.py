"""Rasa's REST channel (`/webhooks/rest/webhook`), checking every request before NLU.

A request is answered 400 with `{"error": code, "reason": text}` (never 500, never silently
pooled) when its body is not a JSON object, `sender` is missing or malformed (no shared `default`
conversation), the message is missing, not a string, empty, has a lone UTF-16 surrogate or is
longer than `MAX_MESSAGE_CHARS`, or the metadata is not an object. Writing into a widget's
conversation needs what the widget has (`bot.web.inbound.claim`): a signed-in customer's
conversation (`c-…`) a valid chat signature in the metadata, an anonymous one (`a-…`) its
`session_secret` in the metadata (403 otherwise). Other senders are the REST client's own
conversations. The stored metadata keeps `client_msg_id` and the proven identity only; text that
starts with "/" is a command only when the widget could have sent it. The input channel is always
`rest` (a client cannot pose as another channel).
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.web.inbound import (
    GenerationOf,
    Refused,
    claim,
    client_metadata,
    conversation_id,
    generation_in_shop,
    guarded_command,
    message_text,
)
from shop.signing import signing_key

logger = logging.getLogger(__name__)


def _body(request: Request) -> Dict[str, Any]:
    try:
        body = request.json
    except Exception:  # sanic refuses a body that is not JSON
        raise Refused("bad_json", "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise Refused("bad_json", "the body must be a JSON object")
    return body


class ShopRestInput(RestInput):
    """Rasa's REST input channel (same name and URL) that refuses bad input with a reason."""

    generation_of: GenerationOf = staticmethod(generation_in_shop)  # type: ignore[assignment]

    @classmethod
    def name(cls) -> Text:
        """The channel's name, so its URL stays `/webhooks/rest/webhook`."""
        return "rest"

    async def _message(self, request: Request) -> UserMessage:
        body = _body(request)
        sender = conversation_id(body.get("sender"))
        text = message_text(body.get("message"))
        metadata = client_metadata(body.get("metadata"))
        owned = await claim(
            sender,
            metadata,
            signing_key(),
            self.generation_of,
            secret=metadata.get("session_secret"),
        )
        return UserMessage(
            guarded_command(text),
            CollectingOutputChannel(),
            sender,
            input_channel=self.name(),
            metadata=owned.metadata,
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The REST routes: a health check and the webhook, with every request checked first."""
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                message = await self._message(request)
            except Refused as refused:
                logger.info("refused a REST message: %s", refused.code)
                status = 403 if refused.code in ("signed_out", "not_your_conversation") else 400
                return response.json(refused.as_dict(), status=status)
            try:
                await on_new_message(message)
            except Exception as error:  # Rasa failed: the customer is told, nothing is logged
                logger.error("a REST message failed: %s", type(error).__name__)
                return response.json(
                    {"error": "unavailable", "reason": "the assistant failed"}, status=503
                )
            collector = message.output_channel
            assert isinstance(collector, CollectingOutputChannel)
            return response.json(collector.messages)

        return webhook
