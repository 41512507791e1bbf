"""The one order resolver: which order the customer means, or what must be asked or said.

Sources, in order:

1. The order number in the current message or given earlier in this conversation (the
   `order_id` slot, filled and recalled by `actions.kit.details`). A signed-in customer's own
   order needs nothing more; anything else needs the buyer's phone tail, checked within the
   guessing limits (`actions.kit.identity.order_by_number`).
2. A signed-in customer without a number: their recent orders that fit the request (a return is
   about a delivered order, a refund about an order with a return ...), narrowed to those in
   the state the message names them by (那个还没付款的, 已经发货的那单: `shop.text.order_states`)
   when any are. One is used, and the answer says which; several are offered as buttons
   (masked number, product, day); none is said so.

A number that is not the signed-in customer's is named as such ("not found under your account"):
never replaced by one of their own orders, and after it the customer's single recent order is
offered as a button rather than taken silently. "Not found" and "not yours" stay one answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.kit.details import remembered, typed_order_numbers
from actions.kit.identity import order_by_number, verified_customer_id
from shop import clock
from shop import repository as repo
from shop.conversation import intent_name
from shop.db.models import Order
from shop.policy import aftersale as policy
from shop.repository.installation import INSTALLABLE_ORDER_STATES
from shop.repository.order_choice import recent_orders
from shop.text import inputs
from shop.text.order_states import states_named

FOUND, ASK, NOT_THEIRS, NOT_FOUND = "found", "ask", "not_theirs", "not_found"
NEED_NUMBER, NEED_TAIL, NO_ORDERS = "need_number", "need_tail", "no_orders"
RECENT_DAYS = 90
MAX_CHOICES = 5
TITLE_PRODUCT_CHARS = 14
# Which of a signed-in customer's recent orders a request is about, best tier first: the first
# tier that holds any order gives the candidates; no tier at all means every recent order.
# A tier may look back fewer days than RECENT_DAYS ("days"): what was bought this month first.
LATELY = 30
AFTER_DELIVERY = (
    {"states": policy.RECEIVED_STATES, "days": LATELY},
    {"states": policy.RECEIVED_STATES},
    {"states": ("shipped",)},
)
INSTALLABLE = {"installable": True, "states": INSTALLABLE_ORDER_STATES}
TOPIC_TIERS: Dict[str, Tuple[Dict[str, Any], ...]] = {
    "check_order_status": ({"states": ("unpaid", "paid", "shipped")},),
    "track_logistics": ({"states": ("paid", "shipped")}, {"states": policy.RECEIVED_STATES}),
    "ask_delivery_time": ({"states": ("paid",)}, {"states": ("shipped",)}),
    "modify_order": ({"states": policy.MODIFIABLE_STATES},),
    "ask_invoice": (
        {"states": policy.RECEIVED_STATES, "days": LATELY},
        {"states": policy.RECEIVED_STATES},
        {"states": ("paid", "shipped")},
    ),
    "request_return": AFTER_DELIVERY,
    "request_exchange": AFTER_DELIVERY,
    "report_size_mismatch": AFTER_DELIVERY,
    "report_quality_issue": AFTER_DELIVERY,
    "ask_refund_status": ({"with_returns": True, "days": LATELY}, {"with_returns": True}),
    "price_protection": ({"states": ("paid", "shipped", *policy.RECEIVED_STATES), "days": LATELY},),
    "book_installation": ({**INSTALLABLE, "days": LATELY}, INSTALLABLE),
}
# The request an order is needed for: the caller's, else the active form's, else the
# order_topic slot, else the latest intent.
ORDER_TOPIC_SLOT = "order_topic"
FORM_TOPICS = {
    "return_form": "request_return",
    "modify_order_form": "modify_order",
    "invoice_form": "ask_invoice",
    "complaint_form": "complain",
    "installation_form": "book_installation",
}


@dataclass(frozen=True)
class OrderResolution:
    """Which order the conversation is about, or why none can be named yet.

    Attributes:
        status: FOUND, ASK (several of a signed-in customer's orders fit), NOT_THEIRS (a number
            a signed-in customer may not see), NOT_FOUND (number and tail do not prove an
            order), NEED_NUMBER, NEED_TAIL (a number without its tail) or NO_ORDERS.
        order: The order when found.
        number: The order number in question (as given, cleaned).
        implicit: Found among the signed-in customer's orders without a number given.
        candidates: The customer's orders to choose from.

    """

    status: str
    order: Optional[Order] = None
    number: Optional[str] = None
    implicit: bool = False
    candidates: Tuple[Order, ...] = ()


def topic_of(tracker: Tracker, topic: Optional[str] = None) -> Optional[str]:
    """The request the order is wanted for (see ORDER_TOPIC_SLOT)."""
    form = (tracker.active_loop or {}).get("name")
    return (
        topic
        or FORM_TOPICS.get(form or "")
        or tracker.get_slot(ORDER_TOPIC_SLOT)
        or intent_name(tracker.latest_message or {})
    )


def candidate_orders(session: Session, customer_id: int, topic: Optional[str]) -> List[Order]:
    """A signed-in customer's recent orders that fit the request, newest first (at most 5).

    Recent is the last RECENT_DAYS days (a tier may look back less: this month's deliveries
    come before older ones); a customer with no order in them gets their latest orders of any
    age.
    """
    now = clock.now()
    since = now - timedelta(days=RECENT_DAYS)
    for tier in TOPIC_TIERS.get(topic or "", ()):
        rules = dict(tier)
        days = rules.pop("days", RECENT_DAYS)
        found = recent_orders(
            session, customer_id, since=now - timedelta(days=days), limit=MAX_CHOICES, **rules
        )
        if found:
            return found
    found = recent_orders(session, customer_id, since=since, limit=MAX_CHOICES)
    return found or repo.orders_for_customer(session, customer_id, limit=MAX_CHOICES)


def named_by_state(candidates: Tuple[Order, ...], text: str) -> Tuple[Order, ...]:
    """The candidates in the state the message names them by (那个还没付款的), when any are.

    Several orders stay several when the message names no state or none of them is in it.
    """
    states = states_named(text)
    if len(candidates) < 2 or not states:
        return candidates
    named = tuple(order for order in candidates if order.state in states)
    return named or candidates


def resolve(session: Session, tracker: Tracker, topic: Optional[str] = None) -> OrderResolution:
    """Which order the customer means (see the module's rules).

    Args:
        session: Open session.
        tracker: The conversation.
        topic: The request the order is needed for (a form's), when the slot may not tell.

    Returns:
        The resolution; an order only when the customer may see it.

    """
    customer_id = verified_customer_id(tracker)
    given, given_tail = remembered(tracker, "order_id"), remembered(tracker, "phone_tail")
    number, tail = inputs.order_number(given), inputs.phone_tail(given_tail)
    if given and number is None:  # a malformed number finds nothing, like any other
        said = inputs.clean_text(given, 20)
        return OrderResolution(NOT_THEIRS if customer_id is not None else NOT_FOUND, None, said)
    if number is not None:
        order = order_by_number(session, tracker, number, tail)
        if order is not None:
            return OrderResolution(FOUND, order, number)
        if customer_id is not None:
            return OrderResolution(NOT_THEIRS, None, number)
        return OrderResolution(NOT_FOUND if given_tail else NEED_TAIL, None, number)
    if customer_id is None:
        return OrderResolution(NEED_NUMBER)
    candidates = named_by_state(
        tuple(candidate_orders(session, customer_id, topic_of(tracker, topic))),
        (tracker.latest_message or {}).get("text") or "",
    )
    if not candidates:
        return OrderResolution(NO_ORDERS)
    if len(candidates) == 1 and not typed_order_numbers(tracker):
        only = candidates[0]
        return OrderResolution(FOUND, only, only.order_number, True, candidates)
    return OrderResolution(ASK, candidates=candidates)


def identified_order(
    session: Session, tracker: Tracker, topic: Optional[str] = None
) -> Optional[Order]:
    """The order the customer means and may see, or None (for every other outcome alike)."""
    return resolve(session, tracker, topic).order


def choice_title(session: Session, order: Order) -> str:
    """A button's title for an order: masked number, first product (+ more), the day ordered.

    Only the last six digits of the number are shown; the payload carries the whole number.
    """
    items = repo.order_items(session, order)
    name = items[0].product_name if items else ""
    if len(name) > TITLE_PRODUCT_CHARS:
        name = name[: TITLE_PRODUCT_CHARS - 1] + "…"
    more = f" +{len(items) - 1}" if len(items) > 1 else ""
    day = clock.day_text(order.created_at) or ""
    return f"…{order.order_number[-6:]} · {name}{more} · {day}".strip(" ·")


def order_choices(session: Session, orders: Iterable[Order]) -> List[Dict[str, str]]:
    """Buttons naming the orders; each sends the order's number (what the customer would type).

    A plain number passes every channel's command guard, answers the form that asks for it,
    and outside a form goes on with the open order question (`action_take_detail`).
    """
    return [
        {"title": choice_title(session, order), "payload": order.order_number}
        for order in list(orders)[:MAX_CHOICES]
    ]


def ask_which(
    dispatcher: CollectingDispatcher, session: Session, candidates: Sequence[Order]
) -> None:
    """Asks which of the customer's orders is meant, the orders as buttons."""
    dispatcher.utter_message(
        response="utter_ask_which_order", choices=order_choices(session, candidates)
    )


def answer_unresolved(
    dispatcher: CollectingDispatcher,
    session: Session,
    tracker: Tracker,
    resolution: OrderResolution,
    topic: Optional[str] = None,
    *,
    offer: bool = True,
) -> List[EventType]:
    """Says why no order can be named, or asks what is missing; the slot events that go with it.

    A number that proves nothing is forgotten so it can be given again (a signed-in customer
    hears it is not under their account and, with `offer`, is offered their own orders; a form
    offers them when it asks for the number again).
    """
    status = resolution.status
    if status == NOT_THEIRS:
        dispatcher.utter_message(
            response="utter_order_not_found_for_account", order_id=resolution.number
        )
        customer_id = verified_customer_id(tracker)
        candidates = candidate_orders(session, customer_id, topic_of(tracker, topic))
        if candidates and offer:
            ask_which(dispatcher, session, candidates)
        return [SlotSet("order_id", None)]
    if status == NOT_FOUND:
        dispatcher.utter_message(response="utter_order_not_found")
        return [SlotSet("order_id", None), SlotSet("phone_tail", None)]
    if status == ASK:
        ask_which(dispatcher, session, resolution.candidates)
    elif status == NO_ORDERS:
        dispatcher.utter_message(response="utter_no_orders_for_account")
    elif status == NEED_TAIL:
        dispatcher.utter_message(response="utter_ask_phone_tail")
    else:
        dispatcher.utter_message(response="utter_ask_order_id")
    return []


def found_events(
    dispatcher: CollectingDispatcher, session: Session, resolution: OrderResolution
) -> List[EventType]:
    """For an order taken without a number: says which one, and keeps it for the conversation."""
    if not resolution.implicit or resolution.order is None:
        return []
    order = resolution.order
    items = repo.order_items(session, order)
    dispatcher.utter_message(
        response="utter_order_assumed",
        order_id=order.order_number,
        items=", ".join(f"{i.product_name}×{i.quantity}" for i in items),
    )
    return [SlotSet("order_id", order.order_number)]


def order_or_answer(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    session: Session,
    topic: Optional[str] = None,
) -> Tuple[Optional[Order], List[EventType]]:
    """The order meant, with the events to return; else the answer why not, and None.

    Args:
        dispatcher: Where to say which order was taken, or why none could be.
        tracker: The conversation.
        session: Open session.
        topic: The request the order is needed for, when the slot may not tell.

    Returns:
        The order (or None) and the slot events the action must return.

    """
    resolution = resolve(session, tracker, topic)
    if resolution.status == FOUND:
        return resolution.order, found_events(dispatcher, session, resolution)
    return None, answer_unresolved(dispatcher, session, tracker, resolution, topic)


__all__ = [
    "ASK",
    "FOUND",
    "NEED_NUMBER",
    "NEED_TAIL",
    "NOT_FOUND",
    "NOT_THEIRS",
    "NO_ORDERS",
    "OrderResolution",
    "answer_unresolved",
    "candidate_orders",
    "identified_order",
    "order_choices",
    "order_or_answer",
    "resolve",
]
