"""Warranty years from the catalogue and the nearest service point in the customer's city."""

from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.kit import which_product
from actions.kit.base import Events, ShopAction
from actions.kit.cards import product_card
from actions.kit.identity import verified_customer_id
from shop.db.models import InstallationProvider, Product
from shop.repository.customers import get_customer
from shop.repository.installation import providers_for_city
from shop.text import inputs


def customer_city(tracker: Tracker, session: Session) -> str:
    """The city named in the conversation, else the signed-in customer's city, else ""."""
    named = inputs.city_name(tracker.get_slot("city"))
    if named:
        return named
    customer_id = verified_customer_id(tracker)
    customer = get_customer(session, customer_id) if customer_id is not None else None
    return customer.city if customer is not None else ""


def provider_facts(provider: InstallationProvider) -> Dict[str, Any]:
    """A service provider as facts (name, address of the service point, contact promise)."""
    return {
        "provider": provider.name,
        "service_point": provider.service_point,
        "contact_within_hours": provider.contact_within_hours,
    }


def nearest_provider(
    session: Session, city: str, product: Optional[Product]
) -> Optional[InstallationProvider]:
    """The best-rated provider of the city that serves the product's category, or None."""
    category = product.category if product is not None and product.needs_installation else None
    providers = providers_for_city(session, city, category=category)
    return providers[0] if providers else None


class ActionCheckWarranty(ShopAction):
    """Warranty of a product and where to have it repaired."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_check_warranty"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Answers with the product's warranty years and the nearest service point."""
        resolution = which_product.resolve(session, tracker)
        product = resolution.product
        city = customer_city(tracker, session)
        if product is None:
            if resolution.status == which_product.NONE:
                self.answer_service_point(dispatcher, session, city)
            else:
                which_product.answer_unresolved(dispatcher, tracker, resolution)
            return []
        facts: Dict[str, Any] = {
            "product": product.name,
            "warranty_years": int(product.warranty_years or 0),
            "card": product_card(product),
        }
        if facts["warranty_years"] <= 0:
            dispatcher.utter_message(response="utter_warranty_not_applicable", **facts)
            return []
        if not city:
            dispatcher.utter_message(response="utter_warranty_product_ask_city", **facts)
            return []
        provider = nearest_provider(session, city, product)
        if provider is None:
            dispatcher.utter_message(
                response="utter_warranty_product_no_service_point", city=city, **facts
            )
            return []
        dispatcher.utter_message(
            response="utter_warranty_product_service_point",
            city=city,
            **provider_facts(provider),
            **facts,
        )
        return []

    def answer_service_point(
        self, dispatcher: CollectingDispatcher, session: Session, city: str
    ) -> None:
        """Without a product: the city's service point, or the general warranty answer."""
        provider = nearest_provider(session, city, None) if city else None
        if provider is None:
            dispatcher.utter_message(response="utter_warranty")
            return
        dispatcher.utter_message(
            response="utter_warranty_service_point", city=city, **provider_facts(provider)
        )
