"""Base of the after-sale forms: the order number and phone tail, or the signed-in customer.

The order slots are validated by `actions.kit.forms.ValidateOrderLookupForm` (through the order
resolver); this module adds what the after-sale forms share: free-text answers that are not
taken from a yes/no, a greeting or a question asked in the middle of the form.
"""

from __future__ import annotations

import abc
from typing import Any, Dict, Optional, Text

from rasa_sdk import Tracker

from actions.kit.forms import ValidateOrderLookupForm, requested
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
    # questions the forms answer in passing and then go on (data/rules/forms.yml)
    "ask_free_shipping",
    "ask_authenticity",
    "ask_delivery_time",
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
    """Validates the order slots of an after-sale form (see `ValidateOrderLookupForm`)."""

    @abc.abstractmethod
    def name(self) -> Text:
        """The action's name in the domain."""
