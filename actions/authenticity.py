"""Authenticity: the brand-authorisation certificate and a real anti-counterfeit code check."""

from __future__ import annotations

import re
from typing import Any, Dict, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions import clock
from actions.base import Events, ShopAction
from actions.cards import product_card
from actions.catalog import asked_product
from actions.models import Product
from actions.parsing import ORDER_ID
from actions.repository.catalog import CodeCheck, find_product, verify_anti_counterfeit_code
from bot.nlu.normalise import normalise

# A printed code: 12-20 digits, possibly written in groups ("1234 5678-…").
CODE_CANDIDATE = re.compile(r"(?<![0-9a-z])\d(?:[ \-]?\d){11,19}(?![0-9])")


def find_code(text: Any) -> Optional[str]:
    """The anti-counterfeit code a customer typed (digits only), or None.

    Order numbers (13 digits starting with 20) are never taken for a code.

    Args:
        text: The message or the `auth_code` slot.

    Returns:
        The code's digits, or None when the text holds no code-like number.

    """
    value = normalise(str(text or "")).lower()
    for match in CODE_CANDIDATE.finditer(value):
        digits = re.sub(r"[ \-]", "", match.group(0))
        if not ORDER_ID.fullmatch(digits):
            return digits
    return None


def code_facts(code: str, check: CodeCheck) -> Dict[str, Any]:
    """The facts of a code check (times as shop time)."""
    return {
        "auth_code": code,
        "code_product": check.product_name,
        "checked_at": clock.moment_text(check.first_checked_at),
        "first_checked_at": clock.moment_text(check.first_checked_at),
        "last_checked_at": clock.moment_text(check.last_checked_at or check.first_checked_at),
        "times_checked": check.checks_before,
    }


class ActionCheckAuthenticity(ShopAction):
    """Certificate and anti-counterfeit scheme of a product; checks a code the customer gives."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_check_authenticity"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Checks a given code, else names the product's certificate and scheme."""
        product = asked_product(session, tracker)
        code = find_code(tracker.get_slot("auth_code")) or find_code(
            (tracker.latest_message or {}).get("text")
        )
        if code:
            self.check_code(dispatcher, session, code, product)
            return [SlotSet("auth_code", None)]
        if product is None or not product.authorisation_cert_no:
            dispatcher.utter_message(response="utter_authenticity")
            return []
        facts = {
            "product": product.name,
            "brand": product.brand,
            "certificate": product.authorisation_cert_no,
            "card": product_card(product),
        }
        if product.anti_counterfeit_scheme:
            dispatcher.utter_message(
                response="utter_authenticity_product",
                scheme=product.anti_counterfeit_scheme,
                **facts,
            )
        else:
            dispatcher.utter_message(response="utter_authenticity_product_no_code", **facts)
        return []

    def check_code(
        self,
        dispatcher: CollectingDispatcher,
        session: Session,
        code: str,
        product: Optional[Product],
    ) -> None:
        """Checks the code against the records and answers with the outcome."""
        check = verify_anti_counterfeit_code(session, code, clock.now())
        facts = code_facts(code, check)
        if check.status == "not_found":
            dispatcher.utter_message(response="utter_auth_code_unknown", **facts)
            return
        coded = find_product(session, check.product_name)
        if product is not None and coded is not None and coded.category != product.category:
            dispatcher.utter_message(
                response="utter_auth_code_other_product", product=product.name, **facts
            )
            return
        facts["product"] = check.product_name
        if coded is not None:
            facts["card"] = product_card(coded)
        if check.status == "already_checked":
            dispatcher.utter_message(response="utter_auth_code_already_checked", **facts)
        else:
            dispatcher.utter_message(response="utter_auth_code_genuine", **facts)
