"""Order status and refund status, answered from the shop's records for the order's owner."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.kit.base import Events, ShopAction
from actions.kit.details import message_details
from actions.kit.which_order import order_or_answer
from shop import clock
from shop import repository as repo
from shop.clock import moment_text as shop_time
from shop.conversation import customer_words
from shop.db.models import ComplaintTicket, Order, ReturnRequest, utcnow
from shop.money import yuan
from shop.policy import aftersale as policy
from shop.policy import refunds
from shop.policy.delivery import dispatch_window
from shop.settings import to_shop_time

# What customers type when the order shows unpaid but they believe they paid.
DISPATCH_CHASE = "logistics_chase"
DISPATCH_CHASE_HOURS = 4
SAYS_PAID = re.compile(r"(已|已经|都)?(付|支付|付款|扣款|扣钱|扣费)(过|了|成功)|扣了|付过|已付")
# A refund past the moment it was promised: one chase ticket per order, a person to follow it.
REFUND_CHASE_DEMAND = "confirm the refund reached the customer"
REFUND_CHASE_HOURS = 4
# The console's reason for a person to take up a late refund (bot/agent/conversations.py).
OVERDUE_HANDOFF = "complaint"
REFUND_RESPONSES = {
    "requested": "utter_refund_requested",
    "approved": "utter_refund_awaiting_return",
    "return_shipped": "utter_refund_processing",
    "refunded": "utter_refund_done",
    "exchange_shipped": "utter_exchange_shipped",
    "rejected": "utter_refund_rejected",
    "closed": "utter_refund_closed",
}


def order_not_found(dispatcher: CollectingDispatcher) -> Events:
    """Say the order was not found and forget the number and tail so the customer can retry."""
    dispatcher.utter_message(response="utter_order_not_found")
    return [SlotSet("order_id", None), SlotSet("phone_tail", None)]


def item_summary(session: Session, order: Order) -> str:
    """One line naming every item of an order with its variant and quantity."""
    lines = []
    for item in repo.order_items(session, order):
        variant = "/".join(v for v in (item.colour, item.size) if v)
        label = f"{item.product_name}({variant})" if variant else item.product_name
        lines.append(f"{label}×{item.quantity}")
    return ", ".join(lines)


def order_card(session: Session, order: Order) -> Dict[str, Any]:
    """The order card of the agreed schema (amounts in fen, times ISO 8601 with offset)."""
    card: Dict[str, Any] = {
        "card": "order",
        "order_id": order.order_number,
        "status": order.state,
        "status_label": policy.label("order_status", order.state),
        "total_fen": int(order.payable_fen),
        "items": [
            {
                "name": item.product_name,
                "quantity": item.quantity,
                "price_fen": int(item.unit_price_fen),
            }
            for item in repo.order_items(session, order)
        ],
    }
    if order.paid_at is not None:
        card["paid_at"] = to_shop_time(order.paid_at).isoformat()
    return card


def order_facts(session: Session, order: Order) -> Dict[str, Any]:
    """Facts every order answer may use (no phone number, no address), with the order card."""
    return {
        "order_id": order.order_number,
        "items": item_summary(session, order),
        "amount": yuan(order.payable_fen),
        "amount_fen": int(order.payable_fen),
        "created_at": shop_time(order.created_at),
        "paid_at": shop_time(order.paid_at),
        "shipping_city": order.shipping_city,
        "card": order_card(session, order),
    }


def dispatch_answer(session: Session, order: Order) -> Tuple[str, Dict[str, Any]]:
    """A paid, not yet shipped order's dispatch day; past it, an apology and a chase ticket.

    The chase ticket is opened once (an open one is reused). Used for "where is my order" and
    for "why has it not shipped" alike.

    Returns:
        The response (``utter_order_status_paid`` or ``utter_order_status_paid_overdue``) and
        the facts it adds to :func:`order_facts` (``ship_by``; when late ``ticket_id`` and
        ``follow_up_by``).
    """
    window = dispatch_window(order.paid_at)
    facts: Dict[str, Any] = {"ship_by": window.latest.isoformat()}
    if clock.today() <= window.latest:
        return "utter_order_status_paid", facts
    open_chases = repo.open_tickets(
        session, order.customer_id, kind=DISPATCH_CHASE, order_id=order.id
    )
    ticket = (
        open_chases[0]
        if open_chases
        else repo.create_ticket(
            session,
            customer_id=order.customer_id,
            now=utcnow(),
            category="logistics",
            kind=DISPATCH_CHASE,
            severity="medium",
            description=f"paid, not dispatched by {window.latest.isoformat()}",
            demand="dispatch at once",
            order_id=order.id,
            follow_up_hours=DISPATCH_CHASE_HOURS,
        )
    )
    facts.update(ticket_id=ticket.id, follow_up_by=shop_time(ticket.follow_up_due))
    return "utter_order_status_paid_overdue", facts


class ActionCheckOrderStatus(ShopAction):
    """Order state, payment time, items, amount paid and where the parcel is."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_check_order_status"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Names the response for the order's state and passes its facts."""
        order, events = order_or_answer(dispatcher, tracker, session)
        if order is None:
            return events
        facts = order_facts(session, order)
        if order.state == "unpaid":
            says_paid = bool(SAYS_PAID.search(customer_words(tracker.latest_message)))
            response = "utter_order_unpaid_but_paid" if says_paid else "utter_order_status_unpaid"
        elif order.state in ("shipped", "delivered", "completed"):
            response = f"utter_order_status_{order.state}"
            facts.update(self._shipment_facts(session, order))
            facts["delivered_at"] = shop_time(order.delivered_at)
            facts["completed_at"] = shop_time(order.completed_at)
        elif order.state == "cancelled":
            response = "utter_order_status_cancelled"
            facts["cancelled_at"] = shop_time(order.cancelled_at)
        else:
            response, dispatch = dispatch_answer(session, order)
            facts.update(dispatch)
        dispatcher.utter_message(response=response, **facts)
        return events

    @staticmethod
    def _shipment_facts(session: Session, order: Order) -> Dict[str, Any]:
        view = repo.latest_shipment_for_order(session, order, utcnow(), events=1)
        if view is None:
            return {"carrier": None, "tracking_number": None, "latest_event": None}
        latest = view.events[0] if view.events else None
        return {
            "carrier": view.carrier,
            "tracking_number": view.tracking_number,
            "shipped_at": shop_time(view.shipped_at),
            "latest_event": (
                f"{shop_time(latest.occurred_at)} {latest.location} {latest.description}"
                if latest
                else None
            ),
        }


