"""A customer message sent again after it was answered is answered from the record, once.

A client that did not get its answer sends the same message again: a replica killed after it
saved the turn but before it replied (the balancer then sends the request to another replica), a
REST client's retry after a timeout, a widget's resend after a lost connection. Rasa would handle
the copy as a new message: the customer's words twice in the tracker store and the actions run
twice (a return booked twice). With `install`, Rasa's message processor first looks in the
conversation's current session (read under the conversation's lock, as Rasa reads it) for a
customer message with the same `client_msg_id` and the same text. When there is one, the bot
messages that followed it are sent to the output channel again and nothing is handled or stored.
A message without an id, or whose id came with other words, is handled as Rasa handles it.

The tracker read for the check is the one Rasa's own handling then uses, so a message costs no
second read. The Rasa server's launcher (`bot.rasa_server`) installs it before Rasa starts.
"""

from __future__ import annotations

import contextvars
import functools
import logging
from typing import Any, Dict, List, Optional, Reversible, Tuple

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import BotUttered, Event, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.speedups.patching import replace_once
from bot.web.inbound import CLIENT_MSG_ID_KEY, client_message_id

logger = logging.getLogger(__name__)

MARKER = "answers_resent_messages"

# (conversation id, tracker): read for the check, handed to Rasa's next `get_tracker` of that
# conversation in the same task
_read_for_check: contextvars.ContextVar[Optional[Tuple[str, DialogueStateTracker]]] = (
    contextvars.ContextVar("read_for_check", default=None)
)


def recorded_replies(
    events: Reversible[Event], message_id: str, text: Optional[str]
) -> Optional[List[Dict[str, Any]]]:
    """The bot messages that answered a customer message of the current session, if it is there.

    Args:
        events: The tracker's events, oldest first.
        message_id: The message's `client_msg_id`.
        text: The message's text.

    Returns:
        The messages (as Rasa sends them) that followed the latest customer message with this id
        and text, up to the next customer message; None when the session has no such message.
    """
    later: List[BotUttered] = []
    for event in reversed(events):
        if isinstance(event, SessionStarted):
            return None
        if isinstance(event, BotUttered):
            later.append(event)
        elif isinstance(event, UserUttered):
            if (event.metadata or {}).get(CLIENT_MSG_ID_KEY) == message_id and event.text == text:
                return [bot.message() for bot in reversed(later)]
            later = []
    return None


def answering_resent(handle: Any) -> Any:
    """Rasa's `MessageProcessor.handle_message`, answering a message sent again from the record."""

    @functools.wraps(handle)
    async def handle_message(
        processor: MessageProcessor, message: UserMessage
    ) -> Optional[List[Dict[str, Any]]]:
        message_id = client_message_id(message.metadata)
        if message_id is None:
            return await handle(processor, message)
        tracker = await processor.get_tracker(message.sender_id)
        replies = recorded_replies(tracker.events, message_id, message.text)
        if replies is None:
            token = _read_for_check.set((message.sender_id, tracker))
            try:
                return await handle(processor, message)
            finally:
                _read_for_check.reset(token)
        logger.info(
            "conversation %s: a message sent again, answered from the record (%d replies)",
            message.sender_id[:8],
            len(replies),
        )
        output = message.output_channel
        for reply in replies:
            await output.send_response(message.sender_id, reply)
        return output.messages if isinstance(output, CollectingOutputChannel) else None

    setattr(handle_message, MARKER, True)
    return handle_message


def reusing_checked(get_tracker: Any) -> Any:
    """Rasa's `MessageProcessor.get_tracker`, giving back the tracker the check has just read."""

    @functools.wraps(get_tracker)
    async def get_tracker_once(
        processor: MessageProcessor, conversation_id: str
    ) -> DialogueStateTracker:
        read = _read_for_check.get()
        if read is not None and read[0] == conversation_id:
            _read_for_check.set(None)
            return read[1]
        return await get_tracker(processor, conversation_id)

    setattr(get_tracker_once, MARKER, True)
    return get_tracker_once


def install() -> None:
    """Makes Rasa's message processor answer messages sent again from the record (once)."""
    replace_once(MessageProcessor, "handle_message", MARKER, answering_resent)
    replace_once(MessageProcessor, "get_tracker", MARKER, reusing_checked)
