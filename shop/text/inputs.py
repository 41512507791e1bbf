"""Cleaning of what customers type before it reaches a query (always bound as parameters)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Optional

MAX_TEXT = 200
MAX_STAFF_NAME = 32
MAX_DB_INT = 2_147_483_647
ORDER_NUMBER = re.compile(r"20[0-9]{11}")
PHONE_TAIL = re.compile(r"[0-9]{4}")
TRACKING_NUMBER = re.compile(r"[A-Z0-9]{8,32}")


def clean_text(value: Any, max_len: int = MAX_TEXT) -> str:
    """Return a value as compact half-width text, cut to max_len characters.

    Args:
        value: Anything a customer or a slot may hold; None gives "".
        max_len: Longest text kept.

    Returns:
        NFKC-normalised text without surrounding or repeated whitespace.

    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return " ".join(text.split())[:max_len]


def staff_username(value: Any) -> str:
    """Return a staff sign-in name in the one form that sign-in and its lock both use.

    Look-alikes of a name are the same name: full-width letters (ａｇｅｎｔ), other case
    (AGENT), characters that show nothing (zero-width spaces, joiners, soft hyphens) and
    surrounding or repeated spaces.

    Args:
        value: The name as typed; None gives "".

    Returns:
        NFKC-normalised, case-folded text without invisible characters, cut to 32 characters.

    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    visible = "".join(char for char in text if unicodedata.category(char) != "Cf")
    folded = unicodedata.normalize("NFKC", visible.casefold())
    return " ".join(folded.split())[:MAX_STAFF_NAME]


def order_number(value: Any) -> Optional[str]:
    """Return a well-formed order number (13 digits starting with 20) or None."""
    text = clean_text(value, 40).replace(" ", "")
    return text if ORDER_NUMBER.fullmatch(text) else None


def phone_tail(value: Any) -> Optional[str]:
    """Return exactly four digits or None."""
    text = clean_text(value, 10).replace(" ", "")
    return text if PHONE_TAIL.fullmatch(text) else None


def tracking_number(value: Any) -> Optional[str]:
    """Return an upper-case carrier tracking number (8-32 letters and digits) or None."""
    text = clean_text(value, 40).replace(" ", "").replace("-", "").upper()
    return text if TRACKING_NUMBER.fullmatch(text) else None


def record_id(value: Any) -> Optional[int]:
    """Return a positive database id from an int or a digit string, or None.

    Booleans, floats, huge numbers and anything else that is not a plain id give None, so a
    lookup with them finds nothing instead of failing in the database.

    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = clean_text(value, 20)
        if not text.isascii() or not text.isdigit():
            return None
        number = int(text)
    return number if 0 < number <= MAX_DB_INT else None


def city_name(value: Any) -> str:
    """Return a city name as stored: without a trailing 市."""
    text = clean_text(value, 16).replace(" ", "")
    return text[:-1] if len(text) > 2 and text.endswith("市") else text
