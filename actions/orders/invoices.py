"""Invoice requests: recorded for delivered or completed orders with the time they are issued by."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError
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
from actions.kit.which_order import identified_order, order_or_answer
from actions.orders.status import order_facts, shop_time
from shop import db
from shop.db.models import utcnow
from shop.policy import aftersale as policy
from shop.repository import order_changes as changes

Slots = Dict[Text, Any]
TITLE_SLOT = "invoice_title"
_TAX_NUMBER = re.compile(r"(?<![0-9a-z])[0-9a-z]{15}(?:[0-9a-z]{3})?(?![0-9a-z])", re.I)
_TITLE_WORDS = re.compile(r"个人|本人|公司|有限|集团|单位|中心|研究|学校|医院|工作室|厂|税号")
# A title given with the request: what follows 抬头 (写/是/开 …), up to the end of the clause.
_TITLE_GIVEN = re.compile(
    r"抬头\s*(?:就)?(?:写成?|是|开成?|为|用|:|：)?\s*([^\s,，。!！?？]{2,60}?)"
    r"(?:就行|就好|就可以|即可|吧|哈|谢谢|[\s,，。!！?？]|$)"
)
# A question asked while the title is asked for ("电子的还是纸质的？") is no title.
_QUESTION = re.compile(r"[?？]|吗|呢|什么|还是|怎么|多久|哪")
# A personal title said before 抬头 or as 个人发票 ("个人抬头", "开个人的发票").
_PERSONAL = re.compile(r"个人的?(?:抬头|发票|就行|就好|就可以)|抬头.{0,3}个人")
_NOISE = re.compile(r"(开|要)?(发票)?抬头(是|为)?|(纳税人识别号|税号)(是|为)?|[:：,，。]|\s")


def split_title(text: str) -> Tuple[str, Optional[str]]:
    """Return (title, tax number) from a reply like "杭州某某科技有限公司 税号91330100MA2XXXXX0X"."""
    found = _TAX_NUMBER.search(text or "")
    tax = found.group(0).upper() if found else None
    rest = _TAX_NUMBER.sub("", text or "")
    return _NOISE.sub("", rest)[:64], tax


def title_needed(tracker: Tracker) -> bool:
    """Whether the title must still be asked for.

    Not for an order that cannot be invoiced (unpaid or cancelled) nor for one whose invoice
    is already requested: the action answers those at once. When the order is not known yet,
    or the shop database cannot be read, the title is asked for.
    """
    try:
        with db.session_scope() as session:
            order = identified_order(session, tracker, "ask_invoice")
            if order is None:
                return True
            if order.state in ("unpaid", "cancelled"):
                return False
            return not changes.invoice_requests_for_order(session, order)
    except SQLAlchemyError:
        return True


def requested_response(tax_number: Optional[str]) -> str:
    """The confirmation of a recorded request: with the tax number, so a typo can be caught."""
    return "utter_invoice_requested_with_tax_number" if tax_number else "utter_invoice_requested"


class ValidateInvoiceForm(OrderFormValidator):
    """Order and the invoice title (with the tax number for a company)."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "validate_invoice_form"

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        """The title is asked for only when the order can and still must be invoiced."""
        slots = await super().required_slots(domain_slots, dispatcher, tracker, domain)
        if TITLE_SLOT in slots and not tracker.get_slot(TITLE_SLOT) and not title_needed(tracker):
            slots.remove(TITLE_SLOT)
        return slots

    async def extract_invoice_title(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """The title: the reply while it is asked for, or given with the request.

        A reply naming 个人 is taken even when it reads like "人工"; with the request the words
        after 抬头 count ("能开发票吗 … 抬头写个人就行"), with a tax number anywhere in it.
        """
        if requested(tracker, TITLE_SLOT) and _TITLE_WORDS.search(message_text(tracker)):
            return {TITLE_SLOT: message_text(tracker)[:100]}
        if not requested(tracker, TITLE_SLOT) and not tracker.get_slot(TITLE_SLOT):
            text = verbatim_text(tracker, 160)
            given, tax = _TITLE_GIVEN.search(text), _TAX_NUMBER.search(text)
            if given is None:
                return {TITLE_SLOT: "个人"} if _PERSONAL.search(text) else {}
            title = f"{given.group(1)} {tax.group(0)}" if tax else given.group(1)
            return {TITLE_SLOT: title[:100]}
        return free_text_answer(tracker, TITLE_SLOT, limit=100)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Validates; a title taken from a message read as "human, please" asks for nobody."""
        events = await super().run(dispatcher, tracker, domain)
        took = any(e.get("name") == TITLE_SLOT and e.get("value") for e in events)
        if took and latest_intent(tracker) == "request_human":
            events.append(SlotSet("handoff_reason", None))
        return events

    def validate_invoice_title(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """A title of at least two characters (个人 or a company name), not a question."""
        title, _ = split_title(str(value or ""))
        question = _QUESTION.search(str(value or "")) and not _TITLE_WORDS.search(title)
        if len(title) < 2 or question:
            dispatcher.utter_message(response="utter_invalid_invoice_title")
            return {TITLE_SLOT: None}
        return {TITLE_SLOT: str(value)[:100]}


class ActionRequestInvoice(ShopAction):
    """Records an invoice request for a received order and says when it will be issued."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_request_invoice"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Delivered/completed: recorded with its issue time; before delivery: the title is kept."""
        order, found = order_or_answer(dispatcher, tracker, session, "ask_invoice")
        reset = found + [SlotSet(TITLE_SLOT, None)]
        if order is None:
            return reset
        title, tax = split_title(str(tracker.get_slot(TITLE_SLOT) or ""))
        facts = order_facts(session, order)
        facts.update(
            invoice_title=title or None, tax_number=tax, issue_hours=policy.INVOICE_ISSUE_HOURS
        )
        if order.state in ("unpaid", "cancelled"):
            dispatcher.utter_message(response="utter_invoice_not_available", **facts)
            return reset
        if order.state not in policy.RECEIVED_STATES:
            order.invoice_title = title or order.invoice_title
            session.flush()
            dispatcher.utter_message(response="utter_invoice_after_delivery", **facts)
            return reset
        existing = changes.invoice_requests_for_order(session, order)
        if existing:
            first = existing[0]
            facts.update(
                invoice_title=first.title,
                requested_at=shop_time(first.requested_at),
                issue_by=shop_time(first.issue_by),
            )
            dispatcher.utter_message(response="utter_invoice_already_requested", **facts)
            return reset
        row = changes.create_invoice_request(
            session,
            order,
            title=title,
            tax_number=tax,
            now=utcnow(),
            hours=policy.INVOICE_ISSUE_HOURS,
        )
        facts.update(
            invoice_title=row.title,
            requested_at=shop_time(row.requested_at),
            issue_by=shop_time(row.issue_by),
        )
        dispatcher.utter_message(response=requested_response(row.tax_number), **facts)
        return reset
