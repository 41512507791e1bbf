"""Products, stock, prices, promotions, gifts and anti-counterfeit codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable, List, Optional

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shop.db.models import AntiCounterfeitCode, Gift, PriceHistory, Product, Promotion, Sku
from shop.repository.product_match import CATEGORY_ALIASES, match_products
from shop.text import inputs


@dataclass(frozen=True)
class StockInfo:
    """Stock of one SKU and, when sold out, its restock date."""

    product_id: int
    product_name: str
    sku_id: int
    sku_code: str
    colour: Optional[str]
    size: Optional[str]
    stock: int
    restock_date: Optional[date]

    @property
    def in_stock(self) -> bool:
        """Whether at least one piece is available."""
        return self.stock > 0


@dataclass(frozen=True)
class CodeCheck:
    """Result of an anti-counterfeit code check.

    Attributes:
        status: "genuine" (first check, now recorded), "already_checked" (genuine code checked
            before: warn the customer), "other_product" (a real code of another product) or
            "not_found" (no such code: possibly counterfeit).
        product_name: The product the code was issued for (None when not found).
        first_checked_at: When the code was first checked.
        checks_before: How many checks there were before this one.
        last_checked_at: The latest check before this one (None when there was none).

    """

    status: str
    product_name: Optional[str] = None
    first_checked_at: Optional[datetime] = None
    checks_before: int = 0
    last_checked_at: Optional[datetime] = None


def find_products(session: Session, text: Any, *, limit: int = 5) -> List[Product]:
    """The products a text may name, best first (`shop.repository.product_match`).

    Args:
        session: Open session.
        text: What the customer called the product (plain data, never SQL).
        limit: Most products returned.

    Returns:
        One product when the text names one, several when it is vague, none when the shop has
        nothing of that name or model.

    """
    return list(match_products(session, text).products[: max(1, limit)])


def find_product(session: Session, text: Any) -> Optional[Product]:
    """The one product a text names, or None (nothing, or several that fit)."""
    return match_products(session, text).product


def get_product(session: Session, product_id: Any) -> Optional[Product]:
    """Return a product by id, or None."""
    pid = inputs.record_id(product_id)
    return session.get(Product, pid) if pid is not None else None


def stock_for(
    session: Session, product: Product | str, *, colour: Any = None, size: Any = None
) -> List[StockInfo]:
    """Return the stock of a product's SKUs, optionally for one colour and/or size.

    Args:
        session: Open session.
        product: The product, or what the customer called it.
        colour: Colour or part of it (黑 matches 曜石黑), if asked.
        size: Size (case-insensitive: xl = XL), if asked.

    Returns:
        One entry per matching SKU; empty when the product or the variant does not exist.

    """
    if not isinstance(product, Product):
        product = find_product(session, product)
        if product is None:
            return []
    stmt = select(Sku).where(Sku.product_id == product.id).order_by(Sku.id)
    wanted_colour = inputs.clean_text(colour, 32)
    wanted_size = inputs.clean_text(size, 32).upper().replace(" ", "")
    if wanted_colour:
        stmt = stmt.where(Sku.colour.contains(wanted_colour, autoescape=True))
    if wanted_size:
        stmt = stmt.where(func.upper(Sku.size) == wanted_size)
    return [
        StockInfo(product.id, product.name, s.id, s.code, s.colour, s.size, s.stock, s.restock_date)
        for s in session.execute(stmt).scalars()
    ]


def price_at(session: Session, product_id: int, moment: datetime) -> Optional[int]:
    """Return a product's price in fen in effect at a moment, or None before its first price."""
    stmt = (
        select(PriceHistory.price_fen)
        .where(PriceHistory.product_id == product_id, PriceHistory.effective_from <= moment)
        .order_by(PriceHistory.effective_from.desc(), PriceHistory.id.desc())
        .limit(1)
    )
    return session.execute(stmt).scalar()


