"""Base of the after-sale forms: the order number and phone tail, or the signed-in customer."""

from __future__ import annotations

import abc
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.kit.forms import ValidateOrderLookupForm, requested
from actions.kit.identity import order_by_number, verified_customer_id
from shop import db
from shop.conversation import customer_words, intent_name, is_external
from shop.text import parsing

Slots = Dict[Text, Any]
# Intents whose messages never answer a free-text question of a form (nor does an external
# event's EXTERNAL_* intent: see not_an_answer).
NOT_AN_ANSWER = {
    "affirm",
    "deny",
    "greet",
    "goodbye",
    "thank",
    "bot_challenge",
    "request_human",
    "choose_persona",
}


def message_text(tracker: Tracker) -> str:
    """The customer's latest message, normalised (full-width → half-width), stripped.

    Empty for an external event (a proactive notice): "EXTERNAL: EXTERNAL_<kind>" is Rasa's
    placeholder, not the customer's words.
    """
    return parsing.normalise(customer_words(tracker.latest_message)).strip()


def verbatim_text(tracker: Tracker, limit: int = 200) -> str:
    """The customer's latest message as written (runs of blanks made one), cut to `limit`.

    What the customer tells in their own words (a complaint, a reason, a new address) is kept
    like this: not lower-cased, nothing stripped, braces and "None" included. Empty for an
    external event, like `message_text`.
    """
    return " ".join(customer_words(tracker.latest_message).split())[:limit]


def latest_intent(tracker: Tracker) -> Optional[str]:
    """The intent of the customer's latest message."""
    return intent_name(tracker.latest_message) or None


def not_an_answer(tracker: Tracker) -> bool:
    """Whether the latest message cannot answer a free-text question (yes/no/hello, a notice)."""
    return latest_intent(tracker) in NOT_AN_ANSWER or is_external(tracker.latest_message)


def free_text_answer(tracker: Tracker, slot: str, *, limit: int = 200) -> Slots:
    """Take the whole reply, as written, as the slot's value while it is asked for.

    Not a yes/no/hello, nor a command (a text the normaliser reads as "/…").
    """
    if not requested(tracker, slot) or not_an_answer(tracker):
        return {}
    text = message_text(tracker)
    if not text or text.startswith("/"):
        return {}
    return {slot: verbatim_text(tracker, limit)}


class OrderFormValidator(ValidateOrderLookupForm, abc.ABC):
    """Validates the order slots of an after-sale form; signed-in customers skip the phone tail."""

    @abc.abstractmethod
    def name(self) -> Text:
        """The action's name in the domain."""

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        """The form's slots; no phone tail when the customer is signed in."""
        slots = list(domain_slots)
        if verified_customer_id(tracker) is not None and "phone_tail" in slots:
            slots.remove("phone_tail")
        return slots

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Validates as usual; an order that is not the customer's is asked for again at once."""
        events = await super().run(dispatcher, tracker, domain)
        changed = {e.get("name") for e in events if e.get("event") == "slot"}
        if changed & {"order_id", "phone_tail"} and not self._order_is_theirs(tracker):
            dispatcher.utter_message(response="utter_order_not_found")
            events += [SlotSet("order_id", None), SlotSet("phone_tail", None)]
        return events

    @staticmethod
    def _order_is_theirs(tracker: Tracker) -> bool:
        """False only when a complete identification matches no order of the customer."""
        customer_id = verified_customer_id(tracker)
        number, tail = tracker.get_slot("order_id"), tracker.get_slot("phone_tail")
        if not number or (customer_id is None and not tail):
            return True
        try:
            with db.session_scope() as session:
                return order_by_number(session, tracker, number, tail) is not None
        except SQLAlchemyError:
            return True  # the action after the form apologises and offers a human
