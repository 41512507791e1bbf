"""Returns: 7-day no-reason returns from delivery; the refund goes out with the return's number.

The return form asks for the order (number + phone tail, or the signed-in customer), which of
its items when it has several, and the reason; `action_request_return` records the request and
the return shipment form then asks for the return parcel's tracking number. The refund is issued
the moment that number is given, not when the parcel arrives (`action_record_return_shipment`),
once the number is checked (`shop.repository.aftersale.refused_number`); a refund above the
automatic limit or on a number no carrier's format confirms waits for a person, and the customer
is told within what time (`shop.policy.refunds`).

Returning one item of several refunds that item's share of what was paid (its total less its
share of the order's discount), never more than is still refundable on the order.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.kit.base import Events, ShopAction
from actions.kit.details import message_details, topic_messages
from actions.kit.order_forms import (
    OrderFormValidator,
    free_text_answer,
    latest_intent,
    message_text,
    not_an_answer,
    requested,
)
from actions.kit.which_order import identified_order, order_or_answer
from actions.orders.status import order_card, order_facts, shop_time
from shop import db
from shop import repository as repo
from shop.conversation import customer_words
from shop.db.models import Order, OrderItem, ReturnRequest, Sku, utcnow
from shop.money import yuan
from shop.policy import aftersale as policy
from shop.policy import refunds as refund_policy
from shop.repository import aftersale as aftersale_repo
from shop.repository.catalog import find_products
from shop.text import inputs, parsing
from shop.text.details import tracking_attempt

Slots = Dict[Text, Any]
REQUEST_SLOT = "return_request_id"
TRACKING_SLOT = "return_tracking_number"
# The order line being returned (its id), or WHOLE_ORDER; asked only when there are several.
ITEM_SLOT = "return_item"
WHOLE_ORDER = "all"
WHOLE_ORDER_TITLE = "全部商品"
_WHOLE_WORDS = re.compile(r"全部|整单|全都|都退|全退|所有|一起退")
_ORDINAL = re.compile(r"第?([1-9一二两三四五六七八九])(?:个|件|项|款)?")
# Requests already carried out: their line (or the whole order, without one) is not returned again.
_DONE = ("return_shipped", "refunded", "exchange_shipped")
# Intents that start an after-sale request: product names are looked for back to the latest.
_REQUEST_INTENTS = (
    "request_return",
    "report_quality_issue",
    "request_exchange",
    "report_size_mismatch",
)
# Words of the request itself; what is left of the first message is taken as the reason.
_REQUEST_WORDS = re.compile(
    r"我要|我想|想要|申请|帮我|可以|能不能|能|怎么|如何|退货|退款|退掉|退了|退|一下|吗|呢|啊|了|"
    r"吧|的|亲|你好|请问|[\s,.!?，。！？~]"
)
# A question asked with the request, and the details given with it: neither is a reason.
_QUESTION = re.compile(r"[?？]|吗|谁|怎么|多少|几天|什么时候|能不能|可不可以|是不是|会不会")
_DETAILS = re.compile(
    r"(订单号?|单号|尾号|手机号?|后四位|末四[位码])?\s*[:：]?\s*[0-9a-z]{4,}|已经?寄(回去|出|回)?了?",
    re.I,
)
# Why a number is refused -> the response that says so (anything else: invalid number).
_REFUSAL_RESPONSES = {
    "outbound": "utter_return_tracking_is_outbound",
    "not_approved": "utter_return_no_open_request",
    "closed": "utter_return_no_open_request",
}


def mistaken_tracking_number(number: Any, order_number: Any) -> bool:
    """Whether a well-formed tracking number is plainly something else.

    Args:
        number: The tracking number as typed (or cleaned).
        order_number: The order's number (slot or row), if known.

    Returns:
        True for a mobile number, the order's own number, or a number with a carrier's format
        but a wrong check digit: none of them may trigger a refund.

    """
    clean = inputs.tracking_number(number)
    if clean is None:
        return False
    return refund_policy.not_a_parcel(
        clean, inputs.order_number(order_number)
    ) or refund_policy.fails_check_rule(clean)


def _taken_elsewhere(tracker: Tracker, number: str) -> bool:
    """Whether the number is a parcel the shop sent or was given for another return.

    False when no shop can be asked: the action checks again and apologises if it is down.
    """
    if not (tracker.get_slot("order_id") or tracker.get_slot(REQUEST_SLOT)):
        return False  # no order in the conversation yet: the action checks when it records
    try:
        with db.session_scope() as session:
            return aftersale_repo.parcel_sent_by_shop(
                session, number
            ) or aftersale_repo.return_tracking_in_use(
                session, number, except_request_id=inputs.record_id(tracker.get_slot(REQUEST_SLOT))
            )
    except SQLAlchemyError:
        return False


def line_title(item: OrderItem) -> str:
    """How an order line is named to the customer: "衣见直筒休闲裤（黑色/M）"."""
    variant = "/".join(v for v in (item.sku.colour, item.sku.size) if v)
    name = item.sku.product.name
    return f"{name}（{variant}）" if variant else name


def _squash(text: Any) -> str:
    return re.sub(r"[\s()（）/]", "", parsing.normalise(str(text or ""))).lower()


def _narrow_by_variant(items: List[OrderItem], words: str) -> List[OrderItem]:
    tokens = set(re.findall(r"[a-z0-9]+", words))
    picked = [
        i
        for i in items
        if (i.sku.size and i.sku.size.lower() in tokens)
        or (i.sku.colour and i.sku.colour.lower() in words)
    ]
    return picked or items


def line_in_words(session: Session, order: Order, text: Any) -> Optional[OrderItem]:
    """The one line of the order the words name, or None when they name none or several.

    By the line's title, then its product name (either way round), then the catalog matcher
    (category aliases, brands, typos) restricted to the order's products; several lines of the
    matched products are told apart by a size or colour in the words.
    """
    words = _squash(text)
    if len(words) < 2:
        return None
    items = list(order.items)
    titled = [i for i in items if _squash(line_title(i)) in words]
    if len(titled) == 1:
        return titled[0]
    named = [
        i
        for i in items
        if _squash(i.sku.product.name) in words or words in _squash(i.sku.product.name)
    ]
    if not named and not words.isdigit():
        found = {p.id for p in find_products(session, text, limit=20)}
        named = [i for i in items if i.sku.product_id in found]
    named = _narrow_by_variant(named, words)
    return named[0] if len(named) == 1 else None


def returnable_lines(session: Session, order: Order) -> List[OrderItem]:
    """The order's lines not already returned or exchanged (the choices offered, in order)."""
    done = {
        r.order_item_id
        for r in repo.returns_for_order(session, order)
        if r.status in _DONE and r.order_item_id is not None
    }
    return [i for i in order.items if i.id not in done]


