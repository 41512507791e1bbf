"""Price protection: the paid price against the lowest recorded price within the window.

Within the frontline's authority (the agents table) the difference is granted at once and
recorded on a price-protection ticket; above it the ticket is escalated and a human takes over
(`handoff_reason` = compensation_above_limit). Prices come only from price_history. A returned
and refunded order line gets none: its money is back already (an order refunded in full is
told so with `utter_return_already_done`).
"""

from __future__ import annotations

from typing import AbstractSet, Any, Dict, List, Set, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.aftersale.returns import request_facts
from actions.kit.base import Events, ShopAction
from actions.kit.which_order import order_or_answer
from actions.orders.status import order_facts, shop_time
from shop import repository as repo
from shop.assist_mode import compensation_limit_fen
from shop.db.models import ComplaintTicket, Order, ReturnRequest, utcnow
from shop.money import yuan
from shop.policy import aftersale as policy
from shop.repository import aftersale as aftersale_repo
from shop.repository.price_protection import lowest_price_between

KIND = "price_protection"
OPTION = "refund_difference"


def refunds_of(session: Session, order: Order) -> List[ReturnRequest]:
    """The order's refunded returns, newest first."""
    return [
        r
        for r in aftersale_repo.returns_for_order(session, order)
        if r.kind == "return" and r.status == "refunded"
    ]


def refunded_item_ids(refunds: List[ReturnRequest], item_ids: Set[int]) -> Set[int]:
    """The order lines a refund covers: its line, or every line for a whole-order refund."""
    covered: Set[int] = set()
    for refund in refunds:
        covered |= item_ids if refund.order_item_id is None else {refund.order_item_id}
    return covered & item_ids


def price_drops(
    session: Session, order: Order, until: Any, skip: AbstractSet[int] = frozenset()
) -> List[Dict[str, Any]]:
    """Per order line with a recorded price: paid, lowest since payment, and the difference.

    Lines in `skip` (refunded ones: the money is back already) get no price protection.
    """
    drops = []
    for item in repo.order_items(session, order):
        if item.item_id in skip:
            continue
        lowest = lowest_price_between(session, item.product_id, order.paid_at, until)
        if lowest is None:
            continue
        difference = max(0, item.unit_price_fen - lowest.price_fen) * item.quantity
        drops.append(
            {
                "product": item.product_name,
                "quantity": item.quantity,
                "paid_fen": item.unit_price_fen,
                "lowest_fen": lowest.price_fen,
                "lowest_since": lowest.effective_from,
                "difference_fen": difference,
            }
        )
    return drops


def _ticket_facts(ticket: ComplaintTicket) -> Dict[str, Any]:
    return {
        "ticket_id": ticket.id,
        "difference": yuan(ticket.compensation_fen),
        "difference_fen": int(ticket.compensation_fen),
        "escalated": bool(ticket.escalated),
        "follow_up_by": shop_time(ticket.follow_up_due),
    }


class ActionPriceProtection(ShopAction):
    """Compares prices, grants the difference within the frontline limit, escalates above it."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_price_protection"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Answers from price_history; records the compensation (or the escalation) on a ticket."""
        order, found = order_or_answer(dispatcher, tracker, session, "price_protection")
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
        limit = compensation_limit_fen(session)
        facts = order_facts(session, order)
        facts.update(
            window_days=policy.PRICE_PROTECTION_DAYS,
            limit=yuan(limit),
            limit_fen=limit,
        )
        if order.paid_at is None or order.state == "cancelled":
            dispatcher.utter_message(response="utter_price_protection_not_applicable", **facts)
            return []
        end = policy.price_protection_end(order.paid_at)
        facts.update(window_end=shop_time(end))
        previous = aftersale_repo.tickets_for_order(session, order, kind=KIND)
        if previous:
            facts.update(_ticket_facts(previous[0]))
            dispatcher.utter_message(response="utter_price_protection_already", **facts)
            return []
        refunds = refunds_of(session, order)
        item_ids = {item.item_id for item in repo.order_items(session, order)}
        refunded = refunded_item_ids(refunds, item_ids)
        if refunds and refunded == item_ids:
            # every line was returned and refunded: nothing left whose price could be protected
            facts.update(request_facts(session, order, refunds[0]))
            facts.update(return_tracking_number=refunds[0].return_tracking_number)
            dispatcher.utter_message(response="utter_return_already_done", **facts)
            return []
        if now > end:
            dispatcher.utter_message(response="utter_price_protection_expired", **facts)
            return []
        drops = price_drops(session, order, now, skip=refunded)
        if not drops:
            dispatcher.utter_message(response="utter_price_protection_no_record", **facts)
            return []
        biggest = max(drops, key=lambda d: (d["difference_fen"], d["paid_fen"]))
        total = sum(d["difference_fen"] for d in drops)
        facts.update(
            product=biggest["product"],
            paid_price=yuan(biggest["paid_fen"]),
            paid_price_fen=biggest["paid_fen"],
            lowest_price=yuan(biggest["lowest_fen"]),
            lowest_price_fen=biggest["lowest_fen"],
            lowest_since=shop_time(biggest["lowest_since"]),
        )
        if total == 0:
            dispatcher.utter_message(response="utter_price_protection_no_drop", **facts)
            return []
        ticket = self._ticket(session, order, drops, total, limit, now)
        facts.update(_ticket_facts(ticket))
        if ticket.escalated:
            dispatcher.utter_message(response="utter_price_protection_escalated", **facts)
            return [SlotSet("handoff_reason", "compensation_above_limit")]
        dispatcher.utter_message(response="utter_price_protection_compensated", **facts)
        return []

    @staticmethod
    def _ticket(
        session: Session,
        order: Order,
        drops: List[Dict[str, Any]],
        total: int,
        limit: int,
        now: Any,
    ) -> ComplaintTicket:
        description = "; ".join(
            f"{d['product']} x{d['quantity']}: {yuan(d['paid_fen'])} -> " f"{yuan(d['lowest_fen'])}"
            for d in drops
            if d["difference_fen"]
        )
        ticket = repo.create_ticket(
            session,
            customer_id=order.customer_id,
            now=now,
            category="price",
            kind=KIND,
            severity="low",
            description=description,
            demand=OPTION,
            options_offered=[OPTION],
            order_id=order.id,
        )
        return repo.record_ticket_choice(
            session,
            ticket,
            chosen_option=OPTION,
            now=now,
            compensation_fen=total,
            authority_fen=limit,
            resolution=f"{OPTION} {yuan(total)}",
        )
