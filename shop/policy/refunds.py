"""When a return's refund goes out at once, and when a person confirms it first.

The shop refunds the moment the return ships: the customer gives the return parcel's tracking
number and the money goes back, without waiting for the parcel. To keep that promise safe the
number is checked first (see `shop.policy.carriers.yml` for the carriers' formats and check
rules; the repository checks that it was never used before and is no parcel the shop sent), and
two kinds of refund wait for a person instead of going out at once:

- a refund above AUTO_REFUND_LIMIT_FEN;
- a number of no known carrier format: the carriers' data cannot confirm it.

A refund waiting for a person is promised a decision within REVIEW_HOURS. Every refund has a
state (REFUND_STATES) with who set it and when; an agent may approve one under review and
reverse any refund (`bot/agent/refund_review.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import yaml

# Refunds above this (fen) wait for a person: ¥500.
AUTO_REFUND_LIMIT_FEN = 50000
# A refund under review is decided within this many hours (the customer is told so).
REVIEW_HOURS = 24
# issued: the money went back; under_review: a person decides; reversed: taken back or declined.
REFUND_STATES = ("issued", "under_review", "reversed")
REVIEW_REASONS = ("above_limit", "unconfirmed_number")
# Who set a refund's state when no person did.
BOT = "bot"
CARRIERS_FILE = Path(__file__).with_name("carriers.yml")
_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
# A mainland mobile number (optionally with the country code) is never a parcel's number.
_MOBILE = re.compile(r"(?:86)?1[3-9]\d{9}")


@dataclass(frozen=True)
class Carrier:
    """One carrier's tracking number formats and check rule."""

    code: str
    name: str
    patterns: Tuple["re.Pattern[str]", ...]
    check: Optional[str] = None


def s10_check_digit_ok(number: str) -> bool:
    """Whether an S10 number (RR123456785CN) carries the right check digit (UPU standard).

    The eight serial digits are weighted 8 6 4 2 3 5 9 7; the check digit is 11 less the sum
    modulo 11, with 10 written as 0 and 11 as 5.
    """
    if len(number) != 13 or not number[2:11].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[2:10], _S10_WEIGHTS, strict=True))
    digit = 11 - total % 11
    digit = {10: 0, 11: 5}.get(digit, digit)
    return digit == int(number[10])


CHECKS = {"s10": s10_check_digit_ok}


@lru_cache(maxsize=1)
def carriers() -> Tuple[Carrier, ...]:
    """The carriers of `carriers.yml` (read once, on first use)."""
    with CARRIERS_FILE.open(encoding="utf-8") as handle:
        table: Dict[str, Any] = yaml.safe_load(handle)["carriers"]
    found = []
    for code, entry in table.items():
        check = entry.get("check")
        if check is not None and check not in CHECKS:
            raise ValueError(f"carrier {code}: unknown check rule {check!r}")
        patterns = tuple(re.compile(p) for p in entry["patterns"])
        found.append(Carrier(code=code, name=entry["name"], patterns=patterns, check=check))
    return tuple(found)


def _formats(number: str) -> Tuple[Carrier, ...]:
    return tuple(c for c in carriers() if any(p.fullmatch(number) for p in c.patterns))


def carrier_of(number: str) -> Optional[Carrier]:
    """The carrier whose format (and check rule) a cleaned tracking number meets, or None."""
    for carrier in _formats(number):
        if carrier.check is None or CHECKS[carrier.check](number):
            return carrier
    return None


def fails_check_rule(number: str) -> bool:
    """Whether the number has a carrier's format with a check rule but a wrong check digit.

    Such a number is mistyped (or made up): it is asked for again, never refunded.
    """
    formats = _formats(number)
    return bool(formats) and all(
        c.check is not None and not CHECKS[c.check](number) for c in formats
    )


def not_a_parcel(number: str, order_number: Optional[str] = None) -> bool:
    """Whether a cleaned, well-formed number is plainly something else: a mobile or the order's.

    Args:
        number: The cleaned tracking number.
        order_number: The order's own number, if known.
    """
    return bool(_MOBILE.fullmatch(number)) or (order_number is not None and number == order_number)


def review_reason(refund_fen: int, number: str) -> Optional[str]:
    """Why a return's refund waits for a person, or None when it goes out at once.

    Args:
        refund_fen: The refund, in fen.
        number: The return parcel's cleaned tracking number.

    Returns:
        "above_limit", "unconfirmed_number" or None.
    """
    if refund_fen > AUTO_REFUND_LIMIT_FEN:
        return "above_limit"
    if carrier_of(number) is None:
        return "unconfirmed_number"
    return None


def review_due(now: datetime) -> datetime:
    """When a refund put under review now must be decided."""
    return now + timedelta(hours=REVIEW_HOURS)


__all__ = [
    "AUTO_REFUND_LIMIT_FEN",
    "BOT",
    "REFUND_STATES",
    "REVIEW_HOURS",
    "REVIEW_REASONS",
    "Carrier",
    "carrier_of",
    "carriers",
    "fails_check_rule",
    "not_a_parcel",
    "review_due",
    "review_reason",
    "s10_check_digit_ok",
]
