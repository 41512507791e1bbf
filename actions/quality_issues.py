"""Quality issues: a photo is asked for (and recorded), a replacement or a refund is offered.

Within 15 days of delivery the issue is recorded as a return request with the photo request;
the customer then picks a replacement (exchange form) or a refund (return form). Later, the
warranty route is offered; before delivery, the customer is told to check or refuse the parcel.
"""

from __future__ import annotations

from typing import Any, Dict, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions import aftersale_policy as policy
from actions import repository as repo
from actions.base import Events, ShopAction
from actions.identity import identified_order
from actions.models import Product, Sku, utcnow
from actions.order_forms import message_text
from actions.orders import order_facts, order_not_found, shop_time
from actions.repository import _inputs
from actions.repository import aftersale as aftersale_repo
from actions.returns import request_facts


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
        order = identified_order(session, tracker)
        if order is None:
            return order_not_found(dispatcher)
        now = utcnow()
        facts = order_facts(session, order)
        item = order.items[0] if order.items else None
        product = session.get(Product, session.get(Sku, item.sku_id).product_id) if item else None
        deadline = policy.return_deadline(order.delivered_at, True)
        facts.update(
            product=product.name if product else None,
            delivered_at=shop_time(order.delivered_at),
            return_deadline=shop_time(deadline),
            quality_window_days=policy.QUALITY_RETURN_DAYS,
            warranty_years=product.warranty_years if product else 0,
        )
        if order.state not in policy.RECEIVED_STATES:
            response = (
                "utter_quality_in_transit"
                if order.state == "shipped"
                else "utter_quality_not_received"
            )
            dispatcher.utter_message(response=response, **facts)
            return []
        if now > deadline:
            response = (
                "utter_quality_warranty_route"
                if facts["warranty_years"]
                else "utter_quality_window_passed"
            )
            dispatcher.utter_message(response=response, **facts)
            return []
        reason = _quality_words(tracker)
        request = aftersale_repo.open_request_for_order(session, order)
        if request is None:
            request = repo.create_return(
                session,
                order,
                reason=reason,
                now=now,
                order_item=item if len(order.items) == 1 else None,
                refund_fen=order.payable_fen,
                photo_requested=True,
            )
        else:
            request.photo_requested = True
            session.flush()
        facts.update(request_facts(session, order, request))
        facts.update(refund_amount=policy.yuan(order.payable_fen), refund_fen=order.payable_fen)
        dispatcher.utter_message(response="utter_quality_issue_photo", **facts)
        return [SlotSet("issue_kind", "quality"), SlotSet("return_reason", reason)]


def _quality_words(tracker: Tracker) -> str:
    """What the customer said about the fault: their latest message reporting it."""
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent == "report_quality_issue":
                return _inputs.clean_text(event.get("text"))
    return _inputs.clean_text(message_text(tracker)) or "quality issue"
