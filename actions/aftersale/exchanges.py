"""Exchanges, size mismatches and quality issues, per policy and with the stock checked.

A size mismatch or an exchange asks for the wanted size or colour and checks its stock before
recording the exchange; recording it reserves the new item (its stock is taken atomically, so two
customers cannot both be promised the last one). A quality issue asks for a photo (recorded on
the request) and offers a replacement or a refund. Either way the return shipment form then
takes the return's number.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.aftersale.returns import (
    ITEM_SLOT,
    REQUEST_SLOT,
    TRACKING_SLOT,
    line_of,
    refusal,
    request_facts,
)
from actions.kit.base import Events, ShopAction
from actions.kit.details import entity_values, message_details, topic_messages
from actions.kit.order_forms import OrderFormValidator, message_text, requested
from actions.kit.which_order import identified_order, order_or_answer
from actions.orders.status import order_facts, shop_time
from shop import db
from shop import repository as repo
from shop.conversation import customer_words, is_command
from shop.db.models import Order, OrderItem, Product, ReturnRequest, Sku, utcnow
from shop.policy import aftersale as policy
from shop.repository import aftersale as aftersale_repo
from shop.repository.order_changes import skus_of_product
from shop.text import inputs, parsing

Slots = Dict[Text, Any]
SIZE_SLOT = "exchange_size"
# Intents that start an exchange: its size may be said in any message of the request.
EXCHANGE_INTENTS = ("request_exchange", "report_size_mismatch")
_BIGGER = re.compile(r"大一码|大一号|大点|大一点|大码|加大")
_SMALLER = re.compile(r"小一码|小一号|小点|小一点|小码")


def size_in(message: Mapping[str, Any]) -> Optional[str]:
    """The size or colour a message asks for: its entities, 大一码/小一码, or a size in words."""
    text = "" if is_command(message) else parsing.normalise(customer_words(message)).strip()
    step = _BIGGER.search(text) or _SMALLER.search(text)
    if step:
        return step.group(0)
    colours = entity_values(message, ("color",))
    sizes = list(message_details(message).sizes)  # size entities that are sizes, sizes in words
    return " ".join(sizes + colours)[:40] if sizes or colours else None


def variant(sku: Optional[Sku]) -> Optional[str]:
    """A SKU's colour and size as one label ("星空灰/XL"), or None."""
    if sku is None:
        return None
    return "/".join(v for v in (sku.colour, sku.size) if v) or None


def main_item(session: Session, order: Order) -> Optional[OrderItem]:
    """The order line an exchange is about: the first one whose product has several variants."""
    for item in order.items:
        sku = session.get(Sku, item.sku_id)
        if sku is not None and len(skus_of_product(session, sku.product_id)) > 1:
            return item
    return order.items[0] if order.items else None


def exchange_item(session: Session, order: Order, tracker: Tracker) -> Optional[OrderItem]:
    """The line exchanged: the one named by the quality report (`return_item`), else `main_item`."""
    return line_of(order, tracker.get_slot(ITEM_SLOT)) or main_item(session, order)


def resolve_variant(session: Session, current: Sku, wanted: str) -> Optional[Sku]:
    """The SKU of the same product the customer asks for: a size, a colour or "大一码"/"小一码"."""
    skus = skus_of_product(session, current.product_id)
    text = inputs.clean_text(wanted, 40).lower().replace("码", "").replace("号", "").strip()
    sizes = [s.size for s in skus if s.size]
    ordered = list(dict.fromkeys(sizes))
    step = 1 if _BIGGER.search(wanted) else -1 if _SMALLER.search(wanted) else 0
    if step and current.size in ordered:
        index = ordered.index(current.size) + step
        if not 0 <= index < len(ordered):
            return None
        target = ordered[index]
        same_colour = [s for s in skus if s.size == target and s.colour == current.colour]
        return same_colour[0] if same_colour else next(s for s in skus if s.size == target)
    tokens = set(re.findall(r"[a-z0-9]+", text)) | {text}
    by_size = [s for s in skus if s.size and s.size.lower() in tokens]
    by_colour = [s for s in skus if s.colour and s.colour in wanted]
    if by_size:
        colour = [s for s in by_size if s.colour == current.colour]
        chosen = [s for s in colour or by_size if s in by_colour] or colour or by_size
        return chosen[0]
    if by_colour:
        size = [s for s in by_colour if s.size == current.size]
        return (size or by_colour)[0]
    return None


def offered(session: Session, current: Sku) -> Dict[str, Any]:
    """The variants a product comes in and those in stock now (both may be empty strings)."""
    skus = skus_of_product(session, current.product_id)
    return {
        "variants_offered": "、".join(v for v in (variant(s) for s in skus) if v),
        "in_stock_variants": "、".join(v for v in (variant(s) for s in skus if s.stock > 0) if v),
    }


