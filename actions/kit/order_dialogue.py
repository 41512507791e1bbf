"""How every form asks for the order number, and which form collects each question's order.

`action_ask_order_id` asks; `TOPIC_FORMS` names the form of each order question (used by
`actions.take_detail`).

A signed-in customer is offered their recent orders that fit the request as buttons; anyone else
is asked to type the number; for a complaint either question apologises first (a response of its
own, `<question>_complaint`, still an `utter_ask_` question). Right after "number and tail do
not match" (which already asks for both again) nothing more is said.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.kit import which_order
from actions.kit.base import Events, ShopAction
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
# Requests whose order is asked for with an apology first (a complaint: the customer is upset).
APOLOGISING_TOPICS = frozenset({"complain"})
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


def asking_response(response: str, topic: Optional[str]) -> str:
    """The question for the order: for a complaint, the one that apologises first.

    Args:
        response: The plain question (`utter_ask_order_id` or `utter_ask_which_order`).
        topic: The request the order is wanted for (see `which_order.topic_of`).

    Returns:
        The response that apologises first for a complaint, else `response`.
    """
    if topic in APOLOGISING_TOPICS:
        return f"{response}_complaint"
    return response


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
        topic = which_order.topic_of(tracker)
        customer_id = verified_customer_id(tracker)
        if customer_id is None:
            dispatcher.utter_message(response=asking_response("utter_ask_order_id", topic))
            return []
        candidates = which_order.candidate_orders(session, customer_id, topic)
        if candidates:
            dispatcher.utter_message(
                response=asking_response("utter_ask_which_order", topic),
                choices=which_order.order_choices(session, candidates),
            )
        else:
            dispatcher.utter_message(response="utter_no_orders_for_account")
        return []


__all__ = ["ActionAskOrderId", "TOPIC_FORMS", "asking_response", "said_this_turn"]
