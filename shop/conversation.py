"""The conversation vocabulary: who wrote what, read from Rasa's events (plain functions, no I/O).

Shared by the actions, the agent console, assist drafting and the persona renderer, so they all
tell a customer's words from everything else the same way. Everything here takes Rasa's JSON
forms: a tracker event (`{"event": "user", "text", "parse_data", "metadata", ...}`, as Rasa's HTTP
API and tracker store give it) or a parsed message (`tracker.latest_message`, which is a user
event's `parse_data`). Nothing from Rasa is imported.

- A widget command is text starting with "/" that Rasa read as the intent it names (`/greet`,
  `/choose_persona{...}`): the widget sends it on the customer's behalf. Rasa reads "/<intent>"
  only for an intent of the domain; any other text starting with "/" (`/ 怎么还没发货`) goes
  through the NLU pipeline like every message, and is the customer's words.
- An external event is an intent triggered from outside (a proactive notice, `bot.notices`): Rasa
  records it as a user message `EXTERNAL: <intent>` with metadata `{"is_external": true}`, and
  this shop names those intents `EXTERNAL_<kind>`. Its text is Rasa's placeholder, never the
  customer's words (a customer who types the same words is still the customer).
- Customer text is a user event with words the customer typed: neither of the above.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Optional, Sequence

EXTERNAL_INTENT_PREFIX = "EXTERNAL_"
# The metadata flag Rasa sets on the user event of an external event (rasa IS_EXTERNAL).
EXTERNAL_METADATA_KEY = "is_external"
COMMAND_PREFIX = "/"
# How Rasa reads a command: "/" + intent name, then an optional "@confidence" and "{entities}".
_COMMAND = re.compile(r"^/([^{@]+)")

Event = Mapping[str, Any]


def external_intent(kind: str) -> str:
    """The name of the intent that triggers a proactive notice of this kind (`EXTERNAL_<kind>`)."""
    return EXTERNAL_INTENT_PREFIX + kind


def is_external_intent(name: object) -> bool:
    """Whether an intent name is one of the shop's external intents (`EXTERNAL_<kind>`)."""
    return isinstance(name, str) and name.startswith(EXTERNAL_INTENT_PREFIX)


def _parsed(message: Event) -> Mapping[str, Any]:
    """The parse data of a user event, or the parsed message itself."""
    parse = message.get("parse_data")
    return parse if isinstance(parse, Mapping) else message


def intent_name(message: Event) -> str:
    """The intent Rasa read in a user event or a parsed message ("" when there is none).

    Args:
        message: A tracker event (its `parse_data` is read) or `tracker.latest_message`.

    Returns:
        The intent's name.
    """
    intent = _parsed(message).get("intent")
    name = intent.get("name") if isinstance(intent, Mapping) else None
    return name if isinstance(name, str) else ""


def is_external(message: Event) -> bool:
    """Whether a user event or parsed message is an external event, not the customer's words.

    Args:
        message: A tracker event or `tracker.latest_message`.

    Returns:
        True for an `EXTERNAL_*` intent or a message Rasa flagged `is_external`.
    """
    if is_external_intent(intent_name(message)):
        return True
    for metadata in (message.get("metadata"), _parsed(message).get("metadata")):
        if isinstance(metadata, Mapping) and metadata.get(EXTERNAL_METADATA_KEY) is True:
            return True
    return False


def is_command(event: Event) -> bool:
    """Whether a user event is a widget command (`/greet`) rather than words the customer typed.

    A command is text starting with "/" that Rasa read as exactly the intent it names; text
    that only starts with "/" is read by the NLU pipeline and is the customer's.

    Args:
        event: A tracker event in Rasa's JSON form (or a parsed message).

    Returns:
        True when the text names the intent Rasa recorded.
    """
    text = event.get("text")
    if not isinstance(text, str):
        return False
    match = _COMMAND.match(text.strip())
    return bool(match) and match.group(1).strip() == intent_name(event)


def is_customer_text(event: Event) -> bool:
    """Whether an event is a message the customer typed.

    Args:
        event: A tracker event in Rasa's JSON form.

    Returns:
        True for a `user` event with text that is neither a widget command nor an external event.
    """
    if event.get("event") != "user":
        return False
    text = event.get("text")
    if not isinstance(text, str) or not text:
        return False
    return not is_command(event) and not is_external(event)


def customer_words(message: Event) -> str:
    """The text of a parsed message (`tracker.latest_message`), or "" for an external event.

    Args:
        message: The parsed message (or a user event).

    Returns:
        The text as Rasa received it, not normalised.
    """
    if is_external(message):
        return ""
    text = message.get("text")
    return text if isinstance(text, str) else ""


def latest_customer_index(events: Sequence[Event]) -> Optional[int]:
    """The position of the latest message the customer typed (see `is_customer_text`).

    Args:
        events: Tracker events, oldest first.

    Returns:
        Its index in `events`, or None when the customer has typed nothing.
    """
    for index in range(len(events) - 1, -1, -1):
        if is_customer_text(events[index]):
            return index
    return None


def latest_customer_message(events: Sequence[Event]) -> Optional[Event]:
    """The latest message the customer typed (see `is_customer_text`), or None.

    Args:
        events: Tracker events, oldest first.

    Returns:
        The user event itself.
    """
    index = latest_customer_index(events)
    return None if index is None else events[index]
