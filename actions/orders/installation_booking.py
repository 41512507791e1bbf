"""Installation visits: the booking form's validation and the action that records the visit.

The form collects the order (verified by the signed-in customer or the phone tail), the city
(taken from the order when not named), the day and the part of the day in natural Chinese
(周六上午, 明天下午, 11月25日). The visit goes to the best provider of the city, which must call
the customer before its contact deadline; both are told to the customer. Asking again about an
order that already has a visit reports that visit (and its overdue call, if any).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.kit import which_order
from actions.kit.base import Events, ShopAction
from actions.kit.forms import ValidateOrderLookupForm, short_reply
from actions.kit.identity import order_by_number, verified_customer_id
from actions.orders.status import order_facts
from shop import clock, db
from shop.db.models import InstallationAppointment, Order, Product
from shop.repository.installation import (
    INSTALLABLE_ORDER_STATES,
    active_appointment_for_order,
    create_installation_appointment,
    providers_for_city,
)
from shop.text import inputs
from shop.text.dates import parse_day
from shop.text.normalise import normalise

logger = logging.getLogger(__name__)
MAX_DAYS_AHEAD = 60
# Words for the part of the day (checked in this order) and how a visit's slot is named.
PART_OF_DAY_WORDS = (
    ("evening", ("晚上", "傍晚", "晚间", "夜里", "下班后", "下班以后")),
    ("afternoon", ("下午", "中午", "午后", "下半天")),
    ("morning", ("上午", "早上", "早晨", "上半天", "一早")),
)
PART_OF_DAY_LABELS = {"morning": "上午", "afternoon": "下午", "evening": "晚上"}
Slots = Dict[Text, Any]


def _requested(tracker: Tracker, slot: str) -> bool:
    return tracker.get_slot("requested_slot") == slot


def part_of_day(text: Any) -> Optional[str]:
    """The visit slot (morning, afternoon, evening) a customer's words name, or None."""
    value = normalise(str(text or ""))
    for slot, words in PART_OF_DAY_WORDS:
        if any(word in value for word in words):
            return slot
    return None


def visit_day(text: Any, today: date) -> Optional[date]:
    """The visit day named (an ISO day as stored in the slot, or natural Chinese), or None."""
    value = str(text or "").strip()
    try:
        return date.fromisoformat(value)
    except ValueError:
        return parse_day(value, today)


def installable_product(order: Order) -> Optional[Product]:
    """The first product of an order that needs installation, or None."""
    for item in order.items:
        product = item.sku.product
        if product.needs_installation:
            return product
    return None


def refuse_uninstallable(dispatcher: CollectingDispatcher, session: Session, order: Order) -> bool:
    """Answers an order that cannot get a visit (unpaid or cancelled) with its state.

    Returns:
        True when the order was refused, False when it may be booked.

    """
    if order.state in INSTALLABLE_ORDER_STATES:
        return False
    facts = order_facts(session, order)
    if order.state == "cancelled":
        facts["cancelled_at"] = clock.moment_text(order.cancelled_at)
        dispatcher.utter_message(response="utter_order_status_cancelled", **facts)
    else:
        dispatcher.utter_message(response="utter_order_status_unpaid", **facts)
    return True


def appointment_facts(order: Order, appointment: InstallationAppointment) -> Dict[str, Any]:
    """An appointment as facts (day, slot and its name, provider, contact deadline)."""
    provider = appointment.provider
    return {
        "order_id": order.order_number,
        "appointment_id": appointment.id,
        "product": appointment.product.name if appointment.product is not None else "",
        "city": appointment.city,
        "date": appointment.date.isoformat(),
        "slot": appointment.slot,
        "time_of_day": PART_OF_DAY_LABELS[appointment.slot],
        "status": appointment.status,
        "provider": provider.name,
        "service_point": provider.service_point,
        "contact_within_hours": provider.contact_within_hours,
        "contact_deadline": clock.moment_text(appointment.contact_deadline),
    }