def refund_promised_by(request: ReturnRequest) -> Optional[datetime]:
    """The moment the customer was promised the refund (or the held replacement) by, if any.

    An issued refund is promised on the card by its arrival day; one under review by the end of
    its review.
    """
    if request.status == "refunded" and request.refunded_at is not None:
        return policy.refund_expected_by(request.refunded_at)
    if request.refund_state == "under_review":
        return request.review_due
    return None


def refund_chase(
    session: Session, order: Order, request: ReturnRequest, promised: datetime
) -> ComplaintTicket:
    """The open refund chase ticket of the order, opened now unless one is open already."""
    for ticket in repo.open_tickets(
        session, order.customer_id, kind="complaint", order_id=order.id
    ):
        if ticket.demand == REFUND_CHASE_DEMAND:
            return ticket
    return repo.create_ticket(
        session,
        customer_id=order.customer_id,
        now=utcnow(),
        category="price",
        severity="high",
        description=f"return {request.id}: {request.kind} promised by {promised.isoformat()}",
        demand=REFUND_CHASE_DEMAND,
        order_id=order.id,
        follow_up_hours=REFUND_CHASE_HOURS,
    )


class ActionCheckRefundStatus(ShopAction):
    """Where the order's latest return or exchange stands, from the returns records."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_check_refund_status"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Names the response for the latest request's status and passes its facts."""
        order, events = order_or_answer(dispatcher, tracker, session)
        if order is None:
            return events
        requests: List[ReturnRequest] = repo.returns_for_order(session, order)
        if not requests:
            dispatcher.utter_message(response="utter_refund_none", order_id=order.order_number)
            return events
        latest = requests[0]
        waiting = latest.status in ("requested", "approved") and not latest.return_tracking_number
        parcel = return_number_in_message(tracker, order) if waiting else None
        if parcel is not None:
            # "退货寄回去了 单号…": the number is recorded (and refunded) now, not asked for again
            return events + [
                SlotSet("return_request_id", str(latest.id)),
                SlotSet("tracking_number", parcel),
                FollowupAction("action_record_return_shipment"),
            ]
        response = REFUND_RESPONSES.get(latest.status, "utter_refund_requested")
        if waiting and latest.kind == "exchange":
            response = "utter_exchange_requested"
        if latest.kind == "exchange" and latest.refund_state == "under_review":
            response = "utter_exchange_under_review"  # the new item waits for a person
        overdue: Dict[str, Any] = {}
        person: List[EventType] = []
        promised = refund_promised_by(latest)
        if promised is not None and utcnow() > promised:
            # the same promise again would be a lie: an apology, a chase ticket and a person
            ticket = refund_chase(session, order, latest, promised)
            response = "utter_refund_overdue"
            overdue = {
                "promised_by": shop_time(promised),
                "ticket_id": ticket.id,
                "follow_up_by": shop_time(ticket.follow_up_due),
            }
            person = [SlotSet("handoff_reason", OVERDUE_HANDOFF)]  # an agent takes it up
        dispatcher.utter_message(
            response=response,
            order_id=order.order_number,
            return_kind=latest.kind,
            refund_amount=yuan(latest.refund_fen),
            requested_at=shop_time(latest.created_at),
            return_tracking_number=latest.return_tracking_number,
            return_shipped_at=shop_time(latest.return_shipped_at),
            refunded_at=shop_time(latest.refunded_at),
            refund_fen=int(latest.refund_fen),
            refund_channel=policy.label("refund_channel", "original"),
            expected_by=(
                shop_time(policy.refund_expected_by(latest.refunded_at))
                if latest.refunded_at is not None
                else None
            ),
            open_requests=sum(1 for r in requests if r.status not in ("refunded", "closed")),
            review_hours=refunds.REVIEW_HOURS,
            review_due=shop_time(latest.review_due),
            card=order_card(session, order),
            **overdue,
        )
        return events + person + [SlotSet("return_request_id", str(latest.id) if waiting else None)]


def return_number_in_message(tracker: Tracker, order: Order) -> Optional[str]:
    """A return parcel's number in the latest message, or None.

    A tracking number that is none of the order's own parcels; the record action checks it fully.
    """
    sent = {s.tracking_number for s in order.shipments}
    found = message_details(tracker.latest_message or {}).tracking_numbers
    usable = [n for n in found if n not in sent]
    return usable[-1] if usable else None
