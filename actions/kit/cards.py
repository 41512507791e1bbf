"""Custom payload cards in the agreed schema (the persona renderer copies them into `custom`)."""

from __future__ import annotations

from typing import Any, Dict

from shop.db.models import Product

PRODUCT_URL = "/products/{product_id}"


def product_card(product: Product) -> Dict[str, Any]:
    """The product card of a product: id, name, price in fen and its storefront address."""
    return {
        "card": "product",
        "product_id": product.id,
        "name": product.name,
        "price_fen": int(product.price_fen),
        "url": PRODUCT_URL.format(product_id=product.id),
    }
