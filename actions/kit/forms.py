"""Slot validation for the forms that collect order, product and body details.

The installation booking form is validated in actions/installation_booking.py.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.kit import which_product
from actions.kit.identity import verified_customer_id
from shop.conversation import customer_words, intent_name, is_external
from shop.db import session_scope
from shop.text import parsing

Slots = Dict[Text, Any]
# The size advice form's measurement slots and the size chart ranges they are compared with.
SIZE_SLOT_KEYS = {"height": "height_cm", "weight": "weight_kg"}


def requested(tracker: Tracker, slot: str) -> bool:
    """Whether the form is asking for this slot now."""
    return tracker.get_slot("requested_slot") == slot


def _text(tracker: Tracker) -> str:
    """The customer's latest words; none for an external event (a proactive notice)."""
    return customer_words(tracker.latest_message)


class ValidateOrderLookupForm(FormValidationAction):
    """Order number and phone tail: read from entities or from the bare reply.

    A signed-in customer is asked for neither: the lookup answers about their latest order
    (naming its number, so they can give another one).
    """

    def name(self) -> Text:
        """The action's name in the domain."""
        return "validate_order_lookup_form"

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        """The form's slots; none for a signed-in customer."""
        if verified_customer_id(tracker) is not None:
            return []
        return list(domain_slots)

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Takes an order number typed without context while it is being asked for."""
        if not requested(tracker, "order_id"):
            return {}
        found = parsing.find_order_id(_text(tracker))
        if found:
            return {"order_id": found}
        runs = parsing.digit_runs(_text(tracker))
        return {"order_id": max(runs, key=len)} if runs else {}

    async def extract_phone_tail(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Takes four bare digits while the phone tail is being asked for."""
        if not requested(tracker, "phone_tail"):
            return {}
        runs = parsing.digit_runs(_text(tracker))
        return {"phone_tail": runs[0]} if len(runs) == 1 else {}

    def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Accepts only 13-digit order numbers starting with 20."""
        if parsing.is_order_id(value):
            return {"order_id": parsing.find_order_id(str(value))}
        dispatcher.utter_message(response="utter_invalid_order_id")
        return {"order_id": None}

    def validate_phone_tail(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Accepts exactly four digits."""
        if parsing.is_phone_tail(value):
            return {"phone_tail": parsing.normalise(str(value)).strip()}
        if requested(tracker, "phone_tail"):
            dispatcher.utter_message(response="utter_invalid_phone_tail")
        return {"phone_tail": None}


class ValidateSizeAdviceForm(FormValidationAction):
    """Height and weight in the many ways customers write them (only for charts that use them)."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "validate_size_advice_form"

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        """Height and weight only when the product's size chart has ranges for them.

        Shoes are sized by foot length (asked by the advice itself), and a product without a
        chart needs no measurement at all; while the product is unknown, or the shop database
        cannot be read, every slot is asked as usual.
        """
        if not tracker.get_slot("product"):
            return domain_slots
        try:
            with session_scope() as session:
                product = which_product.resolve(session, tracker).product
                chart = list(product.size_chart or []) if product is not None else None
        except SQLAlchemyError:
            return domain_slots
        if chart is None:
            return domain_slots
        measured = {key for row in chart for key in row}
        return [s for s in domain_slots if s not in SIZE_SLOT_KEYS or SIZE_SLOT_KEYS[s] in measured]

    async def extract_height(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Reads a height from the bare reply while it is being asked for."""
        if requested(tracker, "height") and parsing.parse_height_cm(_text(tracker)):
            return {"height": _text(tracker)}
        return {}

    async def extract_weight(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Reads a weight from the bare reply while it is being asked for."""
        if requested(tracker, "weight") and parsing.parse_weight_kg(_text(tracker)):
            return {"weight": _text(tracker)}
        return {}

    def validate_height(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Keeps the height as centimetres, or re-asks."""
        height = parsing.parse_height_cm(str(value))
        if height is None:
            dispatcher.utter_message(response="utter_invalid_height")
            return {"height": None}
        return {"height": f"{height}cm"}

    def validate_weight(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Keeps the weight as kilograms, or re-asks."""
        weight = parsing.parse_weight_kg(str(value))
        if weight is None:
            dispatcher.utter_message(response="utter_invalid_weight")
            return {"weight": None}
        return {"weight": f"{weight:g}kg"}


NOT_AN_ANSWER = {
    "affirm",
    "deny",
    "greet",
    "goodbye",
    "thank",
    "chitchat",
    "bot_challenge",
    "request_human",
    "choose_persona",
    "complain",
}


def short_reply(tracker: Tracker, limit: int = 12) -> Optional[str]:
    """The normalised reply when it is short and not a yes/no, greeting or other non-answer."""
    message = tracker.latest_message
    if intent_name(message) in NOT_AN_ANSWER or is_external(message):
        return None
    text = parsing.normalise(_text(tracker)).strip()
    return text if 0 < len(text) <= limit and not text.startswith("/") else None


class ValidateProductForm(FormValidationAction):
    """The product a stock or product question is about."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "validate_product_form"

    async def extract_product(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Takes a short bare reply as the product name while it is being asked for."""
        if not requested(tracker, "product") or tracker.get_slot("product"):
            return {}
        reply = short_reply(tracker)
        return {"product": reply} if reply else {}
