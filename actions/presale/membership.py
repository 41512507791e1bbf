"""Membership: level, points, free-shipping card and referral rewards of the signed-in customer.

All membership policy numbers live here; anonymous customers get the rules and an invitation to
sign in.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.kit.base import Events, ShopAction
from actions.kit.identity import verified_customer_id
from shop import clock
from shop.money import yuan
from shop.policy.membership import (
    MEMBER_LEVEL_LABELS,
    MEMBER_LEVELS,
    POINTS_PER_YUAN_OFF,
    POINTS_PER_YUAN_SPENT,
    REFERRAL_REWARD_FEN,
    level_label,
    points_value_fen,
)
from shop.repository.customers import CustomerProfile, customer_profile


def rule_facts() -> Dict[str, Any]:
    """The membership rules as facts."""
    return {
        "levels": "、".join(MEMBER_LEVEL_LABELS[level] for level in MEMBER_LEVELS),
        "points_per_yuan": POINTS_PER_YUAN_SPENT,
        "points_per_yuan_off": POINTS_PER_YUAN_OFF,
        "referral_reward_yuan": yuan(REFERRAL_REWARD_FEN),
    }


def member_facts(profile: CustomerProfile) -> Dict[str, Any]:
    """A customer's membership as facts (no name, phone or address).

    `referrals` counts every invited friend, `rewarded_referrals` those whose order has shipped.
    """
    value = points_value_fen(profile.points)
    # Only friends whose first order has shipped earn the reward; the others are still pending.
    rewards = profile.rewarded_referrals * REFERRAL_REWARD_FEN
    return {
        **rule_facts(),
        "member_level": profile.member_level,
        "member_level_label": level_label(profile.member_level),
        "points": profile.points,
        "points_value_fen": value,
        "points_value_yuan": yuan(value),
        "referrals": profile.referrals,
        "rewarded_referrals": profile.rewarded_referrals,
        "referral_rewards_fen": rewards,
        "referral_rewards_yuan": yuan(rewards),
        "valid_coupons": profile.valid_coupons,
        "card_until": clock.day_text(profile.free_shipping_card_until),
    }


def membership_response(profile: CustomerProfile) -> str:
    """The response for a member: with an active card, an expired card, or none."""
    if profile.free_shipping_card_active:
        return "utter_membership_status_with_card"
    if profile.free_shipping_card_until is not None:
        return "utter_membership_status_card_expired"
    return "utter_membership_status"


class ActionCheckMembership(ShopAction):
    """The signed-in customer's membership, or the rules and an invitation to sign in."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_check_membership"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Answers with the member's level, points, card and referral rewards."""
        customer_id = verified_customer_id(tracker)
        profile: Optional[CustomerProfile] = None
        if customer_id is not None:
            profile = customer_profile(session, customer_id, clock.now())
        if profile is None:
            dispatcher.utter_message(response="utter_membership", **rule_facts())
            return []
        dispatcher.utter_message(response=membership_response(profile), **member_facts(profile))
        return []
