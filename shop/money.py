"""Money as the customer reads it: integer fen in, one format out, everywhere."""

from __future__ import annotations

from decimal import Decimal


def yuan(fen: int) -> str:
    """Present integer fen as yuan: whole amounts without cents, others with two decimals.

    Args:
        fen: The amount in fen (may be negative).

    Returns:
        5900 -> "59", 5950 -> "59.50", 5 -> "0.05", -320 -> "-3.20".
    """
    amount = Decimal(int(fen)) / 100
    return f"{amount:.0f}" if int(fen) % 100 == 0 else f"{amount:.2f}"


def price_tag(fen: int) -> str:
    """A price with the yuan sign, as the storefront shows it: 12345 -> "¥123.45"."""
    return f"¥{yuan(fen)}"
