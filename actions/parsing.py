"""Pure helpers that read details out of what customers type."""

from __future__ import annotations

import re
from typing import List, Optional

from bot.nlu.normalise import normalise

ORDER_ID = re.compile(r"(?<![0-9a-z])20\d{11}(?![0-9])")
DIGIT_RUN = re.compile(r"\d+")
_NUMERALS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_UNITS = {"十": 10, "百": 100, "千": 1000}


def digit_runs(text: str) -> List[str]:
    """All runs of digits in the normalised text (full-width digits included)."""
    return DIGIT_RUN.findall(normalise(text))


def find_order_id(text: str) -> Optional[str]:
    """The first well-formed order number (13 digits starting with 20) in text."""
    match = ORDER_ID.search(normalise(text))
    return match.group(0) if match else None


def is_order_id(value: str) -> bool:
    """Tells whether a value is a well-formed order number."""
    return bool(ORDER_ID.fullmatch(normalise(str(value)).strip()))


def find_phone_tail(text: str) -> Optional[str]:
    """The phone tail when the text holds exactly one run of four digits and no longer run."""
    runs = digit_runs(text)
    if len(runs) == 1 and len(runs[0]) == 4:
        return runs[0]
    return None


def is_phone_tail(value: str) -> bool:
    """Tells whether a value is exactly four digits."""
    return bool(re.fullmatch(r"\d{4}", normalise(str(value)).strip()))


def chinese_number(text: str) -> Optional[int]:
    """Reads a small Chinese numeral such as 一百二十 or 两 or a digit string.

    Args:
        text: Digits or Chinese numerals, up to the thousands.

    Returns:
        The integer value, or None when the text is not a number.
    """
    text = text.strip()
    if text.isdigit():
        return int(text)
    if not text or any(c not in _NUMERALS and c not in _UNITS for c in text):
        return None
    total, current = 0, 0
    for char in text:
        if char in _NUMERALS:
            current = _NUMERALS[char]
        else:
            total += (current or 1) * _UNITS[char]
            current = 0
    return total + current


def parse_height_cm(text: str) -> Optional[int]:
    """Reads a body height in centimetres from 165 / 165cm / 1.65m / 一米七 / 1米65.

    Returns:
        Height in cm when it is plausible for an adult or child (50-230), else None.
    """
    value = normalise(text).replace(" ", "")
    metre = re.search(r"([1一])(?:米|\.|m)([0-9一二三四五六七八九]{1,2})?", value)
    if metre and not re.search(r"\d{3}", value):
        rest = metre.group(2) or "0"
        cm = chinese_number(rest) if not rest.isdigit() else int(rest)
        if cm is not None:
            cm = cm * 10 if len(rest) == 1 else cm
            height = 100 + cm
            return height if 50 <= height <= 230 else None
    numbers = [int(n) for n in DIGIT_RUN.findall(value)]
    for number in numbers:
        if 50 <= number <= 230:
            return number
    return None


def parse_weight_kg(text: str) -> Optional[float]:
    """Reads a body weight in kilograms from 55kg / 55公斤 / 110斤 / 110.

    A bare number above 90 is read as 斤 (half kilograms), as customers write it.

    Returns:
        Weight in kg when plausible (3-200), else None.
    """
    value = normalise(text).replace(" ", "")
    match = re.search(r"(\d+(?:\.\d+)?)\s*(kg|公斤|千克|斤)?", value)
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2)
    if unit == "斤" or (unit is None and number > 90):
        number = number / 2
    return number if 3 <= number <= 200 else None