class ValidateExchangeForm(OrderFormValidator):
    """Order and the wanted size or colour (a quality exchange keeps the same variant)."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "validate_exchange_form"

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        """No size is asked for when a faulty item is replaced by the same one."""
        slots = await super().required_slots(domain_slots, dispatcher, tracker, domain)
        if tracker.get_slot("issue_kind") == "quality" and SIZE_SLOT in slots:
            slots.remove(SIZE_SLOT)
        return slots

    async def extract_exchange_size(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """The size or colour wanted: in the reply, else said earlier in this request.

        A size or colour entity (a size only when it is one), "大一码", a size in the words, or
        the short reply while the size is asked for; before it is asked, the messages of this
        request (one sent before a "did you mean" question included) are read too.
        """
        asked = requested(tracker, SIZE_SLOT)
        wanted = size_in(tracker.latest_message or {})
        if wanted:
            return {SIZE_SLOT: wanted}
        text = message_text(tracker)
        if asked and 0 < len(text) <= 20 and not text.startswith("/"):
            return {SIZE_SLOT: text}
        if asked or tracker.get_slot(SIZE_SLOT):
            return {}
        for message in topic_messages(tracker, EXCHANGE_INTENTS)[1:]:
            wanted = size_in(message)
            if wanted:
                return {SIZE_SLOT: wanted}
        return {}

    def validate_exchange_size(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Keeps a size or colour the ordered product comes in; otherwise lists them and re-asks."""
        try:
            with db.session_scope() as session:
                order = identified_order(session, tracker)
                item = exchange_item(session, order, tracker) if order is not None else None
                current = session.get(Sku, item.sku_id) if item is not None else None
                if current is None or resolve_variant(session, current, str(value)):
                    return {SIZE_SLOT: str(value)[:40]}
                product = session.get(Product, current.product_id)
                dispatcher.utter_message(
                    response="utter_exchange_variant_unknown",
                    product=product.name,
                    requested_variant=str(value)[:40],
                    **offered(session, current),
                )
                return {SIZE_SLOT: None}
        except SQLAlchemyError:
            return {SIZE_SLOT: str(value)[:40]}


class ActionRequestExchange(ShopAction):
    """Records an exchange for another size or colour in stock, or a replacement of a faulty one."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_request_exchange"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Checks window and stock, then creates (or converts) the request and asks for the parcel."""
        order, found = order_or_answer(dispatcher, tracker, session, "request_exchange")
        reset = found + [SlotSet(SIZE_SLOT, None)]
        if order is None:
            return reset + [SlotSet(REQUEST_SLOT, None)]
        now = utcnow()
        quality = tracker.get_slot("issue_kind") == "quality"
        size_issue = tracker.get_slot("order_topic") == "report_size_mismatch"
        facts = order_facts(session, order)
        deadline = policy.return_deadline(order.delivered_at, quality)
        facts.update(
            delivered_at=shop_time(order.delivered_at),
            return_deadline=shop_time(deadline),
            window_days=policy.return_window_days(quality),
            quality_window_days=policy.QUALITY_RETURN_DAYS,
        )
        refused = refusal(order, quality, now)
        item = exchange_item(session, order, tracker)
        if refused is not None or item is None:
            response = (refused or "utter_return_not_shipped").replace(
                "utter_return", "utter_exchange"
            )
            dispatcher.utter_message(response=response, **facts)
            return reset + [SlotSet(REQUEST_SLOT, None)]
        current = session.get(Sku, item.sku_id)
        product = session.get(Product, current.product_id)
        wanted = (
            current
            if quality
            else resolve_variant(session, current, str(tracker.get_slot(SIZE_SLOT) or ""))
        )
        facts.update(
            product=product.name, from_variant=variant(current), **offered(session, current)
        )
        if wanted is None:
            facts.update(requested_variant=tracker.get_slot(SIZE_SLOT))
            dispatcher.utter_message(response="utter_exchange_variant_unknown", **facts)
            return reset + [SlotSet(REQUEST_SLOT, None)]
        facts.update(to_variant=variant(wanted), stock=wanted.stock)
        request = None
        if wanted.stock >= item.quantity:
            try:
                request = self._request(
                    session, order, item, wanted, tracker, quality or size_issue, now
                )
            except aftersale_repo.OutOfStock:  # the last one went while we were talking
                session.refresh(wanted)
                facts.update(stock=wanted.stock, **offered(session, current))
        if request is None:
            facts.update(
                restock_date=wanted.restock_date.isoformat() if wanted.restock_date else None
            )
            dispatcher.utter_message(response="utter_exchange_out_of_stock", **facts)
            return reset + [SlotSet(REQUEST_SLOT, None)]
        facts.update(request_facts(session, order, request))
        response = (
            "utter_exchange_created_photo" if request.photo_requested else "utter_exchange_created"
        )
        dispatcher.utter_message(response=response, **facts)
        return reset + [
            SlotSet(REQUEST_SLOT, str(request.id)),
            SlotSet(TRACKING_SLOT, None),
            SlotSet("issue_kind", None),
            SlotSet(ITEM_SLOT, None),
        ]

    @staticmethod
    def _request(
        session: Session,
        order: Order,
        item: OrderItem,
        wanted: Sku,
        tracker: Tracker,
        photo: bool,
        now: Any,
    ) -> ReturnRequest:
        """Records the exchange, reserving the new item; OutOfStock when it is gone."""
        reason = tracker.get_slot("return_reason") or message_text(tracker) or None
        request = aftersale_repo.open_request_for_order(session, order, line=item)
        if request is not None:
            aftersale_repo.make_exchange(session, request, item, wanted.id)
            aftersale_repo.approve(request, now)
            request.photo_requested = request.photo_requested or photo
            session.flush()
            return request
        return repo.create_return(
            session,
            order,
            reason=reason,
            now=now,
            kind="exchange",
            order_item=item,
            exchange_sku_id=wanted.id,
            photo_requested=photo,
        )
