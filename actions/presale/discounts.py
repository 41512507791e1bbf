"""Discounts: only the promotions running now and the signed-in customer's own coupons.

The assistant never invents a price or a discount: it names the product's current price, the
promotions of the product or its category that run now, and the customer's unused valid coupons.
When nothing applies it says so honestly (bargaining gets the same truthful answer).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.kit import which_product
from actions.kit.base import Events, ShopAction
from actions.kit.cards import product_card
from actions.kit.identity import verified_customer_id
from actions.presale.catalog import join_names
from shop import clock
from shop.db.models import Coupon, Product, Promotion
from shop.money import yuan
from shop.repository.catalog import active_promotions
from shop.repository.customers import coupons_valid_now


def promotion_saving_fen(promotion: Promotion, price_fen: int) -> int:
    """What a promotion takes off one piece at a price (fen); 0 when its threshold is not met."""
    if price_fen < promotion.threshold_fen:
        return 0
    if promotion.discount_fen is not None:
        return min(int(promotion.discount_fen), price_fen)
    return price_fen * int(promotion.percent_off or 0) // 100


def promotion_fact(promotion: Promotion, price_fen: int) -> Dict[str, Any]:
    """One promotion as plain facts (fen integers, ISO end day)."""
    return {
        "name": promotion.name,
        "discount_fen": promotion.discount_fen,
        "percent_off": promotion.percent_off,
        "threshold_fen": promotion.threshold_fen,
        "saving_fen": promotion_saving_fen(promotion, price_fen),
        "ends_on": clock.day_text(promotion.ends_at),
    }


def coupon_fact(coupon: Coupon, price_fen: Optional[int]) -> Dict[str, Any]:
    """One coupon as plain facts; `usable_on_one` tells whether one piece reaches its threshold."""
    return {
        "name": coupon.name,
        "amount_fen": coupon.amount_fen,
        "amount_yuan": yuan(coupon.amount_fen),
        "threshold_fen": coupon.threshold_fen,
        "valid_until": clock.day_text(coupon.valid_until),
        "usable_on_one": price_fen is not None and price_fen >= coupon.threshold_fen,
    }


def _earliest(days: List[Optional[str]]) -> Optional[str]:
    found = sorted(day for day in days if day)
    return found[0] if found else None


def offer_facts(
    product: Product, promotions: List[Promotion], coupons: List[Coupon]
) -> Dict[str, Any]:
    """The facts of a discount answer for a product (names as stored, money in fen and yuan)."""
    promotion_list = [promotion_fact(p, product.price_fen) for p in promotions]
    coupon_list = [coupon_fact(c, product.price_fen) for c in coupons]
    return {
        "product": product.name,
        "price_fen": product.price_fen,
        "price_yuan": yuan(product.price_fen),
        "promotions": join_names(p["name"] for p in promotion_list),
        "promotion_list": promotion_list,
        "promotions_end": _earliest([p["ends_on"] for p in promotion_list]),
        "coupons": join_names(c["name"] for c in coupon_list),
        "coupon_list": coupon_list,
        "coupons_expire": _earliest([c["valid_until"] for c in coupon_list]),
        "card": product_card(product),
    }


def discount_response(has_promotions: bool, has_coupons: bool, signed_in: bool) -> str:
    """The response naming what applies (anonymous customers are invited to sign in)."""
    if has_promotions and has_coupons:
        return "utter_discount_promotions_and_coupons"
    if has_coupons:
        return "utter_discount_coupons_only"
    suffix = "signed_in" if signed_in else "anonymous"
    if has_promotions:
        return f"utter_discount_promotions_{suffix}"
    return f"utter_discount_none_{suffix}"


class ActionCheckDiscount(ShopAction):
    """The promotions running now for a product and the customer's coupons for it."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_check_discount"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Answers with what really applies now, never with an invented price."""
        now = clock.now()
        customer_id = verified_customer_id(tracker)
        resolution = which_product.resolve(session, tracker)
        product = resolution.product
        if product is None:
            if resolution.status == which_product.NONE:
                self.answer_without_product(dispatcher, session, customer_id, now)
            else:
                which_product.answer_unresolved(dispatcher, tracker, resolution)
            return []
        promotions = active_promotions(session, product, now)
        coupons: List[Coupon] = []
        if customer_id is not None:
            coupons = coupons_valid_now(session, customer_id, now, category=product.category)
        facts = offer_facts(product, promotions, coupons)
        response = discount_response(bool(promotions), bool(coupons), customer_id is not None)
        dispatcher.utter_message(response=response, **facts)
        return []

    def answer_without_product(
        self,
        dispatcher: CollectingDispatcher,
        session: Session,
        customer_id: Optional[int],
        now: datetime,
    ) -> None:
        """Without a product: the signed-in customer's coupons, else the general policy."""
        coupons = coupons_valid_now(session, customer_id, now) if customer_id else []
        if not coupons:
            dispatcher.utter_message(response="utter_discount")
            return
        coupon_list = [coupon_fact(c, None) for c in coupons]
        dispatcher.utter_message(
            response="utter_discount_my_coupons",
            coupons=join_names(c["name"] for c in coupon_list),
            coupon_list=coupon_list,
            coupons_expire=_earliest([c["valid_until"] for c in coupon_list]),
        )
