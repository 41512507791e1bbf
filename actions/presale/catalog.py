"""Stock and product facts, answered from the shop's catalogue."""

from __future__ import annotations

from difflib import SequenceMatcher, get_close_matches
from typing import Any, Dict, Iterable, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.kit.base import Events, ShopAction
from shop.db.models import Product
from shop.money import yuan
from shop.repository.catalog import StockInfo, find_products, stock_for
from shop.text.normalise import normalise

LIST_SEPARATOR = "、"
SUGGESTION_COUNT = 3
SUGGESTION_CUTOFF = 0.3
CANDIDATE_LIMIT = 20
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


def close_product_names(session: Session, text: str, limit: int = SUGGESTION_COUNT) -> List[str]:
    """Names of products that look like what the customer typed (for "did you mean")."""
    names = list(session.execute(select(Product.name).order_by(Product.id)).scalars())
    query = (text or "").strip()
    return get_close_matches(query, names, n=limit, cutoff=SUGGESTION_CUTOFF)


def resolve_product(
    dispatcher: CollectingDispatcher, tracker: Tracker, session: Session
) -> Optional[Product]:
    """Find the product named in the `product` slot, answering when it is missing or unknown.

    Returns:
        The product, or None after asking for it or saying it was not found.

    """
    asked = str(tracker.get_slot("product") or "").strip()
    if not asked:
        dispatcher.utter_message(response="utter_ask_product")
        return None
    product = asked_product(session, tracker)
    if product is None:
        suggestions = close_product_names(session, asked)
        if suggestions:
            dispatcher.utter_message(
                response="utter_product_not_found",
                product=asked,
                suggestions=join_names(suggestions),
            )
        else:
            dispatcher.utter_message(
                response="utter_product_not_found_no_suggestions", product=asked
            )
    return product


def _overlap(text: str, product: Product) -> int:
    model = product.name.replace(product.brand or "", "")
    return SequenceMatcher(None, text, model).find_longest_match(0, len(text), 0, len(model)).size


def asked_product(session: Session, tracker: Tracker) -> Optional[Product]:
    """The product the `product` slot names, told apart by the customer's words when it is vague.

    "顶吸式油烟机要开多大的孔" fills the slot with 油烟机; of the range hoods the one whose name
    shares the longest run with the message (顶吸式油烟机T5) is taken.

    Returns:
        The product, or None when the slot is empty or names nothing in the catalogue.

    """
    asked = str(tracker.get_slot("product") or "").strip()
    if not asked:
        return None
    candidates = find_products(session, asked, limit=CANDIDATE_LIMIT)
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    text = normalise(str((tracker.latest_message or {}).get("text") or ""))
    best = max(_overlap(text, product) for product in candidates)
    return next(p for p in candidates if _overlap(text, p) == best)


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
