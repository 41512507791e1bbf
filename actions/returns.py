"""Returns: 7-day no-reason returns from delivery; the refund goes out with the return's number.

The return form asks for the order (number + phone tail, or the signed-in customer) and the
reason; `action_request_return` records the request and the return shipment form then asks for
the return parcel's tracking number. The refund is issued the moment that number is given, not
when the parcel arrives (`action_record_return_shipment`).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions import aftersale_policy as policy
from actions import db
from actions import repository as repo
from actions.base import Events, ShopAction
from actions.identity import identified_order
from actions.models import Order, ReturnRequest, Sku, utcnow
from actions.order_forms import (
    OrderFormValidator,
    free_text_answer,
    latest_intent,
    message_text,
    requested,
)
from actions.orders import order_card, order_facts, order_not_found, shop_time
from actions.repository import _inputs
from actions.repository import aftersale as aftersale_repo

Slots = Dict[Text, Any]
REQUEST_SLOT = "return_request_id"
TRACKING_SLOT = "return_tracking_number"
# Words of the request itself; what is left of the first message is taken as the reason.
_REQUEST_WORDS = re.compile(
    r"我要|我想|想要|申请|帮我|可以|能不能|能|怎么|如何|退货|退款|退掉|退了|退|一下|吗|呢|啊|了|"
    r"吧|的|亲|你好|请问|[\s,.!?，。！？~]"
)
_TRACKING = re.compile(r"[a-z]{0,4}\d{8,20}", re.I)
# A mainland mobile number (optionally with the country code) is never a parcel's number.
_MOBILE = re.compile(r"(?:86)?1[3-9]\d{9}")


def mistaken_tracking_number(number: Any, order_number: Any) -> bool:
    """Whether a well-formed tracking number is plainly something else.

    Args:
        number: The tracking number as typed (or cleaned).
        order_number: The order's number (slot or row), if known.

    Returns:
        True for a mobile number or the order's own number: neither may trigger a refund.

    """
    clean = _inputs.tracking_number(number)
    if clean is None:
        return False
    return bool(_MOBILE.fullmatch(clean)) or clean == _inputs.order_number(order_number)


def _given_for_another_return(tracker: Tracker, number: str) -> bool:
    """Whether the number was already given for another return (False when no shop to ask)."""
    if not (tracker.get_slot("order_id") or tracker.get_slot(REQUEST_SLOT)):
        return False  # no order in the conversation yet: the action checks when it records
    try:
        with db.session_scope() as session:
            return aftersale_repo.return_tracking_in_use(
                session, number, except_request_id=_inputs.record_id(tracker.get_slot(REQUEST_SLOT))
            )
    except SQLAlchemyError:
        return False  # the action checks again and apologises if the shop is unavailable


def reason_in(text: str) -> Optional[str]:
    """The reason in a return request ("买大了想退货" → the whole text), None when bare."""
    return text if len(_REQUEST_WORDS.sub("", text)) >= 2 else None


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
        "refund_amount": policy.yuan(request.refund_fen),
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

    async def extract_return_reason(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """The reply while the reason is asked for, or the reason in the request itself."""
        if requested(tracker, "return_reason"):
            return free_text_answer(tracker, "return_reason")
        if tracker.get_slot("return_reason") or latest_intent(tracker) != "request_return":
            return {}
        reason = reason_in(message_text(tracker))
        return {"return_reason": reason[:200]} if reason else {}


class ValidateReturnShipmentForm(FormValidationAction):
    """The return parcel's tracking number."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "validate_return_shipment_form"

    async def extract_return_tracking_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """A tracking number anywhere in the reply while it is asked for."""
        if not requested(tracker, TRACKING_SLOT):
            return {}
        text = message_text(tracker).replace(" ", "").replace("-", "")
        found = [m.group(0).upper() for m in _TRACKING.finditer(text)]
        if found:
            # "订单 2024… 的退货单号 SF…": the first number that is not the order's or a phone's
            order = tracker.get_slot("order_id")
            usable = [n for n in found if not mistaken_tracking_number(n, order)]
            return {TRACKING_SLOT: (usable or found)[0]}
        if latest_intent(tracker) in ("inform", "track_logistics", None):
            return {TRACKING_SLOT: message_text(tracker)[:40]}
        return {}

    def validate_return_tracking_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Accepts 8-32 letters and digits; anything else is asked again.

        A mobile number, the order's own number or a number already given for another return
        is asked again too: any of them would otherwise trigger a refund.
        """
        number = _inputs.tracking_number(value)
        if number is not None and (
            mistaken_tracking_number(number, tracker.get_slot("order_id"))
            or _given_for_another_return(tracker, number)
        ):
            number = None
        if number is None:
            dispatcher.utter_message(response="utter_invalid_return_tracking_number")
        return {TRACKING_SLOT: number}


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
        order = identified_order(session, tracker)
        if order is None:
            return order_not_found(dispatcher) + [SlotSet(REQUEST_SLOT, None)]
        now = utcnow()
        quality = tracker.get_slot("issue_kind") == "quality"
        items = repo.order_items(session, order)
        facts = order_facts(session, order)
        category = items[0].category if items else None
        deadline = policy.return_deadline(order.delivered_at, quality)
        facts.update(
            delivered_at=shop_time(order.delivered_at),
            return_deadline=shop_time(deadline),
            window_days=policy.return_window_days(quality),
            quality_window_days=policy.QUALITY_RETURN_DAYS,
            return_condition=policy.return_condition(category),
        )
        done = [r for r in repo.returns_for_order(session, order) if r.status in _DONE]
        if done and order.state in policy.RECEIVED_STATES:
            facts.update(request_facts(session, order, done[0]))
            facts.update(return_tracking_number=done[0].return_tracking_number)
            dispatcher.utter_message(response="utter_return_already_done", **facts)
            return [SlotSet(REQUEST_SLOT, None)]
        refused = refusal(order, quality, now)
        if refused is not None:
            dispatcher.utter_message(response=refused, **facts)
            return [SlotSet(REQUEST_SLOT, None)]
        request = self._request(session, order, tracker, quality, now)
        facts.update(request_facts(session, order, request))
        dispatcher.utter_message(response="utter_return_created", **facts)
        return [
            SlotSet(REQUEST_SLOT, str(request.id)),
            SlotSet(TRACKING_SLOT, None),
            SlotSet("issue_kind", None),
        ]

    @staticmethod
    def _request(
        session: Session, order: Order, tracker: Tracker, quality: bool, now: Any
    ) -> ReturnRequest:
        refund = order.payable_fen if quality else order.payable_fen - order.shipping_fee_fen
        reason = tracker.get_slot("return_reason")
        request = aftersale_repo.open_request_for_order(session, order)
        if request is not None:
            request.kind, request.exchange_sku_id, request.refund_fen = "return", None, refund
            request.photo_requested = request.photo_requested or quality
            if reason:
                request.reason = _inputs.clean_text(reason)
            session.flush()
            return request
        items = order.items
        return repo.create_return(
            session,
            order,
            reason=reason,
            now=now,
            order_item=items[0] if len(items) == 1 else None,
            refund_fen=max(0, refund),
            photo_requested=quality,
        )


_DONE = ("return_shipped", "refunded", "exchange_shipped")


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
        """Records the number; a return is refunded now, an exchange's new item is sent now."""
        reset = [SlotSet(TRACKING_SLOT, None)]
        order = identified_order(session, tracker)
        if order is None:
            return order_not_found(dispatcher) + reset
        request = aftersale_repo.request_of_order(
            session, order, tracker.get_slot(REQUEST_SLOT)
        ) or aftersale_repo.open_request_for_order(session, order)
        facts = order_facts(session, order)
        if request is None:
            dispatcher.utter_message(response="utter_return_no_open_request", **facts)
            return reset + [SlotSet(REQUEST_SLOT, None)]
        number = tracker.get_slot(TRACKING_SLOT) or tracker.get_slot("tracking_number")
        clean = _inputs.tracking_number(number)
        outbound = {s.tracking_number for s in order.shipments}
        if clean is None or clean in outbound:
            response = (
                "utter_return_tracking_is_outbound"
                if clean in outbound
                else "utter_invalid_return_tracking_number"
            )
            dispatcher.utter_message(response=response, **facts)
            return reset
        if mistaken_tracking_number(
            clean, order.order_number
        ) or aftersale_repo.return_tracking_in_use(session, clean, except_request_id=request.id):
            dispatcher.utter_message(response="utter_invalid_return_tracking_number", **facts)
            return reset
        now = utcnow()
        repo.record_return_shipment(session, request, clean, now)
        facts.update(request_facts(session, order, request))
        facts.update(return_tracking_number=clean, return_shipped_at=shop_time(now))
        if request.kind == "return":
            facts.update(
                refunded_at=shop_time(request.refunded_at),
                refund_channel=policy.label("refund_channel", "original"),
                expected_by=shop_time(policy.refund_expected_by(request.refunded_at)),
            )
            dispatcher.utter_message(response="utter_refund_issued", **facts)
        else:
            facts.update(exchange_variant=_variant_label(session, request))
            dispatcher.utter_message(response="utter_exchange_sent", **facts)
        return reset + [SlotSet(REQUEST_SLOT, None), SlotSet("return_reason", None)]


def _variant_label(session: Session, request: ReturnRequest) -> Optional[str]:
    sku = session.get(Sku, request.exchange_sku_id) if request.exchange_sku_id else None
    if sku is None:
        return None
    return "/".join(v for v in (sku.colour, sku.size) if v) or None


__all__: List[str] = [
    "ActionRecordReturnShipment",
    "ActionRequestReturn",
    "ValidateReturnForm",
    "ValidateReturnShipmentForm",
]