def picked_line(session: Session, order: Order, text: str) -> Tuple[bool, Optional[OrderItem]]:
    """The answer to "which item?": (True, line), (True, None) for all of them, or (False, None).

    By number in the offered list ("2", "第二个"), by "全部", or by the item's name.
    """
    offered = returnable_lines(session, order)
    squashed = _squash(text)
    number = _ORDINAL.fullmatch(squashed)
    if number:
        index = parsing.chinese_number(number.group(1)) or 0
        if 1 <= index <= len(offered):
            return True, offered[index - 1]
        if index == len(offered) + 1 and len(offered) > 1:
            return True, None
        return False, None
    if _WHOLE_WORDS.search(squashed) or squashed == _squash(WHOLE_ORDER_TITLE):
        return True, None
    line = line_in_words(session, order, text)
    return line is not None, line


def mentioned_products(tracker: Tracker) -> List[str]:
    """Product names the customer gave in this request, newest first.

    The `product` entities of the latest message, then of the messages (and `product` slot
    values) back to the one that started the return, quality report or exchange; anything said
    before it (a pre-sale question about another product) does not count.
    """
    found = [
        str(e.get("value"))
        for e in tracker.latest_message.get("entities") or []
        if e.get("entity") == "product" and e.get("value")
    ]
    for event in reversed(tracker.events or []):
        if event.get("event") == "slot" and event.get("name") == "product" and event.get("value"):
            found.append(str(event["value"]))
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        found += [
            str(e.get("value"))
            for e in parse.get("entities") or []
            if e.get("entity") == "product" and e.get("value")
        ]
        if (parse.get("intent") or {}).get("name") in _REQUEST_INTENTS:
            break
    return list(dict.fromkeys(found))


