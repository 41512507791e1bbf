"""Pre-sale installation knowledge from the product's specs: height, cut-outs, flue, wall hooks."""

from __future__ import annotations

from typing import Any, Dict, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.kit import which_product
from actions.kit.base import Events, ShopAction
from actions.kit.cards import product_card
from shop.db.models import Product

TIPS_KEY = "安装提示"
HOB_CUTOUT_KEY = "台面开孔"
HOOD, HOB, HEATER = "油烟机", "燃气灶", "热水器"


def installation_facts(product: Product) -> Tuple[str, Dict[str, Any]]:
    """Choose the installation answer for a product and gather its facts from the catalogue.

    Args:
        product: The product asked about.

    Returns:
        The response name and its facts (dimensions in mm, flue length in m, the spec's tips).

    """
    specs = dict(product.specs or {})
    facts: Dict[str, Any] = {
        "product": product.name,
        "tips": str(specs.get(TIPS_KEY) or ""),
        "height_min_mm": product.mounting_height_min_mm,
        "height_max_mm": product.mounting_height_max_mm,
        "flue_diameter_mm": product.flue_diameter_mm,
        "flue_max_length_m": product.flue_max_length_m,
        "cutout_width_mm": product.ceiling_cutout_width_mm,
        "cutout_depth_mm": product.ceiling_cutout_depth_mm,
        "hob_cutout": str(specs.get(HOB_CUTOUT_KEY) or ""),
        "card": product_card(product),
    }
    if not product.needs_installation:
        return "utter_installation_not_needed", facts
    has_height = product.mounting_height_min_mm is not None
    if product.category == HOOD and has_height:
        if product.ceiling_cutout_width_mm:
            return "utter_installation_hood_ceiling", facts
        return "utter_installation_hood", facts
    if product.category == HOB and facts["hob_cutout"]:
        return "utter_installation_hob", facts
    if product.category == HEATER and has_height:
        if product.flue_diameter_mm:
            return "utter_installation_gas_heater", facts
        return "utter_installation_electric_heater", facts
    return "utter_installation_product_tips", facts


class ActionInstallationInfo(ShopAction):
    """What a customer must prepare before an appliance is installed."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_installation_info"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Answers from the product's installation specs, or in general without a product."""
        resolution = which_product.resolve(session, tracker)
        product = resolution.product
        if product is None:
            if resolution.status == which_product.NONE:
                dispatcher.utter_message(response="utter_installation_info")
            else:
                which_product.answer_unresolved(dispatcher, tracker, resolution)
            return []
        response, facts = installation_facts(product)
        dispatcher.utter_message(response=response, **facts)
        return []
