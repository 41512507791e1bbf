"""Authenticity: the brand-authorisation certificate and a real anti-counterfeit code check."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.kit import which_product
from actions.kit.base import Events, ShopAction
from actions.kit.cards import product_card
from shop import clock
from shop.db.models import Product
from shop.repository.catalog import CodeCheck, verify_anti_counterfeit_code
from shop.text.normalise import normalise
from shop.text.parsing import ORDER_ID

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


def meant_products(session: Session, tracker: Tracker) -> List[Product]:
    """The products the customer may mean: one when named, several when only vaguely named.

    "T5的序列号" with the slot 油烟机 means the T5; "油烟机" alone may mean any range hood.

    Returns:
        The products the conversation could stand for (`which_product`); empty when unknown.

    """
    return list(which_product.resolve(session, tracker).candidates)


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
        resolution = which_product.resolve(session, tracker)
        product = resolution.product
        code = find_code(tracker.get_slot("auth_code")) or find_code(
            (tracker.latest_message or {}).get("text")
        )
        if code:
            self.check_code(dispatcher, session, code, resolution)
            return [SlotSet("auth_code", None)]
        if product is None and resolution.status != which_product.NONE:
            which_product.answer_unresolved(dispatcher, tracker, resolution)
            return []
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
        resolution: which_product.Resolution,
    ) -> None:
        """Checks the code against the records and answers with the outcome.

        When the customer named a product, only a code of that product passes (of one of the
        products a vague name stands for); a code of another product is not recorded as checked.
        """
        meant = list(resolution.candidates)
        check = verify_anti_counterfeit_code(
            session, code, clock.now(), product_ids=[p.id for p in meant] if meant else None
        )
        facts = code_facts(code, check)
        if check.status == "not_found":
            dispatcher.utter_message(response="utter_auth_code_unknown", **facts)
            return
        if check.status == "other_product":
            named = meant[0].name if len(meant) == 1 else resolution.asked
            dispatcher.utter_message(
                response="utter_auth_code_other_product", product=named, **facts
            )
            return
        coded = session.execute(
            select(Product).where(Product.name == check.product_name)
        ).scalar_one_or_none()
        facts["product"] = check.product_name
        if coded is not None:
            facts["card"] = product_card(coded)
        if check.status == "already_checked":
            dispatcher.utter_message(response="utter_auth_code_already_checked", **facts)
        else:
            dispatcher.utter_message(response="utter_auth_code_genuine", **facts)
