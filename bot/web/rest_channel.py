"""Rasa's REST channel (`/webhooks/rest/webhook`), refusing over-long messages before NLU.

The same limit as the widget and the socket.io channel: a message longer than
`MAX_MESSAGE_CHARS` is answered with `MESSAGE_TOO_LONG_TEXT` and never parsed (a 100,000
character message would otherwise tie up the tokenizer and the model).
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint

from bot.web.limits import MAX_MESSAGE_CHARS, MESSAGE_TOO_LONG_TEXT

logger = logging.getLogger(__name__)


class ShopRestInput(RestInput):
    """Rasa's REST input channel (same name and URL) with the shop's message length limit."""

    @classmethod
    def name(cls) -> Text:
        """The channel's name, so its URL stays `/webhooks/rest/webhook`."""
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's REST blueprint, with over-long messages answered before NLU."""

        async def within_limit(message: UserMessage) -> Any:
            if message.text and len(message.text) > MAX_MESSAGE_CHARS:
                logger.info("refused a REST message of %d characters", len(message.text))
                await message.output_channel.send_text_message(
                    message.sender_id, MESSAGE_TOO_LONG_TEXT
                )
                return None
            return await on_new_message(message)

        return super().blueprint(within_limit)
