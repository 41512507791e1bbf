"""Logistics tracking with the latest events.

Stalled parcels get a chase ticket, parcels shown as delivered that the customer did not receive
get an investigation ticket. A paid order with no parcel yet ("怎么还没发货") is told its dispatch
day, and past it gets the apology and the chase ticket of the order status answer.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Dict, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.kit.base import Events, ShopAction
from actions.kit.details import remembered
from actions.kit.identity import parcel_by_number
from actions.kit.which_order import order_or_answer
from actions.orders.status import dispatch_answer, order_facts, order_not_found, shop_time
from shop import repository as repo
from shop.conversation import customer_words
from shop.db.models import ComplaintTicket, Order, utcnow
from shop.policy.aftersale import label
from shop.repository.logistics import ShipmentView
from shop.settings import to_shop_time

NOT_RECEIVED_SLOT = "delivery_not_received"
# What customers type when the parcel shows as signed for but never reached them.
NOT_RECEIVED = re.compile(r"没收到|未收到|没有收到|没拿到|没见到|签收了但|显示签收.*(没|未)")
CHASE_HOURS = 24
INVESTIGATION_HOURS = 4


def says_not_received(tracker: Tracker) -> bool:
    """Whether the customer says the parcel did not arrive.

    Looks at the latest message and back to the message that asked about the parcel (the order
    number and phone tail usually come in between), or at the slot.
    """
    if tracker.get_slot(NOT_RECEIVED_SLOT) in (True, "true", "True", "yes"):
        return True
    if NOT_RECEIVED.search(customer_words(tracker.latest_message)):
        return True
    for event in reversed(tracker.events or []):
        if event.get("event") != "user":
            continue
        if NOT_RECEIVED.search(str(event.get("text") or "")):
            return True
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent == "track_logistics":
            return False
    return False


def _ticket(
    session: Session, view: ShipmentView, customer_id: int, kind: str, now: datetime
) -> ComplaintTicket:
    """The open ticket of this kind for the parcel, opened now unless one is already open."""
    existing = repo.open_tickets(session, customer_id, kind=kind, shipment_id=view.shipment_id)
    if existing:
        return existing[0]
    stalled = kind == "logistics_chase"
    return repo.create_ticket(
        session,
        customer_id=customer_id,
        now=now,
        category="logistics",
        kind=kind,
        severity="medium" if stalled else "high",
        description=(
            f"{view.carrier} {view.tracking_number}: no tracking update for "
            f"{view.hours_since_update} h"
            if stalled
            else f"{view.carrier} {view.tracking_number}: delivered but not received"
        ),
        demand="chase the carrier" if stalled else "find the parcel or resend",
        order_id=view.order_id,
        shipment_id=view.shipment_id,
        follow_up_hours=CHASE_HOURS if stalled else INVESTIGATION_HOURS,
    )


def tracking_facts(view: ShipmentView) -> Dict[str, Any]:
    """Carrier, number and the latest (up to three) events in the shop's time zone."""
    events = [
        {
            "time": shop_time(e.occurred_at),
            "place": e.location,
            "description": e.description,
        }
        for e in view.events[:3]
    ]
    latest = events[0] if events else {"time": None, "place": None, "description": None}
    return {
        "order_id": view.order_number,
        "carrier": view.carrier,
        "tracking_number": view.tracking_number,
        "shipped_at": shop_time(view.shipped_at),
        "latest_time": latest["time"],
        "latest_place": latest["place"],
        "latest_description": latest["description"],
        "events": "\n".join(f"{e['time']} {e['place']} {e['description']}" for e in events),
        "tracking_events": events,
        "card": logistics_card(view),
    }


def logistics_card(view: ShipmentView) -> Dict[str, Any]:
    """The logistics card of the agreed schema (event times ISO 8601 with offset)."""
    return {
        "card": "logistics",
        "carrier": view.carrier,
        "tracking_number": view.tracking_number,
        "status_label": label("shipment_status", view.status),
        "events": [
            {"time": to_shop_time(e.occurred_at).isoformat(), "text": e.description}
            for e in view.events
        ],
    }


class ActionTrackLogistics(ShopAction):
    """Where the parcel is; stalled parcels are chased, missing deliveries investigated."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_track_logistics"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Finds the parcel by order or tracking number and answers with its facts."""
        now = utcnow()
        tracking = tracker.get_slot("tracking_number")
        if tracking and not remembered(tracker, "order_id"):
            view = parcel_by_number(session, tracker, tracking, now)
            if view is None:
                return order_not_found(dispatcher)
            return answer_parcel(dispatcher, tracker, session, view, now)
        order, events = order_or_answer(dispatcher, tracker, session, "track_logistics")
        if order is None:
            return events
        return events + answer_order_parcel(dispatcher, tracker, session, order, now)


def answer_order_parcel(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    session: Session,
    order: Order,
    now: datetime,
) -> Events:
    """Where an order's parcel is; before dispatch, its dispatch day (late: apology and chase)."""
    view = repo.latest_shipment_for_order(session, order, now, events=3)
    if view is None and order.state == "paid":
        response, dispatch = dispatch_answer(session, order)
        dispatcher.utter_message(response=response, **order_facts(session, order), **dispatch)
        return []
    if view is None:
        dispatcher.utter_message(
            response="utter_logistics_not_shipped",
            order_id=order.order_number,
            paid_at=shop_time(order.paid_at),
        )
        return []
    return answer_parcel(dispatcher, tracker, session, view, now)


def answer_parcel(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    session: Session,
    view: ShipmentView,
    now: datetime,
) -> Events:
    """Where a parcel the customer may see is: stalled ones chased, missing ones investigated."""
    facts = tracking_facts(view)
    customer_id = session.get(Order, view.order_id).customer_id
    if view.stalled:
        ticket = _ticket(session, view, customer_id, "logistics_chase", now)
        facts.update(
            hours_since_update=view.hours_since_update,
            ticket_id=ticket.id,
            follow_up_by=shop_time(ticket.follow_up_due),
        )
        dispatcher.utter_message(response="utter_logistics_stalled", **facts)
    elif view.delivered and says_not_received(tracker):
        ticket = _ticket(session, view, customer_id, "delivery_investigation", now)
        facts.update(
            delivered_at=shop_time(view.delivered_at),
            ticket_id=ticket.id,
            follow_up_by=shop_time(ticket.follow_up_due),
        )
        dispatcher.utter_message(response="utter_logistics_investigation", **facts)
    elif view.delivered:
        facts.update(delivered_at=shop_time(view.delivered_at), signed_by=view.signed_by)
        dispatcher.utter_message(response="utter_logistics_delivered", **facts)
    elif view.status == "returned":
        dispatcher.utter_message(response="utter_logistics_returned", **facts)
    else:
        response = (
            "utter_logistics_out_for_delivery"
            if view.status == "out_for_delivery"
            else "utter_logistics_in_transit"
        )
        dispatcher.utter_message(response=response, **facts)
    return []
