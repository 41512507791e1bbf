"""Stock and product facts, answered from the shop's catalogue."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.kit import which_product
from actions.kit.base import Events, ShopAction
from shop.db.models import Product
from shop.money import yuan
from shop.repository.catalog import StockInfo, stock_for

LIST_SEPARATOR = "、"
# Spec keys (as stored in the catalogue) that answer each kind of question, first one present wins.
MATERIAL_KEYS = ("面料", "鞋面", "面板")
DIMENSION_KEYS = ("尺寸", "台面开孔", "容量", "规格", "净含量")
SHELF_LIFE_KEYS = ("保质期",)
USAGE_KEYS = ("使用方法", "冲调", "洗涤", "储存")
HIDDEN_SPEC_KEYS = ("variant_label", "net_weight_g")


def join_names(names: Iterable[Optional[str]]) -> str:
    """Join distinct non-empty names in their first-seen order."""
    seen: List[str] = []
    for name in names:
        if name and name not in seen:
            seen.append(name)
    return LIST_SEPARATOR.join(seen)


def variant_label(colour: Optional[str], size: Optional[str]) -> str:
    """Name a SKU by its colour and size ("浅蓝 M"); empty for a product without variants."""
    return " ".join(part for part in (colour, size) if part)


def resolve_product(
    dispatcher: CollectingDispatcher, tracker: Tracker, session: Session
) -> Optional[Product]:
    """The product the customer means; else asks which one or says it is not sold (None)."""
    return which_product.product_or_answer(dispatcher, tracker, session)


def _first_spec(specs: Dict[str, Any], keys: Iterable[str]) -> str:
    for key in keys:
        if specs.get(key):
            return str(specs[key])
    return ""


def _restock(rows: List[StockInfo]) -> Optional[str]:
    dates = sorted(r.restock_date for r in rows if r.restock_date is not None)
    return dates[0].isoformat() if dates else None


class ActionCheckStock(ShopAction):
    """Stock of a product per colour and size, with the restock date when sold out."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_check_stock"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Answers with the stock of the asked variant(s) of the product."""
        product = resolve_product(dispatcher, tracker, session)
        if product is None:
            return []
        colour = str(tracker.get_slot("color") or "").strip()
        size = str(tracker.get_slot("size") or "").strip().upper()
        rows = stock_for(session, product, colour=colour or None, size=size or None)
        if not rows:
            all_rows = stock_for(session, product)
            dispatcher.utter_message(
                response="utter_stock_variant_not_found",
                product=product.name,
                requested_variant=variant_label(colour, size),
                colours_offered=join_names(r.colour for r in all_rows),
                sizes_offered=join_names(r.size for r in all_rows),
            )
            return []
        available = [r for r in rows if r.in_stock]
        sold_out = [r for r in rows if not r.in_stock]
        if not available:
            variant = join_names(variant_label(r.colour, r.size) for r in sold_out)
            restock = _restock(sold_out)
            if restock:
                dispatcher.utter_message(
                    response="utter_stock_sold_out",
                    product=product.name,
                    variant=variant,
                    restock_date=restock,
                )
            else:
                dispatcher.utter_message(
                    response="utter_stock_sold_out_no_restock_date",
                    product=product.name,
                    variant=variant,
                )
            return []
        if len(rows) == 1:
            dispatcher.utter_message(
                response="utter_stock_available",
                product=product.name,
                variant=variant_label(rows[0].colour, rows[0].size),
                stock=rows[0].stock,
            )
            return []
        facts = {
            "product": product.name,
            "available_variants": join_names(variant_label(r.colour, r.size) for r in available),
            "total_stock": sum(r.stock for r in available),
        }
        if not sold_out:
            dispatcher.utter_message(response="utter_stock_overview", **facts)
            return []
        facts["sold_out_variants"] = join_names(variant_label(r.colour, r.size) for r in sold_out)
        restock = _restock(sold_out)
        if restock:
            dispatcher.utter_message(
                response="utter_stock_overview_partly_sold_out", restock_date=restock, **facts
            )
        else:
            dispatcher.utter_message(
                response="utter_stock_overview_partly_sold_out_no_restock_date", **facts
            )
        return []


def product_facts(product: Product, rows: List[StockInfo]) -> Dict[str, Any]:
    """The facts a product-information answer is given from (specs as stored, price in yuan).

    Args:
        product: The product.
        rows: Its SKUs' stock rows (for the colours or flavours offered).

    Returns:
        Facts: product, brand, price_yuan, material, dimensions, shelf_life, usage, colours
        (may be empty), variants_offered (colours, else the SKUs' labels such as 10ml), specs
        (every customer-facing spec as "key: value" pairs), warranty_years.

    """
    specs = dict(product.specs or {})
    listed = [
        f"{key}: {value}"
        for key, value in specs.items()
        if key not in HIDDEN_SPEC_KEYS and value not in (None, "")
    ]
    return {
        "product": product.name,
        "brand": product.brand,
        "price_yuan": yuan(product.price_fen),
        "material": _first_spec(specs, MATERIAL_KEYS),
        "dimensions": _first_spec(specs, DIMENSION_KEYS),
        "shelf_life": _first_spec(specs, SHELF_LIFE_KEYS),
        "usage": _first_spec(specs, USAGE_KEYS),
        "colours": join_names(r.colour for r in rows),
        "variants_offered": join_names(r.colour for r in rows)
        or join_names(variant_label(r.colour, r.size) for r in rows)
        or product.name,
        "specs": "; ".join(listed),
        "warranty_years": int(product.warranty_years or 0),
    }


class ActionProductInfo(ShopAction):
    """Product facts from the catalogue's specs, price and warranty."""

    def name(self) -> Text:
        """The action's name in the domain."""
        return "action_product_info"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        session: Session,
    ) -> Events:
        """Answers with the product's facts (with its warranty when it has one)."""
        product = resolve_product(dispatcher, tracker, session)
        if product is None:
            return []
        facts = product_facts(product, stock_for(session, product))
        if facts["warranty_years"] > 0:
            dispatcher.utter_message(response="utter_product_info_with_warranty", **facts)
        else:
            dispatcher.utter_message(response="utter_product_info", **facts)
        return []
