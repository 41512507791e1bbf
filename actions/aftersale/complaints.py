"""Complaints in four steps: confirm, classify, offer options, record choice and follow-up.

The steps are the seeds': confirm the problem and the customer's demand, classify the severity,
offer two or three options allowed by policy, record the choice and a follow-up date.

What the frontline may not grant (a safety issue, money above its authority, multiple
compensation) is escalated: the ticket is marked and a human takes over (`handoff_reason`).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.kit.base import Events, ShopAction
from actions.kit.order_forms import (
    OrderFormValidator,
    free_text_answer,
    latest_intent,
    message_text,
    requested,
    verbatim_text,
)
from actions.kit.which_order import order_or_answer
from actions.orders.status import order_card, shop_time
from shop import repository as repo
from shop.assist_mode import compensation_limit_fen
from shop.db.models import ComplaintTicket, Order, utcnow
from shop.money import yuan
from shop.policy import aftersale as policy
from shop.repository import aftersale as aftersale_repo
from shop.text import inputs

Slots = Dict[Text, Any]
DESCRIPTION, DEMAND, OPTION, TICKET = (
    "complaint_description",
    "complaint_demand",
    "complaint_option",
    "complaint_ticket_id",
)
_BARE = re.compile(r"我要|我想|要|投诉|你们|你|差评|举报|客服|店家|商家|[\s,.!?，。！？~]")


def classification(tracker: Tracker) -> Tuple[str, str]:
    """(category, severity) of the complaint from the problem and the demand as told."""
    text = f"{tracker.get_slot(DESCRIPTION) or ''} {tracker.get_slot(DEMAND) or ''}"
    return policy.classify_complaint(text)


def options_for(tracker: Tracker) -> List[Tuple[str, str]]:
    """The (code, label) options policy allows for this complaint."""
    return policy.complaint_options(*classification(tracker))


def _ticket_of(session: Session, tracker: Tracker, order: Order) -> Optional[ComplaintTicket]:
    ticket_id = inputs.record_id(tracker.get_slot(TICKET))
    ticket = session.get(ComplaintTicket, ticket_id) if ticket_id is not None else None
    if ticket is None or ticket.order_id != order.id or ticket.kind != "complaint":
        return None
    return ticket


def _facts(tracker: Tracker, ticket: ComplaintTicket, order: Order, session: Session) -> Dict:
    return {
        "order_id": order.order_number,
        "ticket_id": ticket.id,
        "description": ticket.description,
        "demand": ticket.demand,
        "category": ticket.category,
        "category_label": policy.label("complaint_category", ticket.category),
        "severity": ticket.severity,
        "severity_label": policy.label("severity", ticket.severity),
        "follow_up_by": shop_time(ticket.follow_up_due),
        "card": order_card(session, order),
    }


class ValidateComplaintForm(OrderFormValidator):
    """Order, what happened, what the customer wants, and the option they choose."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "validate_complaint_form"

    async def extract_complaint_description(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """The reply when asked, or the complaint message itself when it tells what happened."""
        if requested(tracker, DESCRIPTION):
            return free_text_answer(tracker, DESCRIPTION)
        if tracker.get_slot(DESCRIPTION) or latest_intent(tracker) != "complain":
            return {}
        text = message_text(tracker)
        return {DESCRIPTION: verbatim_text(tracker)} if len(_BARE.sub("", text)) >= 4 else {}

    async def extract_complaint_demand(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """The reply while the demand is asked for."""
        return free_text_answer(tracker, DEMAND)

    async def extract_complaint_option(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """The option picked (button, label or number) while the options are offered."""
        if not requested(tracker, OPTION):
            return {}
        text = message_text(tracker)
        picked = policy.pick_option(text, options_for(tracker))
        return {OPTION: picked or text[:64]} if text else {}

    def validate_complaint_option(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Keeps one of the offered options; anything else is asked again."""
        if value in dict(options_for(tracker)):
            return {OPTION: value}
        dispatcher.utter_message(response="utter_invalid_complaint_option")
        return {OPTION: None}


class ActionAskComplaintOption(ShopAction):
    """Confirms problem and demand, classifies, opens the ticket and offers the options."""

    def name(self) -> Text:
        """The action's name in the domain (asks for the complaint_option slot)."""
        return "action_ask_complaint_option"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Opens (once) the complaint ticket with the offered options and shows them as buttons."""
        order, found = order_or_answer(dispatcher, tracker, session, "complain")
        if order is None:
            return found
        category, severity = classification(tracker)
        options = policy.complaint_options(category, severity)
        ticket = _ticket_of(session, tracker, order)
        if ticket is None:
            ticket = repo.create_ticket(
                session,
                customer_id=order.customer_id,
                now=utcnow(),
                category=category,
                severity=severity,
                description=tracker.get_slot(DESCRIPTION),
                demand=tracker.get_slot(DEMAND),
                options_offered=[title for _, title in options],
                order_id=order.id,
            )
        facts = _facts(tracker, ticket, order, session)
        facts.update(
            options="；".join(f"{n}. {title}" for n, (_, title) in enumerate(options, 1)),
            beyond_frontline=policy.beyond_frontline(
                str(tracker.get_slot(DEMAND) or ""), severity, compensation_limit_fen(session)
            ),
        )
        dispatcher.utter_message(
            response="utter_complaint_options",
            choices=[{"title": title, "payload": title} for _, title in options],
            **facts,
        )
        return found + [SlotSet(TICKET, str(ticket.id))]


class ActionFileComplaint(ShopAction):
    """Records the chosen option and the follow-up; escalates what the frontline may not grant."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_file_complaint"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Writes the choice to the ticket; a supervisor takes over when it is beyond the limit."""
        order, found = order_or_answer(dispatcher, tracker, session, "complain")
        reset = found + [SlotSet(s, None) for s in (DESCRIPTION, DEMAND, OPTION, TICKET)]
        if order is None:
            return reset
        category, severity = classification(tracker)
        ticket = _ticket_of(session, tracker, order) or repo.create_ticket(
            session,
            customer_id=order.customer_id,
            now=utcnow(),
            category=category,
            severity=severity,
            description=tracker.get_slot(DESCRIPTION),
            demand=tracker.get_slot(DEMAND),
            options_offered=[title for _, title in policy.complaint_options(category, severity)],
            order_id=order.id,
        )
        code = tracker.get_slot(OPTION)
        offered = policy.complaint_options(ticket.category, ticket.severity)
        title = dict(offered).get(code, code)
        compensation = policy.OPTION_COMPENSATION_FEN.get(code, 0)
        limit = compensation_limit_fen(session)
        escalate = compensation > limit or policy.beyond_frontline(
            str(ticket.demand or ""), ticket.severity, limit
        )
        aftersale_repo.record_complaint_choice(
            session, ticket, chosen_option=title, compensation_fen=compensation, escalate=escalate
        )
        facts = _facts(tracker, ticket, order, session)
        facts.update(
            chosen_option=title,
            compensation=yuan(compensation),
            compensation_fen=compensation,
        )
        if escalate:
            dispatcher.utter_message(response="utter_complaint_escalated", **facts)
            demanded = policy.demanded_amount_fen(str(ticket.demand or "")) or 0
            over = max(compensation, demanded) > limit
            reason = "compensation_above_limit" if over else "complaint"
            return reset + [SlotSet("handoff_reason", reason)]
        dispatcher.utter_message(response="utter_complaint_recorded", **facts)
        return reset
