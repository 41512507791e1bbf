"""The details the customer gave in this conversation, each kept in the slot of its own kind.

`ActionExtractDetails` is the custom slot mapping (domain.yml) of the detail slots: after every
customer message it reads the message with `shop.text.details` (format first, then the words
around it and the question the assistant asked) and sets only slots of the kind found: a mobile
number typed as a tracking number sets neither `tracking_number` nor `phone_tail`; four digits
become the tail only where the words say so; an order number is never a tracking number.

It also recalls: a detail slot that is empty although the customer gave the detail earlier in
this session (a message whose slots Rasa reverted after a "did you mean" question, or one read
before the question it answered) is set again from that message. A slot an action emptied on
purpose (an order that was not found, a new session) is only refilled from messages after that,
except the other half of an order's proof: after "order number and tail do not match" the
customer corrects one of them, and the one they gave before is used with the correction.

`topic_messages` gives the customer's messages of the current request, for details that belong
to one request only (the size of an exchange).
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from shop.conversation import intent_name, is_command, is_external
from shop.text import details as kinds
from shop.text.details import Details, newest, read_details

REQUESTED = "requested_slot"
# Slots filled by this action (domain.yml maps them to it), and those recalled when emptied by
# Rasa rather than by an action.
DETAIL_SLOTS = ("order_id", "phone_tail", "tracking_number", "height", "weight", "size")
RECALLED_SLOTS = ("order_id", "phone_tail")
# An order number and its phone tail prove an order together: after "not found" the customer
# corrects one of them, and the other one they gave before still counts.
PROOF_PAIR = {"order_id": "phone_tail", "phone_tail": "order_id"}
# Intents that carry no request of their own: a detail, yes/no, small talk, an unread message.
NEUTRAL_INTENTS = frozenset(
    {
        "inform",
        "affirm",
        "deny",
        "greet",
        "goodbye",
        "thank",
        "chitchat",
        "bot_challenge",
        "choose_persona",
        "nlu_fallback",
        "out_of_scope",
    }
)

Message = Mapping[str, Any]


def _parse(message: Message) -> Mapping[str, Any]:
    parse = message.get("parse_data")
    return parse if isinstance(parse, Mapping) else message


def message_details(message: Message, asked: Optional[str] = None) -> Details:
    """The details of one customer message (a user event or `tracker.latest_message`).

    A widget command ("/request_exchange") is read by its entities only, a proactive notice
    not at all.
    """
    if is_external(message):
        return Details()
    text = message.get("text")
    words = "" if not isinstance(text, str) or is_command(message) else text
    entities = [e for e in _parse(message).get("entities") or [] if isinstance(e, Mapping)]
    return read_details(words, entities, asked)


def session_messages(tracker: Tracker) -> List[Tuple[Message, Optional[str]]]:
    """The customer's messages of this session, oldest first, each with the slot then asked for.

    Reverted messages are included: what the customer wrote stays what they wrote.
    """
    events = list(tracker.events or [])
    start = max(
        (i for i, e in enumerate(events) if e.get("event") == "session_started"), default=-1
    )
    asked: Optional[str] = None
    found: List[Tuple[Message, Optional[str]]] = []
    for event in events[start + 1 :]:
        kind = event.get("event")
        if kind == "slot" and event.get("name") == REQUESTED:
            asked = event.get("value")
        elif kind == "user" and not is_external(event):
            found.append((event, asked))
    return found


def _emptied_at(tracker: Tracker, slot: str) -> int:
    """The index in the events of the last time an action emptied the slot (-1: never)."""
    events = list(tracker.events or [])
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if event.get("event") == "session_started":
            return index
        if (
            event.get("event") == "slot"
            and event.get("name") == slot
            and event.get("value") is None
        ):
            return index
    return -1


def slot_values(found: Details, asked: Optional[str]) -> Dict[str, Any]:
    """The slot values one message's details give (only slots of the kind found).

    The last of each kind counts ("不是2024…是2024…"). A mobile number gives the tail only while
    the tail is asked for; a relative size (大一码) fills no `size` slot.
    """
    values: Dict[str, Any] = {}
    tail = newest(found.phone_tails) or (
        newest(found.mobile_tails) if asked == kinds.PHONE_TAIL else None
    )
    candidates = {
        "order_id": newest(found.order_ids),
        "phone_tail": tail,
        "tracking_number": newest(found.tracking_numbers),
        "height": f"{found.heights_cm[-1]}cm" if found.heights_cm else None,
        "weight": f"{found.weights_kg[-1]:g}kg" if found.weights_kg else None,
        "size": newest(s for s in found.sizes if not s.endswith("一码")),
    }
    for slot, value in candidates.items():
        if value is not None:
            values[slot] = value
    return values


def recalled(tracker: Tracker, slot: str, *, past_resets: bool = False) -> Optional[str]:
    """The newest value of a slot's kind the customer gave since an action last emptied it.

    Args:
        tracker: The conversation.
        slot: "order_id" or "phone_tail" (any of DETAIL_SLOTS works).
        past_resets: Look back to the start of the session, also before the slot was emptied.

    Returns:
        The value, or None when none was given since.

    """
    events = list(tracker.events or [])
    since = -1 if past_resets else _emptied_at(tracker, slot)
    later = {id(e) for e in events[since + 1 :]}
    for message, asked in reversed(session_messages(tracker)):
        if id(message) not in later:
            break
        value = slot_values(message_details(message, asked), asked).get(slot)
        if value is not None:
            return value
    return None


def remembered(tracker: Tracker, slot: str) -> Optional[str]:
    """The value of the slot's kind in the latest message, else the slot's, else `recalled`."""
    asked = tracker.get_slot(REQUESTED)
    latest = slot_values(message_details(tracker.latest_message or {}, asked), asked).get(slot)
    return latest or tracker.get_slot(slot) or recalled(tracker, slot)


def typed_order_numbers(tracker: Tracker) -> List[str]:
    """Every order number the customer typed in this session, oldest first."""
    numbers: List[str] = []
    for message, asked in session_messages(tracker):
        numbers += message_details(message, asked).order_ids
    return list(dict.fromkeys(numbers))


def topic_messages(tracker: Tracker, intents: Iterable[str]) -> List[Message]:
    """The customer's messages of the current request, newest first.

    Everything since the newest message with one of the request's intents, that message, and
    the details-only or unread messages just before it (an order number sent first, a message
    that went to "did you mean"); a message with another request ends the list.
    """
    topic = frozenset(intents)
    found: List[Message] = []
    started = False
    for message, _ in reversed(session_messages(tracker)):
        intent = intent_name(message)
        if not started:
            found.append(message)
            started = intent in topic
        elif intent in topic or intent in NEUTRAL_INTENTS:
            found.append(message)
        else:
            break
    return found


class ActionExtractDetails(Action):
    """Fills the detail slots from each customer message, each with a value of its own kind."""

    def name(self) -> Text:
        """The action's name in the domain (the custom slot mapping of DETAIL_SLOTS)."""
        return "action_extract_details"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        """Slot events for the details of the latest message, and details recalled.

        Args:
            dispatcher: Unused: the rules and forms answer.
            tracker: The conversation; its latest message is read.
            domain: Unused.

        Returns:
            `SlotSet` events, only for slots whose value changes.
        """
        asked = tracker.get_slot(REQUESTED)
        values = slot_values(message_details(tracker.latest_message or {}, asked), asked)
        for slot in RECALLED_SLOTS:
            if slot not in values and not tracker.get_slot(slot):
                corrected = PROOF_PAIR[slot] in values
                value = recalled(tracker, slot, past_resets=corrected)
                if value is not None:
                    values[slot] = value
        return [
            SlotSet(slot, value)
            for slot, value in values.items()
            if value != tracker.get_slot(slot)
        ]


def entity_values(message: Message, names: Sequence[str]) -> List[str]:
    """The values of a message's entities with these names, in order."""
    return [
        str(e.get("value"))
        for e in _parse(message).get("entities") or []
        if isinstance(e, Mapping) and e.get("entity") in names and e.get("value")
    ]


__all__ = [
    "ActionExtractDetails",
    "DETAIL_SLOTS",
    "entity_values",
    "message_details",
    "recalled",
    "remembered",
    "session_messages",
    "slot_values",
    "topic_messages",
    "typed_order_numbers",
]
