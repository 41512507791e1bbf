"""Quality issues: a photo is asked for (and recorded), a replacement or a refund is offered.

Within 15 days of delivery the issue is recorded as a return request with the photo request, for
the faulty item (asked for when the order has several and the customer named none of them); the
refund offered is that item's share of what was paid. The customer then picks a replacement
(exchange form) or a refund (return form). Later, the warranty route is offered; before
delivery, the customer is told to check or refuse the parcel.
"""

from __future__ import annotations

from typing import Any, Dict, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.aftersale.returns import (
    ITEM_SLOT,
    chosen_line,
    line_choices,
    request_facts,
    return_refund_fen,
)
from actions.kit.base import Events, ShopAction
from actions.kit.order_forms import message_text
from actions.kit.which_order import order_or_answer
from actions.orders.status import order_facts, shop_time
from shop import repository as repo
from shop.db.models import Order, Product, Sku, utcnow
from shop.money import yuan
from shop.policy import aftersale as policy
from shop.repository import aftersale as aftersale_repo
from shop.text import inputs


class ActionReportQualityIssue(ShopAction):
    """A faulty item: asks for a photo (recorded), offers a replacement or a refund per policy."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_report_quality_issue"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Within 15 days of delivery records the issue with a photo request; later, warranty."""
        order, found = order_or_answer(dispatcher, tracker, session, "report_quality_issue")
        if order is None:
            return found
        return found + self._answer_for(dispatcher, tracker, session, order)

    def _answer_for(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        session: Session,
        order: Order,
    ) -> Events:
        """The answer for the order the customer may see."""
        now = utcnow()
        facts = order_facts(session, order)
        facts.update(quality_window_days=policy.QUALITY_RETURN_DAYS)
        if order.state not in policy.RECEIVED_STATES:
            response = (
                "utter_quality_in_transit"
                if order.state == "shipped"
                else "utter_quality_not_received"
            )
            dispatcher.utter_message(response=response, **facts)
            return []
        known, item = chosen_line(session, order, tracker, whole_allowed=False)
        if not known or item is None:  # several items: which one is faulty?
            dispatcher.utter_message(
                response="utter_ask_return_item",
                **line_choices(session, order, intent="report_quality_issue"),
            )
            return []
        product = session.get(Product, session.get(Sku, item.sku_id).product_id)
        deadline = policy.return_deadline(order.delivered_at, True)
        facts.update(
            product=product.name,
            delivered_at=shop_time(order.delivered_at),
            return_deadline=shop_time(deadline),
            warranty_years=product.warranty_years,
        )
        if now > deadline:
            response = (
                "utter_quality_warranty_route"
                if facts["warranty_years"]
                else "utter_quality_window_passed"
            )
            dispatcher.utter_message(response=response, **facts)
            return []
        reason = _quality_words(tracker)
        request = aftersale_repo.open_request_for_order(session, order, line=item)
        refund = return_refund_fen(
            session, order, item, True, except_request_id=request.id if request else None
        )
        if request is None:
            request = repo.create_return(
                session,
                order,
                reason=reason,
                now=now,
                order_item=item,
                refund_fen=refund,
                photo_requested=True,
                approved=False,  # approved when the customer asks for the return
            )
        else:
            request.photo_requested = True
            request.order_item_id = item.id
            if request.kind == "return":
                request.refund_fen = refund
            session.flush()
        facts.update(request_facts(session, order, request))
        facts.update(refund_amount=yuan(refund), refund_fen=refund)
        dispatcher.utter_message(response="utter_quality_issue_photo", **facts)
        return [
            SlotSet("issue_kind", "quality"),
            SlotSet("return_reason", reason),
            SlotSet(ITEM_SLOT, str(item.id)),
        ]


def _quality_words(tracker: Tracker) -> str:
    """What the customer said about the fault: their latest message reporting it."""
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            text = str(event.get("text") or "")
            if intent == "report_quality_issue" and not text.startswith("/"):
                return inputs.clean_text(text)
    text = message_text(tracker)
    return (None if text.startswith("/") else inputs.clean_text(text)) or "quality issue"
