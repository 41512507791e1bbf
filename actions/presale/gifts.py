"""Gifts that fit the product's category and the customer, never unrelated or embarrassing ones.

Following the shop's surprise-gift practice: a gift must be useful with the product bought, and
must suit the person who receives it (no baby items for a customer without a baby, no scented
items for a customer who avoids strong scents or is pregnant). A surprise (e.g. a birthday gift
for a repeat customer) is never announced to the customer; the agent sees it as a fact.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.kit import which_product
from actions.kit.base import Events, ShopAction
from actions.kit.cards import product_card
from actions.kit.identity import verified_customer_id
from actions.presale.catalog import join_names
from shop import clock
from shop.db.models import Gift, Product
from shop.money import yuan
from shop.repository.catalog import gifts_for
from shop.repository.customers import CustomerProfile, customer_profile
from shop.text.normalise import normalise
from shop.text.parsing import chinese_number

# Words in a gift's "suitable for" notes and in customer profiles that the rules look for.
BABY_WORDS = ("宝宝", "婴儿")
MIN_MONTHS = re.compile(r"(\d+)个月以上")
AGE_RANGE = re.compile(r"(\d+)-(\d+)个月")
SCENTED_CATEGORIES = ("精油",)
AVOIDS_SCENT = "香味太浓"
PREGNANT = "怀孕"
BIRTHDAY_SURPRISE_DAYS = 14
BIRTHDAY_SURPRISE_MIN_ORDERS = 2
MAX_QUANTITY = 99
QUANTITY = re.compile(r"[0-9零〇一二两三四五六七八九十百]+")


def _max_product_months(product: Product) -> Optional[int]:
    match = AGE_RANGE.search(str((product.specs or {}).get("适用月龄", "")))
    return int(match.group(2)) if match else None


def gift_fits(gift: Gift, product: Product, profile: Optional[CustomerProfile]) -> bool:
    """Whether a gift suits the product bought and, when known, the customer.

    Args:
        gift: A gift of the product's category.
        product: The product asked about.
        profile: The signed-in customer's profile, or None for an anonymous customer.

    Returns:
        False for baby items without a baby (or for a baby too young for them), scented items
        for customers avoiding scents or pregnant; True otherwise.

    """
    notes = gift.notes or ""
    if any(word in notes for word in BABY_WORDS):
        if profile is not None and profile.baby_birth_date is None:
            return False
        needed = MIN_MONTHS.search(notes)
        if needed:
            months = int(needed.group(1))
            if profile is not None and (profile.baby_age_months or 0) < months:
                return False
            oldest = _max_product_months(product)
            if profile is None and oldest is not None and oldest <= months:
                return False
    if gift.category in SCENTED_CATEGORIES and profile is not None:
        if AVOIDS_SCENT in (profile.preferences.get("avoid") or []):
            return False
        if any(PREGNANT in note for note in profile.notes):
            return False
    return True


def upcoming_gifts(session: Session, product: Product, amount_fen: int) -> List[Gift]:
    """In-stock gifts of the product's category that need a larger order, smallest first."""
    stmt = (
        select(Gift)
        .where(Gift.category == product.category, Gift.min_order_fen > amount_fen, Gift.stock > 0)
        .order_by(Gift.min_order_fen, Gift.id)
    )
    return list(session.execute(stmt).scalars())


def birthday_surprise(profile: Optional[CustomerProfile]) -> bool:
    """Whether the agent may prepare a birthday surprise (repeat customer, birthday soon)."""
    return bool(
        profile is not None
        and profile.preferences.get("gift_ok", True)
        and profile.order_count >= BIRTHDAY_SURPRISE_MIN_ORDERS
        and profile.days_to_birthday is not None
        and profile.days_to_birthday <= BIRTHDAY_SURPRISE_DAYS
    )


def quantity_of(value: Any) -> int:
    """The number of pieces a customer named (3, 三包, 两件), 1 when unreadable or implausible."""
    match = QUANTITY.match(normalise(str(value or "")).strip())
    number = chinese_number(match.group(0)) if match else None
    return number if number is not None and 0 < number <= MAX_QUANTITY else 1


class ActionSuggestGift(ShopAction):
    """The gifts that come with a product, chosen for the customer."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_suggest_gift"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Answers with fitting gifts now and the next gift a larger order would bring."""
        resolution = which_product.resolve(session, tracker)
        product = resolution.product
        if product is None:
            if resolution.status == which_product.NONE:
                dispatcher.utter_message(response="utter_gift")
            else:
                which_product.answer_unresolved(dispatcher, tracker, resolution)
            return []
        customer_id = verified_customer_id(tracker)
        profile = customer_profile(session, customer_id, clock.now()) if customer_id else None
        amount = product.price_fen * quantity_of(tracker.get_slot("quantity"))
        gifts = [
            g
            for g in gifts_for(session, product.category, amount)
            if gift_fits(g, product, profile)
        ]
        later = [
            g for g in upcoming_gifts(session, product, amount) if gift_fits(g, product, profile)
        ]
        facts: Dict[str, Any] = {
            "product": product.name,
            "amount_fen": amount,
            "amount_yuan": yuan(amount),
            "gifts": join_names(g.name for g in gifts),
            "gift_list": [{"name": g.name, "min_order_fen": g.min_order_fen} for g in gifts],
            "card": product_card(product),
            "birthday_surprise": birthday_surprise(profile),
        }
        if later:
            facts["next_gift"] = later[0].name
            facts["next_threshold_yuan"] = yuan(later[0].min_order_fen)
            facts["shortfall_yuan"] = yuan(later[0].min_order_fen - amount)
        if gifts and later:
            response = "utter_gift_offers_and_more"
        elif gifts:
            response = "utter_gift_offers"
        elif later:
            response = "utter_gift_only_above"
        else:
            response = "utter_gift_none"
        dispatcher.utter_message(response=response, **facts)
        return []