def lowest_price_since(
    session: Session, product_id: int, since: datetime, until: Optional[datetime] = None
) -> Optional[int]:
    """Return the lowest price in fen a product had at any moment from `since` to `until`.

    The price in effect at `since` counts, as do all changes after it (up to `until`, if given).

    Args:
        session: Open session.
        product_id: The product.
        since: Start of the window (e.g. when the customer paid).
        until: End of the window (e.g. the end of price protection); open when None.

    Returns:
        The lowest price, or None when the product had no price in the window.

    """
    stmt = select(func.min(PriceHistory.price_fen)).where(
        PriceHistory.product_id == product_id, PriceHistory.effective_from > since
    )
    if until is not None:
        stmt = stmt.where(PriceHistory.effective_from <= until)
    prices = [
        p
        for p in (price_at(session, product_id, since), session.execute(stmt).scalar())
        if p is not None
    ]
    return min(prices) if prices else None


def active_promotions(session: Session, product: Product, now: datetime) -> List[Promotion]:
    """Return the promotions running now for a product or its category, biggest saving first."""
    stmt = select(Promotion).where(
        or_(Promotion.product_id == product.id, Promotion.category == product.category),
        Promotion.starts_at <= now,
        Promotion.ends_at > now,
    )
    promotions = list(session.execute(stmt).scalars())

    def saving(promotion: Promotion) -> int:
        if promotion.discount_fen is not None:
            return promotion.discount_fen
        return product.price_fen * (promotion.percent_off or 0) // 100

    return sorted(promotions, key=lambda p: (-saving(p), p.id))


def gifts_for(session: Session, category: Any, order_amount_fen: int) -> List[Gift]:
    """Return in-stock gifts that fit a product category and an order amount, best first.

    Args:
        session: Open session.
        category: The stored product category (油烟机, 奶粉 ...).
        order_amount_fen: The order amount in fen.

    Returns:
        Gifts of that category whose minimum order amount is reached, highest threshold first.

    """
    name = inputs.clean_text(category, 32)
    name = CATEGORY_ALIASES.get(name, name)
    stmt = (
        select(Gift)
        .where(Gift.category == name, Gift.min_order_fen <= int(order_amount_fen), Gift.stock > 0)
        .order_by(Gift.min_order_fen.desc(), Gift.id)
    )
    return list(session.execute(stmt).scalars())


def verify_anti_counterfeit_code(
    session: Session,
    code: Any,
    now: datetime,
    *,
    product_id: Optional[int] = None,
    product_ids: Optional[Iterable[int]] = None,
) -> CodeCheck:
    """Check an anti-counterfeit code against the records; the first check marks it used.

    Every check of a known code of the right product is counted, so a customer whose code was
    checked before learns how many times and when.

    Args:
        session: Open session (the caller commits).
        code: The code as typed; spaces and dashes are ignored.
        now: Current moment (aware), recorded at the first check.
        product_id: The product the customer bought, to catch codes copied from another product.
        product_ids: The products the customer may mean (a vague name such as 油烟机); a code of
            any other product is "other_product". Neither check records anything.

    Returns:
        The check's outcome.

    """
    cleaned = inputs.clean_text(code, 40).replace(" ", "").replace("-", "").upper()
    if not cleaned.isascii() or not cleaned.isalnum():
        return CodeCheck("not_found")
    row = session.execute(
        select(AntiCounterfeitCode, Product.name)
        .join(Product, Product.id == AntiCounterfeitCode.product_id)
        .where(AntiCounterfeitCode.code == cleaned)
    ).first()
    if row is None:
        return CodeCheck("not_found")
    record, product_name = row
    if product_id is not None and record.product_id != product_id:
        return CodeCheck("other_product", product_name)
    if product_ids is not None and record.product_id not in set(product_ids):
        return CodeCheck("other_product", product_name)
    before, previous = int(record.check_count or 0), record.last_checked_at
    record.check_count, record.last_checked_at = before + 1, now
    if record.used:
        session.flush()
        return CodeCheck("already_checked", product_name, record.used_at, max(before, 1), previous)
    record.used, record.used_at = True, now
    session.flush()
    return CodeCheck("genuine", product_name, now, before, previous)
