"""Delivery time and free shipping: the two actions answering from the delivery policy.

The delivery question is read by `shop.text.delivery_questions` (dispatch day, arrival, or an
order that has not shipped); the order it is about, if any, by the order resolver.

The policy itself (cut-off, days off, regions, transit days, thresholds) lives in
`shop.policy.delivery`.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Dict, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.kit import identity, which_order, which_product
from actions.kit.base import Events, ShopAction
from actions.kit.details import message_details
from actions.orders.logistics import answer_order_parcel
from actions.orders.status import dispatch_answer, order_facts
from shop import clock
from shop.conversation import customer_words
from shop.db.models import utcnow
from shop.money import yuan
from shop.policy.delivery import (
    EXPRESS_CARRIER,
    FREE_SHIPPING_THRESHOLD_FEN,
    REGION_UNKNOWN,
    REMOTE_PROVINCES,
    amount_fen_in,
    deadline_verdict,
    dispatch_window,
    estimate_arrival,
    free_shipping_threshold_fen,
    region_of,
)
from shop.repository.customers import customer_profile
from shop.settings import to_shop_time
from shop.text.dates import parse_day
from shop.text.delivery_questions import DeliveryQuestion, delivery_question

# The request an order is looked up for when a delivery question is about one.
ORDER_TOPIC = "ask_delivery_time"


class ActionEstimateDelivery(ShopAction):
    """When a parcel leaves and arrives: the question asked, answered honestly.

    Before buying: the dispatch day of an order paid now, always; the arrival in the customer's
    city (asked for when unknown; a signed-in customer's own city is used) when the arrival or a
    deadline is asked. About an order already placed (its number in the message, "我的快递",
    "怎么还没发货"): that order's dispatch day (late: an apology and a chase ticket), its
    arrival, or where its parcel is; an order not known yet is looked up first.
    """

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_estimate_delivery"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Answers about the order in question, or for an order paid now."""
        message = tracker.latest_message or {}
        question = delivery_question(customer_words(message))
        named = bool(message_details(message).order_ids)
        if named or question.about_order:
            return self._about_order(dispatcher, tracker, session, question)
        return self._before_buying(dispatcher, tracker, session, question)

    def _about_order(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        session: Session,
        question: DeliveryQuestion,
    ) -> Events:
        resolution = which_order.resolve(session, tracker, ORDER_TOPIC)
        if resolution.status in (which_order.NEED_NUMBER, which_order.NEED_TAIL, which_order.ASK):
            # the order lookup asks for what is missing, then tells where the order is
            return [SlotSet("order_topic", "track_logistics"), FollowupAction("order_lookup_form")]
        if resolution.order is None:
            return which_order.answer_unresolved(dispatcher, session, tracker, resolution)
        events = which_order.found_events(dispatcher, session, resolution)
        order = resolution.order
        if order.state in ("unpaid", "cancelled"):
            facts = order_facts(session, order)
            facts["cancelled_at"] = clock.moment_text(order.cancelled_at)
            dispatcher.utter_message(response=f"utter_order_status_{order.state}", **facts)
            return events
        if order.state != "paid":
            return events + answer_order_parcel(dispatcher, tracker, session, order, utcnow())
        response, dispatch = dispatch_answer(session, order)
        facts = {**order_facts(session, order), **dispatch}
        if response != "utter_order_status_paid" or not question.arrival:
            dispatcher.utter_message(response=response, **facts)
            return events
        city = order.shipping_city
        standard = estimate_arrival(order.paid_at, city)
        express = estimate_arrival(order.paid_at, city, EXPRESS_CARRIER)
        facts.update(
            city=city,
            earliest=standard.earliest.isoformat(),
            latest=standard.latest.isoformat(),
        )
        deadline = asked_deadline(tracker)
        if deadline is None:
            dispatcher.utter_message(response="utter_order_arrival_estimate", **facts)
        elif deadline_verdict(standard, express, deadline) == "met":
            dispatcher.utter_message(
                response="utter_order_deadline_met", deadline=deadline.isoformat(), **facts
            )
        else:
            dispatcher.utter_message(
                response="utter_order_deadline_not_sure", deadline=deadline.isoformat(), **facts
            )
        return events

    def _before_buying(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        session: Session,
        question: DeliveryQuestion,
    ) -> Events:
        now = clock.now()
        city = str(tracker.get_slot("city") or "").strip() or self._own_city(tracker, session)
        window = dispatch_window(now)
        today = to_shop_time(now).date()
        dispatch_response = (
            "utter_delivery_dispatch_today"
            if window.latest == today
            else "utter_delivery_dispatch_later"
        )
        ship_by = window.latest.isoformat()
        asked = str(tracker.get_slot("date") or "").strip()
        if not question.arrival and not asked:
            dispatcher.utter_message(response=dispatch_response, ship_by=ship_by)
            return []
        if not city:
            # the dispatch day needs no city; the arrival does
            dispatcher.utter_message(response=dispatch_response, ship_by=ship_by)
            dispatcher.utter_message(response="utter_ask_city_for_delivery")
            return []
        standard = estimate_arrival(now, city)
        express = estimate_arrival(now, city, EXPRESS_CARRIER)
        facts = {
            "city": city,
            "ship_by": standard.dispatch.latest.isoformat(),
            "earliest": standard.earliest.isoformat(),
            "latest": standard.latest.isoformat(),
            "express_earliest": express.earliest.isoformat(),
            "express_latest": express.latest.isoformat(),
        }
        if not asked:
            dispatcher.utter_message(response="utter_delivery_estimate", **facts)
            return []
        deadline = parse_day(asked, today)
        if deadline is None:
            dispatcher.utter_message(
                response="utter_delivery_deadline_not_understood", date=asked, **facts
            )
            return []
        verdict = deadline_verdict(standard, express, deadline)
        dispatcher.utter_message(
            response=f"utter_delivery_deadline_{verdict}", deadline=deadline.isoformat(), **facts
        )
        return []

    @staticmethod
    def _own_city(tracker: Tracker, session: Session) -> str:
        """A signed-in customer's own city (from their profile), or ""."""
        customer_id = identity.verified_customer_id(tracker)
        if customer_id is None:
            return ""
        profile = customer_profile(session, customer_id, clock.now())
        return (profile.city or "") if profile is not None else ""


def asked_deadline(tracker: Tracker) -> Optional[date]:
    """The day the customer needs the parcel by (the date slot), if it can be read."""
    asked = str(tracker.get_slot("date") or "").strip()
    return parse_day(asked, clock.today()) if asked else None


class ActionCheckFreeShipping(ShopAction):
    """Free shipping by region and order amount, and the customer's free-shipping card."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_check_free_shipping"

    def verified_customer_id(self, tracker: Tracker) -> Optional[int]:
        """The signed-in customer of the conversation (signed channel metadata), if any."""
        return identity.verified_customer_id(tracker)

    def order_amount_fen(self, tracker: Tracker, session: Session) -> Optional[int]:
        """The amount named in the message, else the product's price × quantity, else None."""
        amount = amount_fen_in((tracker.latest_message or {}).get("text"))
        if amount is not None:
            return amount
        product = which_product.resolve(session, tracker).product
        if product is None:
            return None
        quantity = str(tracker.get_slot("quantity") or "1").strip()
        count = int(quantity) if quantity.isdigit() and 0 < int(quantity) < 1000 else 1
        return product.price_fen * count

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Answers whether shipping is free (card, region, amount)."""
        city = str(tracker.get_slot("city") or "").strip()
        customer_id = self.verified_customer_id(tracker)
        if customer_id is not None:
            profile = customer_profile(session, customer_id, clock.now())
            if profile is not None and profile.free_shipping_card_active:
                until = clock.day_text(profile.free_shipping_card_until)
                dispatcher.utter_message(response="utter_free_shipping_card", card_until=until)
                return []
            if profile is not None and not city:
                city = profile.city or ""  # a signed-in customer's own city need not be asked
        policy = {
            "mainland_threshold": yuan(FREE_SHIPPING_THRESHOLD_FEN["mainland"]),
            "remote_threshold": yuan(FREE_SHIPPING_THRESHOLD_FEN["remote"]),
            "remote_regions": "、".join(REMOTE_PROVINCES),
        }
        if not city:
            dispatcher.utter_message(response="utter_free_shipping_policy", **policy)
            return []
        if region_of(city) == REGION_UNKNOWN:
            # Neither threshold can be promised for a place we cannot locate: give both rules
            # (and the remote regions) and ask again, as for a missing city.
            dispatcher.utter_message(
                response="utter_free_shipping_policy", city=city, region=REGION_UNKNOWN, **policy
            )
            return []
        threshold = free_shipping_threshold_fen(city)
        facts = {"city": city, "threshold": yuan(threshold)}
        amount = self.order_amount_fen(tracker, session)
        if amount is None:
            dispatcher.utter_message(response="utter_free_shipping_threshold", **facts)
        elif amount >= threshold:
            dispatcher.utter_message(
                response="utter_free_shipping_yes", amount=yuan(amount), **facts
            )
        else:
            dispatcher.utter_message(
                response="utter_free_shipping_short",
                amount=yuan(amount),
                shortfall=yuan(threshold - amount),
                **facts,
            )
        return []