class ValidateInstallationForm(ValidateOrderLookupForm):
    """Order (and its owner), city, day and part of the day of an installation visit."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "validate_installation_form"

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        """A signed-in customer is not asked for the phone tail.

        The order number stays required so that its validation fills the city and an existing
        visit; a signed-in customer's only installable order is taken without asking (see
        `extract_order_id`), several are offered as buttons.
        """
        if verified_customer_id(tracker) is not None:
            return [slot for slot in domain_slots if slot != "phone_tail"]
        return domain_slots

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """A signed-in customer's only recent order with an appliance is taken without asking."""
        found = await super().extract_order_id(dispatcher, tracker, domain)
        customer_id = verified_customer_id(tracker)
        if found or tracker.get_slot("order_id") or customer_id is None:
            return found
        try:
            with db.session_scope() as session:
                resolution = which_order.resolve(session, tracker, "book_installation")
                if resolution.status != which_order.FOUND:
                    return {}
                return {"order_id": resolution.order.order_number}
        except SQLAlchemyError as error:
            logger.error("installation form: shop database unavailable (%s)", type(error).__name__)
            return {}

    async def extract_city(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Takes a short bare reply as the city while it is being asked for."""
        reply = short_reply(tracker, limit=10) if _requested(tracker, "city") else None
        return {"city": reply} if reply else {}

    async def extract_date(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Takes the reply as the day while it is being asked for (validated below)."""
        reply = short_reply(tracker, limit=20) if _requested(tracker, "date") else None
        return {"date": reply} if reply else {}

    async def extract_install_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Reads 上午 / 下午 / 晚上 (and their variants) from any reply during the form."""
        slot = part_of_day(tracker.latest_message.get("text"))
        return {"install_slot": slot} if slot else {}

    def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Checks the format; for a signed-in customer also that the order is theirs."""
        result = super().validate_order_id(value, dispatcher, tracker, domain)
        customer_id = verified_customer_id(tracker)
        if result.get("order_id") and customer_id is not None:
            return self.identify(dispatcher, tracker, result["order_id"], None)
        return result

    def validate_phone_tail(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Checks the format and that order number and phone tail belong together."""
        result = super().validate_phone_tail(value, dispatcher, tracker, domain)
        number = tracker.get_slot("order_id")
        if result.get("phone_tail") and number:
            return self.identify(dispatcher, tracker, number, result["phone_tail"])
        return result

    def identify(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        number: str,
        tail: Optional[str],
    ) -> Slots:
        """Finds the order; prefills the city and an existing visit; re-asks when it is wrong.

        Only a paid, shipped, delivered or completed order can get a visit; an unpaid or
        cancelled one is answered with its state and forgotten.
        """
        forget = {"order_id": None, "phone_tail": None}
        try:
            with db.session_scope() as session:
                order = order_by_number(session, tracker, number, tail)
                if order is None and verified_customer_id(tracker) is not None:
                    dispatcher.utter_message(
                        response="utter_order_not_found_for_account", order_id=number
                    )
                    return {"order_id": None}
                if order is None:
                    dispatcher.utter_message(response="utter_order_not_found")
                    return forget
                if refuse_uninstallable(dispatcher, session, order):
                    return forget
                if installable_product(order) is None:
                    dispatcher.utter_message(
                        response="utter_installation_no_appliance", order_id=order.order_number
                    )
                    return forget
                slots: Slots = {"order_id": order.order_number}
                if tail:
                    slots["phone_tail"] = tail
                if not tracker.get_slot("city"):
                    slots["city"] = order.shipping_city
                existing = active_appointment_for_order(session, order.id)
                if existing is not None:
                    slots.update(
                        city=existing.city,
                        date=existing.date.isoformat(),
                        install_slot=existing.slot,
                    )
                return slots
        except SQLAlchemyError as error:
            logger.error("installation form: shop database unavailable (%s)", type(error).__name__)
            dispatcher.utter_message(response="utter_shop_unavailable")
            return forget

    def validate_city(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Accepts a city with an installation provider; otherwise says where there is one."""
        city = inputs.city_name(value)
        try:
            with db.session_scope() as session:
                if city and providers_for_city(session, city):
                    return {"city": city}
        except SQLAlchemyError as error:
            logger.error("installation form: shop database unavailable (%s)", type(error).__name__)
            dispatcher.utter_message(response="utter_shop_unavailable")
            return {"city": None}
        dispatcher.utter_message(response="utter_installation_city_not_covered", city=city)
        return {"city": None}

    def validate_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Accepts a day from tomorrow to 60 days ahead; keeps a part of the day said with it."""
        today = clock.today()
        day = visit_day(value, today)
        slots: Slots = {}
        slot = part_of_day(value) or part_of_day(tracker.latest_message.get("text"))
        if slot:
            slots["install_slot"] = slot
        if day is None or day <= today or day > today + timedelta(days=MAX_DAYS_AHEAD):
            dispatcher.utter_message(
                response="utter_invalid_install_date",
                date=str(value),
                earliest=(today + timedelta(days=1)).isoformat(),
                latest=(today + timedelta(days=MAX_DAYS_AHEAD)).isoformat(),
            )
            return {**slots, "date": None}
        return {**slots, "date": day.isoformat()}

    def validate_install_slot(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Accepts morning, afternoon or evening."""
        if value in PART_OF_DAY_LABELS:
            return {"install_slot": value}
        return {"install_slot": part_of_day(value)}


class ActionBookInstallation(ShopAction):
    """Records the installation visit (or reports the one already booked) for the order."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_book_installation"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Books the visit with the city's provider and tells the day and the call deadline."""
        done = [SlotSet("date", None), SlotSet("install_slot", None)]
        now = clock.now()
        order = order_by_number(
            session, tracker, tracker.get_slot("order_id"), tracker.get_slot("phone_tail")
        )
        if order is None:
            dispatcher.utter_message(response="utter_order_not_found")
            return done
        if refuse_uninstallable(dispatcher, session, order):
            return done
        existing = active_appointment_for_order(session, order.id)
        if existing is not None:
            facts = appointment_facts(order, existing)
            overdue = existing.status == "booked" and existing.contact_deadline < now
            response = "utter_installation_contact_overdue" if overdue else None
            dispatcher.utter_message(response=response or "utter_installation_existing", **facts)
            return done
        product = installable_product(order)
        if product is None:
            dispatcher.utter_message(
                response="utter_installation_no_appliance", order_id=order.order_number
            )
            return done
        city = inputs.city_name(tracker.get_slot("city")) or order.shipping_city
        providers = providers_for_city(session, city, category=product.category)
        if not providers:
            dispatcher.utter_message(response="utter_installation_city_not_covered", city=city)
            return done
        day = visit_day(tracker.get_slot("date"), now.date())
        slot = tracker.get_slot("install_slot")
        try:
            appointment = create_installation_appointment(
                session,
                customer_id=order.customer_id,
                provider=providers[0],
                address=order.address_masked,
                day=day,
                slot=slot,
                now=now,
                order_id=order.id,
                product_id=product.id,
            )
        except (ValueError, TypeError):
            dispatcher.utter_message(response="utter_ask_date")
            return done
        session.refresh(appointment)
        dispatcher.utter_message(
            response="utter_installation_booked", **appointment_facts(order, appointment)
        )
        return done
