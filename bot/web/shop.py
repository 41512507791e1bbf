"""What the storefront shows, read from the shop database as plain values (sessions per call)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shop.db.models import Customer, Order, Product, Sku
from shop.money import price_tag
from shop.policy.membership import level_label

DEMO_CUSTOMERS = 6


@dataclass(frozen=True)
class ProductCard:
    """One product in the list."""

    id: int
    name: str
    category: str
    brand: str
    price_fen: int
    in_stock: bool

    @property
    def price(self) -> str:
        """The price formatted in yuan."""
        return price_tag(self.price_fen)


@dataclass(frozen=True)
class SkuLine:
    """One variant of a product with its stock."""

    code: str
    colour: Optional[str]
    size: Optional[str]
    stock: int
    restock_date: Optional[str]


@dataclass(frozen=True)
class ProductPage:
    """Everything the product page shows."""

    card: ProductCard
    description: str
    specs: List[Tuple[str, str]]
    skus: List[SkuLine]
    warranty_years: int
    needs_installation: bool
    variant_label: str


@dataclass(frozen=True)
class DemoCustomer:
    """A customer offered by the sign-in picker (no phone number, no address)."""

    id: int
    nickname: str
    city: str
    member_level: str
    orders: int

    @property
    def member_label(self) -> str:
        """The member level in Chinese."""
        return level_label(self.member_level)


def _stocked_ids(session: Session) -> set:
    stmt = select(Sku.product_id).where(Sku.stock > 0).distinct()
    return set(session.execute(stmt).scalars())


def _card(product: Product, stocked: set) -> ProductCard:
    return ProductCard(
        product.id,
        product.name,
        product.category,
        product.brand,
        product.price_fen,
        product.id in stocked,
    )


def categories(session: Session) -> List[Tuple[str, int]]:
    """Return every category with its number of products, in catalogue order."""
    stmt = (
        select(Product.category, func.count(Product.id))
        .group_by(Product.category)
        .order_by(func.min(Product.id))
    )
    return [(name, count) for name, count in session.execute(stmt)]


def product_list(session: Session, category: Optional[str] = None) -> List[ProductCard]:
    """Return the products, optionally of one category, in catalogue order."""
    stmt = select(Product).order_by(Product.id)
    if category:
        stmt = stmt.where(Product.category == category)
    stocked = _stocked_ids(session)
    return [_card(p, stocked) for p in session.execute(stmt).scalars()]


def _spec_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{k}：{v}" for k, v in value.items())
    return str(value)


def product_page(session: Session, product_id: int) -> Optional[ProductPage]:
    """Return a product with its specs and SKUs, or None when there is no such product."""
    product = session.get(Product, product_id)
    if product is None:
        return None
    specs: Dict[str, Any] = dict(product.specs or {})
    variant_label = str(specs.pop("variant_label", "") or "颜色")
    skus = [
        SkuLine(
            s.code,
            s.colour,
            s.size,
            s.stock,
            s.restock_date.isoformat() if s.restock_date else None,
        )
        for s in product.skus
    ]
    stocked = {product.id} if any(s.stock > 0 for s in skus) else set()
    return ProductPage(
        card=_card(product, stocked),
        description=product.description or "",
        specs=[(str(k), _spec_text(v)) for k, v in specs.items() if not str(k).isascii()],
        skus=skus,
        warranty_years=product.warranty_years or 0,
        needs_installation=bool(product.needs_installation),
        variant_label=variant_label,
    )


def demo_customers(session: Session, limit: int = DEMO_CUSTOMERS) -> List[DemoCustomer]:
    """Return the customers the sign-in picker offers: the first few, with their order counts."""
    orders = (
        select(Order.customer_id, func.count(Order.id).label("n"))
        .group_by(Order.customer_id)
        .subquery()
    )
    stmt = (
        select(Customer, func.coalesce(orders.c.n, 0))
        .outerjoin(orders, orders.c.customer_id == Customer.id)
        .order_by(Customer.id)
        .limit(limit)
    )
    return [
        DemoCustomer(c.id, c.nickname, c.city, c.member_level, int(n))
        for c, n in session.execute(stmt)
    ]


def customer_nickname(session: Session, customer_id: int) -> Optional[str]:
    """Return a customer's nickname, or None when the customer does not exist."""
    customer = session.get(Customer, customer_id)
    return customer.nickname if customer is not None else None
