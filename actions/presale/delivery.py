"""Delivery time and free shipping: the two actions answering from the delivery policy.

The policy itself (cut-off, days off, regions, transit days, thresholds) lives in
`shop.policy.delivery`.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.kit import identity, which_product
from actions.kit.base import Events, ShopAction
from shop import clock
from shop.money import yuan
from shop.policy.delivery import (
    EXPRESS_CARRIER,
    FREE_SHIPPING_THRESHOLD_FEN,
    REGION_UNKNOWN,
    REMOTE_PROVINCES,
    amount_fen_in,
    deadline_verdict,
    estimate_arrival,
    free_shipping_threshold_fen,
    region_of,
)
from shop.repository.customers import customer_profile
from shop.settings import to_shop_time
from shop.text.dates import parse_day


class ActionEstimateDelivery(ShopAction):
    """Earliest and latest arrival for the customer's city, and an honest deadline answer."""

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
        """Answers with the arrival window, and whether a named deadline can be met."""
        city = str(tracker.get_slot("city") or "").strip()
        if not city:
            dispatcher.utter_message(response="utter_ask_city_for_delivery")
            return []
        now = clock.now()
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
        asked = str(tracker.get_slot("date") or "").strip()
        if not asked:
            dispatcher.utter_message(response="utter_delivery_estimate", **facts)
            return []
        deadline = parse_day(asked, to_shop_time(now).date())
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
