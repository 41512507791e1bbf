"""Slot validation for the forms that collect order, product and body details.

The installation booking form is validated in actions/installation_booking.py.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.kit import which_order, which_product
from actions.kit.details import message_details, recalled, remembered
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
    """Order number and phone tail: what the order resolver still needs, read from the replies.

    Anonymous customers are asked for the order number and its phone tail (only the tail when
    a parcel's tracking number is what they gave). A signed-in customer is asked for nothing
    when one of their recent orders fits the request, or a number is known; when several fit,
    the order number is asked for with their orders as buttons (`action_ask_order_id`).
    A number that proves no order is said so at once and asked for again.
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
        """The form's slots, of the order's only those the resolver still needs."""
        needed = order_slots_needed(tracker)
        return [s for s in domain_slots if s not in ORDER_SLOTS or s in needed]

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """The order number of the reply, else one given earlier in the conversation.

        While the number is asked for, a reply of other digits is taken (and re-asked as
        malformed), but never a mobile number (said wrong without being stored) and never four
        digits (the tail, taken by `extract_phone_tail`).
        """
        asked = requested(tracker, "order_id")
        found = message_details(tracker.latest_message or {}, _asked(tracker))
        if found.order_ids:
            return {"order_id": found.order_ids[-1]}
        if asked and found.mobile_tails:
            return {"order_id": None}
        runs = parsing.digit_runs(_text(tracker))
        if asked and runs and found.empty and not _bare_tail(tracker):
            return {"order_id": max(runs, key=len)}  # no detail of another kind: a wrong number
        if not tracker.get_slot("order_id"):
            earlier = recalled(tracker, "order_id")
            return {"order_id": earlier} if earlier else {}
        return {}

    async def extract_phone_tail(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """The tail of the reply (four bare digits while the tail or number is asked for)."""
        found = message_details(tracker.latest_message or {}, _asked(tracker))
        if found.phone_tails:
            return {"phone_tail": found.phone_tails[-1]}
        if requested(tracker, "phone_tail"):
            if found.mobile_tails:
                return {"phone_tail": found.mobile_tails[-1]}
            runs = parsing.digit_runs(_text(tracker))
            return {"phone_tail": runs[0]} if len(runs) == 1 else {}
        if requested(tracker, "order_id") and _bare_tail(tracker):
            return {"phone_tail": parsing.digit_runs(_text(tracker))[0]}
        if not tracker.get_slot("phone_tail"):
            earlier = recalled(tracker, "phone_tail")
            return {"phone_tail": earlier} if earlier else {}
        return {}

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

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Validates as usual; a number that proves no order is said so and asked for again."""
        events = await super().run(dispatcher, tracker, domain)
        given = {
            e.get("name") for e in events if e.get("event") == "slot" and e.get("value")
        } & set(ORDER_SLOTS)
        if not given:
            return events
        resets = proof_refused(dispatcher, tracker)
        if not resets:
            return events
        kept = [e for e in events if e.get("name") not in ("requested_slot", *ORDER_SLOTS)]
        return kept + resets + [SlotSet("requested_slot", "order_id")]


ORDER_SLOTS = ("order_id", "phone_tail")


def _asked(tracker: Tracker) -> Optional[str]:
    return tracker.get_slot("requested_slot")


def _bare_tail(tracker: Tracker) -> bool:
    """Whether the reply is four digits and nothing else (a tail, whatever was asked)."""
    return parsing.is_phone_tail(_text(tracker))


def order_slots_needed(tracker: Tracker) -> List[str]:
    """The order slots a form must still ask for (see `ValidateOrderLookupForm`).

    When the shop database cannot be read, a signed-in customer is asked nothing: the action
    after the form apologises and offers a person.
    """
    number = remembered(tracker, "order_id")
    parcel = bool(tracker.get_slot("tracking_number")) and not number
    by_parcel = parcel and which_order.topic_of(tracker) == "track_logistics"
    if verified_customer_id(tracker) is None:
        return ["phone_tail"] if by_parcel else list(ORDER_SLOTS)
    if number or by_parcel:
        return []
    try:
        with session_scope() as session:
            status = which_order.resolve(session, tracker).status
    except SQLAlchemyError:
        return []
    return ["order_id"] if status == which_order.ASK else []


def proof_refused(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """When the order number (with its tail) proves no order: the answer and the slot resets.

    Nothing while the proof is incomplete (a number without a tail from an anonymous customer)
    or the shop database cannot be read (the action after the form apologises).
    """
    try:
        with session_scope() as session:
            resolution = which_order.resolve(session, tracker)
            if resolution.status not in (which_order.NOT_THEIRS, which_order.NOT_FOUND):
                return []
            return which_order.answer_unresolved(
                dispatcher, session, tracker, resolution, offer=False
            )
    except SQLAlchemyError:
        return []


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

    async def extract_product(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """The product as the product form takes it (`product_from_message`)."""
        return product_from_message(tracker)

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
        """The product (`product_from_message`)."""
        return product_from_message(tracker)


def product_from_message(tracker: Tracker) -> Slots:
    """The `product` slot when no entity filled it.

    A short bare reply while the product is asked for is taken as its name; otherwise the
    product resolver's reading (names and model codes in the words, the product page, products
    named earlier; `which_product.slot_value`), so a product the entity extractor missed is not
    asked for.
    """
    if tracker.get_slot("product"):
        return {}
    if requested(tracker, "product"):
        reply = short_reply(tracker)
        if reply:
            return {"product": reply}
    try:
        with session_scope() as session:
            value = which_product.slot_value(session, tracker)
    except SQLAlchemyError:
        return {}
    return {"product": value} if value else {}
