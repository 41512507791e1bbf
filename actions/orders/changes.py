"""Changing or cancelling an order, only before it ships; afterwards the honest alternative.

The form asks for the order, what to change (cancel, address, colour/size) and, for an order
that can still be changed, the new address or variant. Cancelling a paid order refunds it at
once (a refund row); a new address is stored masked; a new variant moves the stock.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.aftersale.exchanges import main_item, offered, resolve_variant, variant
from actions.kit.base import Events, ShopAction
from actions.kit.order_forms import (
    OrderFormValidator,
    free_text_answer,
    latest_intent,
    message_text,
    requested,
    verbatim_text,
)
from actions.kit.which_order import identified_order, order_or_answer
from actions.orders.status import order_facts, shop_time
from shop import db
from shop.db.models import Order, Product, Sku, utcnow
from shop.money import yuan
from shop.policy import aftersale as policy
from shop.repository import order_changes as changes
from shop.text.details import new_address

Slots = Dict[Text, Any]
CHANGE_SLOT = "order_change"
DETAIL_SLOT = "order_change_detail"
CHANGES = ("cancel", "address", "spec")
# The order's proof in a message, taken out before an address is read from it.
_PROOF_WORDS = re.compile(
    r"(订单号?|单号)?\s*[:：]?\s*20\d{11}|(手机)?(尾号|后四位|末四[位码])\s*[:：]?\s*\d{4}"
)
# The words before a new address in a request ("地址改成 南京市…").
_CHANGE_TO = re.compile(r"改成|改为|改到|换成|换为|换到|更改为|修改为|变更为|新地址")
# What a new address has: an area or street word and a house number (南京市…中山路100号).
_ADDRESS = re.compile(r"(省|市|区|县|路|街|道|巷|村|镇|小区|大厦).*\d")
# What a reply must have to be taken as the new address: a place word, then a house number
# (in digits, or in Chinese numerals before 号/栋/室 …). A question is no address.
_ADDRESS_SHAPE = re.compile(
    r"(省|市|区|县|旗|乡|镇|村|路|街|道|巷|弄|小区|大厦|花园|公寓|苑)"
    r".*([0-9０-９]|[一二三四五六七八九十百零两]+(号|栋|幢|弄|室|楼|单元|层))"
)
AFTER_STATE = {
    "shipped": "utter_modify_after_shipping",
    "delivered": "utter_modify_after_delivery",
    "completed": "utter_modify_after_delivery",
    "cancelled": "utter_modify_already_cancelled",
}


def _changeable(tracker: Tracker) -> bool:
    try:
        with db.session_scope() as session:
            order = identified_order(session, tracker)
            return order is not None and order.state in policy.MODIFIABLE_STATES
    except SQLAlchemyError:
        return False


class ValidateModifyOrderForm(OrderFormValidator):
    """Order, what to change and (before shipping) the new address or variant."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "validate_modify_order_form"

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        """The detail is asked for only for an address or variant change of a changeable order."""
        slots = await super().required_slots(domain_slots, dispatcher, tracker, domain)
        change = tracker.get_slot(CHANGE_SLOT)
        if change is None and latest_intent(tracker) == "modify_order":
            change = policy.classify_change(message_text(tracker))  # read from this request
        needs_detail = change in ("address", "spec")
        if DETAIL_SLOT in slots and not (needs_detail and _changeable(tracker)):
            slots.remove(DETAIL_SLOT)
        return slots

    async def extract_order_change(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """What to change, read from the request itself or from the reply when asked.

        A customer taking a cancellation back ("先别取消了") clears it, so nothing is
        cancelled; what else they asked for ("我想改地址") replaces it.
        """
        text = message_text(tracker)
        if tracker.get_slot(CHANGE_SLOT) == "cancel" and policy.cancel_negated(text):
            return {CHANGE_SLOT: policy.classify_change(text)}
        if tracker.get_slot(CHANGE_SLOT) and not requested(tracker, CHANGE_SLOT):
            return {}
        if not requested(tracker, CHANGE_SLOT) and latest_intent(tracker) != "modify_order":
            return {}
        change = policy.classify_change(text)
        return {CHANGE_SLOT: change} if change else {}

    def validate_order_change(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Keeps cancel, address or spec."""
        return {CHANGE_SLOT: value if value in CHANGES else None}

    async def extract_order_change_detail(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """The new address or variant as typed, while it is asked for.

        A new address given with the request itself ("地址改成 南京市… 订单…") is taken too.
        """
        if requested(tracker, DETAIL_SLOT):
            return free_text_answer(tracker, DETAIL_SLOT, limit=80)
        if tracker.get_slot(DETAIL_SLOT) or tracker.get_slot(CHANGE_SLOT) != "address":
            return {}
        if latest_intent(tracker) != "modify_order":
            return {}
        text = _PROOF_WORDS.sub(" ", verbatim_text(tracker, 120))
        said = list(_CHANGE_TO.finditer(text))
        address = new_address(text[said[-1].end() :]) if said else ""
        return {DETAIL_SLOT: address[:80]} if _ADDRESS.search(address) else {}

    def validate_order_change_detail(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Keeps the new variant, or the new address without the words around it.

        "改成" is no part of an address; an address needs at least a street or estate and a
        number, else it is asked for again.
        """
        text = str(value or "").strip()
        if tracker.get_slot(CHANGE_SLOT) == "address":
            text = new_address(text)
            if len(text) < 6 or not _ADDRESS_SHAPE.search(text):
                dispatcher.utter_message(response="utter_invalid_new_address")
                return {DETAIL_SLOT: None}
        return {DETAIL_SLOT: text}


class ActionModifyOrder(ShopAction):
    """Cancels, re-addresses or changes the variant of an unshipped order, and records it."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_modify_order"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Applies the change before shipping; after it says so and offers the alternative."""
        order, found = order_or_answer(dispatcher, tracker, session, "modify_order")
        reset = found + [SlotSet(CHANGE_SLOT, None), SlotSet(DETAIL_SLOT, None)]
        if order is None:
            return reset
        facts = order_facts(session, order)
        facts.update(
            change=tracker.get_slot(CHANGE_SLOT),
            change_label=policy.label("order_change", tracker.get_slot(CHANGE_SLOT)),
            shipped_at=shop_time(order.shipped_at),
            delivered_at=shop_time(order.delivered_at),
            cancelled_at=shop_time(order.cancelled_at),
            window_days=policy.NO_REASON_RETURN_DAYS,
        )
        if order.state not in policy.MODIFIABLE_STATES:
            dispatcher.utter_message(response=AFTER_STATE[order.state], **facts)
            return reset
        change = tracker.get_slot(CHANGE_SLOT)
        detail = str(tracker.get_slot(DETAIL_SLOT) or "")
        if change == "cancel":
            self._cancel(dispatcher, tracker, session, order, facts)
        elif change == "address":
            masked = policy.mask_address(detail)
            changes.change_address(session, order, masked)
            dispatcher.utter_message(
                response="utter_order_address_changed", new_address=masked, **facts
            )
        else:
            self._change_variant(dispatcher, session, order, detail, facts)
        return reset

    @staticmethod
    def _cancel(
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        session: Session,
        order: Order,
        facts: Dict[str, Any],
    ) -> None:
        now = utcnow()
        refund = changes.cancel_order(session, order, now, message_text(tracker))
        facts.update(order_facts(session, order), cancelled_at=shop_time(now))
        if refund is None:
            dispatcher.utter_message(response="utter_order_cancelled", **facts)
            return
        dispatcher.utter_message(
            response="utter_order_cancelled_refunded",
            refund_amount=yuan(refund.refund_fen),
            refund_fen=int(refund.refund_fen),
            refunded_at=shop_time(refund.refunded_at),
            refund_channel=policy.label("refund_channel", "original"),
            expected_by=shop_time(policy.refund_expected_by(refund.refunded_at)),
            **facts,
        )

    @staticmethod
    def _change_variant(
        dispatcher: CollectingDispatcher,
        session: Session,
        order: Order,
        detail: str,
        facts: Dict[str, Any],
    ) -> None:
        item = main_item(session, order)
        current = session.get(Sku, item.sku_id) if item is not None else None
        wanted = resolve_variant(session, current, detail) if current is not None else None
        if current is None:
            dispatcher.utter_message(response="utter_modify_spec_unavailable", **facts)
            return
        product = session.get(Product, current.product_id)
        facts.update(
            product=product.name,
            from_variant=variant(current),
            requested_variant=detail[:40],
            **offered(session, current),
        )
        if wanted is None or wanted.id == current.id or wanted.stock < item.quantity:
            facts.update(to_variant=variant(wanted))
            dispatcher.utter_message(response="utter_modify_spec_unavailable", **facts)
            return
        changes.change_item_sku(session, order, item, wanted)
        facts.update(order_facts(session, order), to_variant=variant(wanted))
        dispatcher.utter_message(response="utter_order_spec_changed", **facts)