def chosen_line(
    session: Session, order: Order, tracker: Tracker, *, whole_allowed: bool = True
) -> Tuple[bool, Optional[OrderItem]]:
    """The line the customer is returning: (known, line); line None when known is the whole order.

    The only line of a one-line order; else the `return_item` slot, else the one line the
    product names of this request match. Unknown (False, None) means: ask which one.
    """
    items = list(order.items)
    if len(items) <= 1:
        return True, items[0] if items else None
    value = tracker.get_slot(ITEM_SLOT)
    if value == WHOLE_ORDER and whole_allowed:
        return True, None
    line = line_of(order, value)
    if line is not None:
        return True, line
    for name in mentioned_products(tracker):
        line = line_in_words(session, order, name)
        if line is not None:
            return True, line
    return False, None


def line_of(order: Order, value: Any) -> Optional[OrderItem]:
    """The order's line whose id the value is (a `return_item` slot), or None."""
    line_id = inputs.record_id(value)
    return next((i for i in order.items if i.id == line_id), None)


def line_choices(session: Session, order: Order, *, intent: Optional[str] = None) -> Dict[str, Any]:
    """Facts asking which item: the numbered list and the `choices` buttons.

    Without `intent` the buttons send the item's name (the return form reads it) and there is
    one for all of them; with it they send `/<intent>{"product": …}` to restart that request.
    """
    offered = returnable_lines(session, order) or list(order.items)
    titles = [line_title(i) for i in offered]
    options = [f"{n}. {line_title(i)}×{i.quantity}" for n, i in enumerate(offered, 1)]
    if intent is None:
        choices = [{"title": t, "payload": t} for t in titles]
        if len(offered) > 1:
            options.append(f"{len(offered) + 1}. {WHOLE_ORDER_TITLE}")
            choices.append({"title": WHOLE_ORDER_TITLE, "payload": WHOLE_ORDER_TITLE})
    else:
        choices = [
            {
                "title": t,
                "payload": f"/{intent}" + json.dumps({"product": t}, ensure_ascii=False),
            }
            for t in titles
        ]
    return {"order_id": order.order_number, "item_options": "；".join(options), "choices": choices}


def return_refund_fen(
    session: Session,
    order: Order,
    line: Optional[OrderItem],
    quality: bool,
    *,
    except_request_id: Optional[int] = None,
) -> int:
    """What a return refunds, in fen, never more than is still refundable on the order.

    The whole order (or its only line): what was paid, less the shipping fee for a no-reason
    return. One line of several: its total less its share of the discount.
    """
    base = order.payable_fen if quality else order.payable_fen - order.shipping_fee_fen
    left = base - aftersale_repo.refunds_committed_fen(
        session, order, except_request_id=except_request_id
    )
    if line is not None and len(order.items) > 1:
        left = min(left, aftersale_repo.line_paid_fen(order, line))
    return max(0, left)


def reason_in(text: str) -> Optional[str]:
    """The reason in a return request ("买大了想退货" → the text), None when bare.

    A question ("退货运费谁出啊") is no reason, and neither is a message that only gives the
    order, its tail or a parcel's number.
    """
    if _QUESTION.search(text):
        return None
    words = " ".join(_DETAILS.sub(" ", text).split())
    return words if len(_REQUEST_WORDS.sub("", words)) >= 2 else None


def refusal(order: Order, quality_issue: bool, now: Any) -> Optional[str]:
    """The response refusing a return of this order now, or None when it may be returned."""
    if order.state in ("unpaid", "paid"):
        return "utter_return_not_shipped"
    if order.state == "shipped":
        return "utter_return_in_transit"
    if order.state == "cancelled":
        return "utter_return_order_cancelled"
    deadline = policy.return_deadline(order.delivered_at, quality_issue)
    if deadline is None or now > deadline:
        return (
            "utter_return_quality_window_passed" if quality_issue else "utter_return_window_passed"
        )
    return None


def request_facts(session: Session, order: Order, request: ReturnRequest) -> Dict[str, Any]:
    """Facts of a return or exchange request (amounts in fen and yuan, shop times)."""
    return {
        "order_id": order.order_number,
        "request_id": request.id,
        "return_kind": request.kind,
        "refund_amount": yuan(request.refund_fen),
        "refund_fen": int(request.refund_fen),
        "requested_at": shop_time(request.created_at),
        "photo_requested": bool(request.photo_requested),
        "card": order_card(session, order),
    }


