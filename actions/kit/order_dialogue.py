"""The questions about orders that the forms and rules ask, and what a detail on its own starts.

- `action_ask_order_id`: how every form asks for the order number. A signed-in customer is
  offered their recent orders that fit the request as buttons; anyone else is asked to type it.
  Right after "number and tail do not match" (which already asks for both again) it says nothing.
- `action_take_detail`: a message that only gives a detail (intent `inform`). An order number, a
  phone tail or a tracking number goes on with the order question of the conversation (the form
  of `order_topic`; an order's status when there is none), a parcel number for a return waiting
  for it is recorded, a height or weight goes to the size advice; anything else is acknowledged.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.kit import which_order
from actions.kit.base import Events, ShopAction
from actions.kit.details import message_details
from actions.kit.identity import verified_customer_id

# The form that collects the order of each order question (`order_topic`).
TOPIC_FORMS = {
    "check_order_status": "order_lookup_form",
    "track_logistics": "order_lookup_form",
    "report_quality_issue": "order_lookup_form",
    "ask_refund_status": "order_lookup_form",
    "price_protection": "order_lookup_form",
    "modify_order": "modify_order_form",
    "ask_invoice": "invoice_form",
    "request_return": "return_form",
    "request_exchange": "exchange_form",
    "report_size_mismatch": "exchange_form",
    "complain": "complaint_form",
}
# Responses that already ask for the order number (and tail) again.
ASKS_AGAIN = frozenset({"utter_order_not_found"})


def said_this_turn(tracker: Tracker) -> List[str]:
    """The responses the assistant gave since the customer's latest message."""
    said: List[str] = []
    for event in reversed(list(tracker.events or [])):
        if event.get("event") == "user":
            break
        if event.get("event") == "bot":
            said.append(str((event.get("metadata") or {}).get("utter_action") or ""))
    return said


class ActionAskOrderId(ShopAction):
    """Asks for the order number: the customer's own orders as buttons when signed in."""

    def name(self) -> Text:
        """The action's name in the domain (asks for the order_id slot in every form)."""
        return "action_ask_order_id"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Offers the orders that fit the request, or asks the customer to type the number."""
        if ASKS_AGAIN & set(said_this_turn(tracker)):
            return []
        customer_id = verified_customer_id(tracker)
        if customer_id is None:
            dispatcher.utter_message(response="utter_ask_order_id")
            return []
        topic = which_order.topic_of(tracker)
        candidates = which_order.candidate_orders(session, customer_id, topic)
        if candidates:
            which_order.ask_which(dispatcher, session, candidates)
        else:
            dispatcher.utter_message(response="utter_no_orders_for_account")
        return []


class ActionTakeDetail(Action):
    """A message giving only a detail: goes on with the question it belongs to."""

    def name(self) -> Text:
        """The action's name in the domain (the rule for `inform` outside a form)."""
        return "action_take_detail"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        """The form or action the detail is for, or the acknowledgement.

        Args:
            dispatcher: Where the acknowledgement goes when the detail starts nothing.
            tracker: The conversation; its latest message and `order_topic` are read.
            domain: Unused.

        Returns:
            A `FollowupAction` (and the topic it goes on with), or nothing.
        """
        found = message_details(tracker.latest_message or {})
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
        if found.heights_cm or found.weights_kg:
            return [FollowupAction("size_advice_form")]
        dispatcher.utter_message(response="utter_inform_ack")
        return []


__all__ = ["ActionAskOrderId", "ActionTakeDetail", "TOPIC_FORMS", "said_this_turn"]
