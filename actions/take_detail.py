"""A message that only gives a detail (intent `inform` outside a form) goes on with its question.

- An order number, a phone tail or a tracking number: the order question of the conversation
  (the form of `order_topic` starts again with it; an order's status when there was none, a
  parcel's whereabouts for a tracking number alone). A parcel number while a return waits for
  one is recorded at once.
- A product ("那燃气灶B5呢", "腰果呢") after a product question (price, stock, gift, discount,
  installation, warranty, authenticity, free shipping): the same question, answered for it.
- A height or weight: the size advice.
- Anything else is acknowledged (`utter_inform_ack`).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.kit.details import NEUTRAL_INTENTS, entity_values, message_details, session_messages
from actions.kit.order_dialogue import TOPIC_FORMS
from actions.presale.authenticity import ActionCheckAuthenticity
from actions.presale.catalog import ActionCheckStock, ActionProductInfo
from actions.presale.delivery import ActionCheckFreeShipping
from actions.presale.discounts import ActionCheckDiscount
from actions.presale.gifts import ActionSuggestGift
from actions.presale.installation import ActionInstallationInfo
from actions.presale.warranty import ActionCheckWarranty
from shop.conversation import customer_words, intent_name
from shop.repository.product_match import model_codes

# The product questions a product named on its own goes on with, and the action answering each.
PRODUCT_QUESTIONS = {
    "ask_stock": ActionCheckStock,
    "ask_product_info": ActionProductInfo,
    "ask_discount": ActionCheckDiscount,
    "ask_gift": ActionSuggestGift,
    "ask_installation": ActionInstallationInfo,
    "ask_warranty": ActionCheckWarranty,
    "ask_authenticity": ActionCheckAuthenticity,
    "ask_free_shipping": ActionCheckFreeShipping,
}


def last_question(tracker: Tracker) -> Optional[str]:
    """The intent of the customer's latest question before this message, in this session."""
    messages = [message for message, _ in session_messages(tracker)]
    if messages and messages[-1].get("text") == (tracker.latest_message or {}).get("text"):
        messages = messages[:-1]  # the message being answered
    for message in reversed(messages):
        intent = intent_name(message)
        if intent and intent not in NEUTRAL_INTENTS:
            return intent
    return None


def names_product(message: Dict[str, Any]) -> bool:
    """Whether a message names a product: a product entity or a model code (B5, H16)."""
    return bool(entity_values(message, ("product",)) or model_codes(customer_words(message)))


class ActionTakeDetail(Action):
    """A message giving only a detail: goes on with the question it belongs to."""

    def name(self) -> Text:
        """The action's name in the domain (the rule for `inform` outside a form)."""
        return "action_take_detail"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        """The form or answer the detail is for, or the acknowledgement.

        Args:
            dispatcher: Where the answer or the acknowledgement goes.
            tracker: The conversation; its latest message and `order_topic` are read.
            domain: The domain (passed on to the answering action).

        Returns:
            A `FollowupAction` (and the topic it goes on with), an answer's events, or nothing.
        """
        message = tracker.latest_message or {}
        found = message_details(message)
        if found.tracking_numbers and tracker.get_slot("return_request_id"):
            return [FollowupAction("action_record_return_shipment")]
        if found.order_ids or found.phone_tails or found.tracking_numbers:
            topic = tracker.get_slot("order_topic")
            events: List[EventType] = []
            if topic not in TOPIC_FORMS:
                by_parcel = found.tracking_numbers and not found.order_ids
                topic = "track_logistics" if by_parcel else "check_order_status"
                events.append(SlotSet("order_topic", topic))
            return events + [FollowupAction(TOPIC_FORMS[topic])]
        question = last_question(tracker)
        if question in PRODUCT_QUESTIONS and names_product(message):
            return await PRODUCT_QUESTIONS[question]().run(dispatcher, tracker, domain)
        if found.heights_cm or found.weights_kg:
            return [FollowupAction("size_advice_form")]
        dispatcher.utter_message(response="utter_inform_ack")
        return []


__all__ = ["ActionTakeDetail", "PRODUCT_QUESTIONS", "last_question", "names_product"]