class ValidateReturnForm(OrderFormValidator):
    """Order and reason of a return."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "validate_return_form"

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        """The form's slots, less what the order makes needless.

        No item is asked for when the order has a single line; neither item nor reason when
        the order's return is approved already and waits for its parcel.
        """
        slots = await super().required_slots(domain_slots, dispatcher, tracker, domain)
        several, waiting = _order_state(tracker)
        if ITEM_SLOT in slots and (not several or waiting):
            slots.remove(ITEM_SLOT)
        if "return_reason" in slots and waiting:
            slots.remove("return_reason")
        return slots

    async def extract_return_item(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """The item picked while asked for, or the one the request's product names match."""
        asked = requested(tracker, ITEM_SLOT)
        if tracker.get_slot(ITEM_SLOT) and not asked:
            return {}
        try:
            with db.session_scope() as session:
                order = identified_order(session, tracker)
                if order is None or len(order.items) <= 1:
                    return {}
                if not asked:
                    known, line = chosen_line(session, order, tracker)
                    return {ITEM_SLOT: str(line.id)} if known and line is not None else {}
                if not_an_answer(tracker):
                    return {}
                text = message_text(tracker)
                known, line = picked_line(session, order, text)
                if not known:
                    known, line = chosen_line(session, order, tracker)
                if known:
                    return {ITEM_SLOT: str(line.id) if line is not None else WHOLE_ORDER}
                if text and latest_intent(tracker) in ("inform", "request_return", None):
                    return {ITEM_SLOT: text[:40]}  # not one of them: asked again
                return {}
        except SQLAlchemyError:
            return {}

    def validate_return_item(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Keeps a line of the order (or the whole order); anything else is asked again."""
        if value == WHOLE_ORDER:
            return {ITEM_SLOT: value}
        try:
            with db.session_scope() as session:
                order = identified_order(session, tracker)
                line = line_of(order, value) if order is not None else None
                return {ITEM_SLOT: str(line.id) if line is not None else None}
        except SQLAlchemyError:
            return {ITEM_SLOT: None}

    async def extract_return_reason(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """The reply while the reason is asked for, or the reason in the request itself."""
        if requested(tracker, "return_reason"):
            return free_text_answer(tracker, "return_reason")
        if tracker.get_slot("return_reason") or latest_intent(tracker) != "request_return":
            return {}
        text = message_text(tracker)
        reason = None if text.startswith("/") else reason_in(text)
        return {"return_reason": reason[:200]} if reason else {}


def _order_state(tracker: Tracker) -> Tuple[bool, bool]:
    """Whether the identified order has several lines, and whether a return of it waits.

    Several lines is True while the order is not known yet; a return waits when it is approved
    already and the parcel's number has not been given.
    """
    try:
        with db.session_scope() as session:
            order = identified_order(session, tracker, "request_return")
            if order is None:
                return True, False
            request = aftersale_repo.open_request_for_order(session, order)
            waiting = (
                request is not None
                and request.kind == "return"
                and request.status == "approved"
                and not request.return_tracking_number
            )
            return len(order.items) > 1, waiting
    except SQLAlchemyError:
        return True, False  # asked: the question's action apologises if the shop is unavailable


class ActionAskReturnItem(ShopAction):
    """Asks which item of a several-item order is returned, the items as buttons."""

    def name(self) -> Text:
        """The action's name in the domain (asks for the return_item slot)."""
        return "action_ask_return_item"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Lists the order's items not yet returned, plus "all of them"."""
        order, events = order_or_answer(dispatcher, tracker, session, "request_return")
        if order is None:
            return events
        dispatcher.utter_message(response="utter_ask_return_item", **line_choices(session, order))
        return events


class ValidateReturnShipmentForm(FormValidationAction):
    """The return parcel's tracking number."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "validate_return_shipment_form"

    async def extract_return_tracking_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """The return parcel's number: in the reply while asked for, else given with the request.

        Only a tracking number counts: a mobile number or a reply without any number (寄了,
        明天寄) fills nothing and is asked again, never stored as the parcel's number.
        """
        if not requested(tracker, TRACKING_SLOT):
            given = return_number_given(tracker)
            return {TRACKING_SLOT: given} if given else {}
        found = message_details(tracker.latest_message or {}, TRACKING_SLOT)
        if found.tracking_numbers:
            # "订单 2024… 的退货单号 SF…": the first number that is not the order's or a phone's
            order = tracker.get_slot("order_id")
            usable = [n for n in found.tracking_numbers if not mistaken_tracking_number(n, order)]
            return {TRACKING_SLOT: (usable or list(found.tracking_numbers))[0]}
        if found.mobile_tails or latest_intent(tracker) in ("inform", "track_logistics", None):
            return {TRACKING_SLOT: None}  # validated below: said what it is, or asked again
        return {}

    def validate_return_tracking_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Accepts 8-32 letters and digits; anything else is asked again.

        A mobile number, the order's own number, a wrong check digit, one of the shop's own
        parcels or a number already given for another return is asked again too: any of them
        would otherwise trigger a refund. A reply with no number at all is asked again without
        being called a wrong number.
        """
        number = inputs.tracking_number(value)
        if number is not None and (
            mistaken_tracking_number(number, tracker.get_slot("order_id"))
            or _taken_elsewhere(tracker, number)
        ):
            number = None
        if number is None:
            refusal = wrong_number_response(tracker)
            if refusal is not None:
                dispatcher.utter_message(response=refusal)
        return {TRACKING_SLOT: number}


def wrong_number_response(tracker: Tracker) -> Optional[str]:
    """What to say about a reply that gave no usable return parcel number (None: just ask).

    A mobile number is named as one; a number of some other kind is called wrong; a reply with
    no number at all ("寄了") gets no such remark.
    """
    found = message_details(tracker.latest_message or {}, TRACKING_SLOT)
    if found.mobile_tails and not found.tracking_numbers:
        return "utter_return_tracking_is_phone"
    if found.tracking_numbers or tracking_attempt(customer_words(tracker.latest_message or {})):
        return "utter_invalid_return_tracking_number"
    return None


def return_number_given(tracker: Tracker) -> Optional[str]:
    """A usable return parcel number the customer gave with this request (newest first).

    Numbers that are plainly something else, the shop's own parcels and numbers of other
    returns are passed over without a word: the form asks for the number.
    """
    order = tracker.get_slot("order_id")
    for message in topic_messages(tracker, _REQUEST_INTENTS):
        for number in reversed(message_details(message).tracking_numbers):
            if not mistaken_tracking_number(number, order) and not _taken_elsewhere(
                tracker, number
            ):
                return number
    return None


class ActionRequestReturn(ShopAction):
    """Records a return within the policy, or refuses honestly and names the alternative."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_request_return"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Creates (or reuses) the order's return request and asks for the return parcel."""
        order, found = order_or_answer(dispatcher, tracker, session, "request_return")
        if order is None:
            return found + [SlotSet(REQUEST_SLOT, None)]
        now = utcnow()
        quality = tracker.get_slot("issue_kind") == "quality"
        known, line = chosen_line(session, order, tracker)
        waiting = aftersale_repo.open_request_for_order(session, order)
        if not known and waiting is not None and waiting.kind == "return":
            known, line = True, line_of(order, waiting.order_item_id)  # the return agreed before
        items = repo.order_items(session, order)
        facts = order_facts(session, order)
        views = [v for v in items if line is None or v.item_id == line.id] or items
        category = views[0].category if views else None
        if line is not None:
            facts.update(product=line.sku.product.name)
        deadline = policy.return_deadline(order.delivered_at, quality)
        facts.update(
            delivered_at=shop_time(order.delivered_at),
            return_deadline=shop_time(deadline),
            window_days=policy.return_window_days(quality),
            quality_window_days=policy.QUALITY_RETURN_DAYS,
            return_condition=policy.return_condition(category),
        )
        done = [
            r
            for r in repo.returns_for_order(session, order)
            if r.status in _DONE
            and (r.order_item_id is None or (line is not None and r.order_item_id == line.id))
        ]
        if done and order.state in policy.RECEIVED_STATES:
            facts.update(request_facts(session, order, done[0]))
            facts.update(return_tracking_number=done[0].return_tracking_number)
            dispatcher.utter_message(response="utter_return_already_done", **facts)
            return found + [SlotSet(REQUEST_SLOT, None)]
        refused = refusal(order, quality, now)
        agreed = waiting is not None and waiting.kind == "return" and waiting.status == "approved"
        if refused is not None and not agreed:  # a return agreed in time stays agreed
            dispatcher.utter_message(response=refused, **facts)
            return found + [SlotSet(REQUEST_SLOT, None)]
        if not known:  # the form was not asked: never refund the whole order by default
            dispatcher.utter_message(
                response="utter_ask_return_item",
                **line_choices(session, order, intent="request_return"),
            )
            return found + [SlotSet(REQUEST_SLOT, None)]
        request = self._request(session, order, line, tracker, quality, now)
        facts.update(request_facts(session, order, request))
        dispatcher.utter_message(response="utter_return_created", **facts)
        return found + [
            SlotSet(REQUEST_SLOT, str(request.id)),
            SlotSet(TRACKING_SLOT, None),
            SlotSet("issue_kind", None),
            SlotSet(ITEM_SLOT, None),
        ]

    @staticmethod
    def _request(
        session: Session,
        order: Order,
        line: Optional[OrderItem],
        tracker: Tracker,
        quality: bool,
        now: Any,
    ) -> ReturnRequest:
        reason = tracker.get_slot("return_reason")
        request = aftersale_repo.open_request_for_order(session, order, line=line)
        refund = return_refund_fen(
            session, order, line, quality, except_request_id=request.id if request else None
        )
        if request is not None:
            aftersale_repo.release_exchange(session, request)  # its new item goes back on sale
            request.kind, request.refund_fen = "return", refund
            request.order_item_id = line.id if line is not None else None
            request.photo_requested = request.photo_requested or quality
            if reason:
                request.reason = inputs.clean_text(reason)
            aftersale_repo.approve(request, now)
            session.flush()
            return request
        return repo.create_return(
            session,
            order,
            reason=reason,
            now=now,
            order_item=line,
            refund_fen=refund,
            photo_requested=quality,
        )


class ActionRecordReturnShipment(ShopAction):
    """Takes the return parcel's tracking number and refunds (or re-sends) at once."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_record_return_shipment"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Records the number; a return is refunded now, an exchange's new item is sent now.

        Either waits for a person when the number's carrier is not known (a refund also when
        it is above the automatic limit), and the customer is told until when.
        """
        order, found = order_or_answer(dispatcher, tracker, session, "request_return")
        reset = found + [SlotSet(TRACKING_SLOT, None)]
        if order is None:
            return reset
        request = aftersale_repo.request_of_order(
            session, order, tracker.get_slot(REQUEST_SLOT)
        ) or aftersale_repo.open_request_for_order(session, order)
        facts = order_facts(session, order)
        if request is None:
            dispatcher.utter_message(response="utter_return_no_open_request", **facts)
            return reset + [SlotSet(REQUEST_SLOT, None)]
        number = tracker.get_slot(TRACKING_SLOT) or tracker.get_slot("tracking_number")
        if not number:
            response = wrong_number_response(tracker) or "utter_ask_return_tracking_number"
            dispatcher.utter_message(response=response, **facts)
            return reset
        now = utcnow()
        try:
            repo.record_return_shipment(session, request, number, now)
        except aftersale_repo.NumberRefused as refused:
            reason = refused.reason
            if reason == "outbound" and inputs.tracking_number(number) not in {
                s.tracking_number for s in order.shipments
            }:
                reason = "in_use"  # another order's parcel: not "the one we sent you"
            response = _REFUSAL_RESPONSES.get(reason, "utter_invalid_return_tracking_number")
            dispatcher.utter_message(response=response, **facts)
            return reset
        facts.update(request_facts(session, order, request))
        facts.update(
            return_tracking_number=request.return_tracking_number,
            return_shipped_at=shop_time(now),
        )
        if request.refund_state == "under_review":
            facts.update(
                review_hours=refund_policy.REVIEW_HOURS,
                review_due=shop_time(request.review_due),
            )
        if request.kind != "return":
            facts.update(exchange_variant=_variant_label(session, request))
            held = request.refund_state == "under_review"
            response = "utter_exchange_under_review" if held else "utter_exchange_sent"
            dispatcher.utter_message(response=response, **facts)
        elif request.refund_state == "under_review":
            dispatcher.utter_message(response="utter_refund_under_review", **facts)
        else:
            facts.update(
                refunded_at=shop_time(request.refunded_at),
                refund_channel=policy.label("refund_channel", "original"),
                expected_by=shop_time(policy.refund_expected_by(request.refunded_at)),
            )
            dispatcher.utter_message(response="utter_refund_issued", **facts)
        return reset + [
            SlotSet(REQUEST_SLOT, None),
            SlotSet("return_reason", None),
            SlotSet(ITEM_SLOT, None),
        ]


def _variant_label(session: Session, request: ReturnRequest) -> Optional[str]:
    sku = session.get(Sku, request.exchange_sku_id) if request.exchange_sku_id else None
    if sku is None:
        return None
    return "/".join(v for v in (sku.colour, sku.size) if v) or None


__all__: List[str] = [
    "ActionAskReturnItem",
    "ActionRecordReturnShipment",
    "ActionRequestReturn",
    "ValidateReturnForm",
    "ValidateReturnShipmentForm",
]
