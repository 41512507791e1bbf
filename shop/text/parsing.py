"""Pure helpers that read details out of what customers type."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import List, Optional, Tuple

import cn2an

from shop.text.normalise import normalise

ORDER_ID = re.compile(r"(?<![0-9a-z])20\d{11}(?![0-9])")
DIGIT_RUN = re.compile(r"\d+")
# What cn2an reads as a Chinese numeral here (digits, units up to 万, 点 for a decimal point).
_NUMERAL_CHARS = frozenset("零〇一二两三四五六七八九十百千万点")


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


def is_phone_tail(value: str) -> bool:
    """Tells whether a value is exactly four digits."""
    return bool(re.fullmatch(r"\d{4}", normalise(str(value)).strip()))


def chinese_number(text: str) -> Optional[int]:
    """Reads a whole number written as digits or Chinese numerals (一百二十, 两, 三千零五).

    Args:
        text: Digits or Chinese numerals (read by the maintained cn2an library).

    Returns:
        The integer value, or None when the text is not a number.
    """
    value = _read_number(text.strip())
    if value is None or value != int(value):
        return None
    return int(value)


# Amounts as written in prices and promises: digits (thousands commas, a decimal part) or Chinese
# numerals, everyday or financial (伍佰, 壹仟贰佰), with 百/千/万/亿 or k/w after digits.
_FINANCIAL = str.maketrans(
    "壹贰叁肆伍陆柒捌玖拾佰仟萬億貳參陸", "一二三四五六七八九十百千万亿二三六"
)
_AMOUNT_DIGITS = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?([kw百千万亿]*)")
_AMOUNT_MULTIPLIER = {"k": 1000, "w": 10000, "百": 100, "千": 1000, "万": 10000, "亿": 10**8}
_AMOUNT_NUMERALS = frozenset("零〇一二两三四五六七八九十百千万亿点")


def read_amount(text: str) -> Optional[Decimal]:
    """Reads an amount written one of the ways shoppers and agents write it, exactly.

    `300`, `1,000`, `35.5`, `3百`, `1.5万`, `3k`, `2w`, `两百`, `一百五`, `伍佰`, `壹仟贰佰`,
    `一万二` (Chinese numerals read by cn2an). Anything approximate or not a number (`几百`,
    `五百多`, `一两百`, `万`) is None: the caller decides what an unreadable amount means.

    Args:
        text: The number alone, without a currency or unit (normalised: half-width, lower case).

    Returns:
        The exact value, or None.
    """
    text = text.strip().translate(_FINANCIAL)
    match = _AMOUNT_DIGITS.fullmatch(text)
    if match:
        whole, fraction, multipliers = match.groups()
        value = Decimal(whole.replace(",", "") + (fraction or ""))
        for unit in multipliers:
            value *= _AMOUNT_MULTIPLIER[unit]
        return value
    if not text or any(char not in _AMOUNT_NUMERALS for char in text):
        return None
    if all(char in "十百千万亿" for char in text) and text != "十":
        return None  # a unit alone (万, 百万) is no amount
    try:
        return Decimal(str(cn2an.cn2an(text, "normal")))
    except (ValueError, InvalidOperation):
        return None


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


# A number as customers type it: digits with an optional decimal part, or Chinese numerals
# with 点 for the decimal point (二十四点五); never the front part of a longer number.
_NUMBER = (
    r"(?<![\d.])(?:\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百]+(?:点[零〇一二三四五六七八九]+)?)"
    r"(?![\d.零〇一二两三四五六七八九十百点])"
)
_FOOT_MM = (150, 330)
_WAIST_CM = (50, 150)
_CM_PER_CHI = 100 / 3  # 1 市尺 = 1/3 m
_CM_PER_INCH = 2.54
_CM_UNITS = ("cm", "厘米", "公分")
_INCH_UNITS = ("英寸", "寸", "吋", "inch", "in")
_ABOUT = r"(?:是|有|为|大概|大约|约|差不多)?"
_FOOT_KEYWORD = re.compile(
    rf"脚(?:掌|底|丫)?的?长度?\s*{_ABOUT}\s*({_NUMBER})\s*(mm|毫米|cm|厘米|公分)?"
)
_FOOT_UNIT = re.compile(rf"({_NUMBER})\s*(mm|毫米|cm|厘米|公分)")
_WAIST_CHI = re.compile(rf"({_NUMBER})\s*尺(?:\s*([0-9一二三四五六七八九])\s*寸?)?(?![码寸])")
_WAIST_KEYWORD = re.compile(
    rf"腰围?\s*{_ABOUT}\s*({_NUMBER})\s*(cm|厘米|公分|英寸|寸|吋|inch|in)?"
    r"(?!\s*(?:斤|kg|公斤|千克|码|号|岁|尺))"
)
_WAIST_INCH = re.compile(rf"({_NUMBER})\s*(?:英寸|寸|吋|腰)")


def _read_number(text: str) -> Optional[float]:
    """Reads 24.5 / 245 / 二十四点五 / 二百四十五 as a number (Chinese numerals by cn2an)."""
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    if not text or any(char not in _NUMERAL_CHARS for char in text):
        return None
    try:
        return float(cn2an.cn2an(text, "normal"))
    except ValueError:
        return None


def _plausible(value: Optional[float], bounds: Tuple[int, int]) -> Optional[float]:
    """The value to one decimal when it lies within the bounds, else None."""
    if value is None:
        return None
    value = round(value, 1)
    return value if bounds[0] <= value <= bounds[1] else None


def _foot_mm(number: Optional[float], unit: Optional[str]) -> Optional[float]:
    """Millimetres from a number and its unit; without a unit up to 40 is cm, 100 and up mm."""
    if number is None or (unit is None and 40 < number < 100):
        return None
    if unit in _CM_UNITS or (unit is None and number <= 40):
        number *= 10
    return _plausible(number, _FOOT_MM)


def parse_foot_length_mm(text: str, bare_number: bool = False) -> Optional[float]:
    """Reads a foot length from 脚长24.5 / 脚长 245mm / 24.5厘米 / 245毫米 / 脚长二十四点五.

    A number needs 脚长 before it or a length unit after it; without a unit 24.5 is read as
    centimetres and 245 as millimetres. Lengths that are no plausible foot length (a height
    of 165cm) are skipped; the first plausible one counts.

    Args:
        text: What the customer wrote.
        bare_number: Also accept a reply that is nothing but the number (24.5 / 245), as when
            the customer has just been asked for the foot length.

    Returns:
        The foot length in mm when plausible (150-330), else None.
    """
    value = normalise(text)
    found = [
        (match.start(), _foot_mm(_read_number(match.group(1)), match.group(2)))
        for pattern in (_FOOT_KEYWORD, _FOOT_UNIT)
        for match in pattern.finditer(value)
    ]
    bare = re.fullmatch(rf"\s*({_NUMBER})\s*", value) if bare_number else None
    if bare:
        found.append((bare.start(1), _foot_mm(_read_number(bare.group(1)), None)))
    return next((mm for _, mm in sorted(found, key=lambda f: f[0]) if mm is not None), None)


def _waist_from_chi(match: "re.Match[str]") -> Optional[float]:
    """Centimetres from 2尺2 / 二尺四 / 2尺2寸 (the 寸 after 尺 is a tenth of a 尺)."""
    chi = _read_number(match.group(1))
    if chi is None:
        return None
    cun = match.group(2)
    if cun:
        chi += (chinese_number(cun) or 0) / 10
    return chi * _CM_PER_CHI


def _waist_cm(number: Optional[float], unit: Optional[str]) -> Optional[float]:
    """Centimetres from the number after 腰围: cm, inches, or bare (20-49 are inches)."""
    if number is None:
        return None
    if unit in _INCH_UNITS or (unit is None and 20 <= number < 50):
        return number * _CM_PER_INCH
    return number


def parse_waist_cm(text: str) -> Optional[float]:
    """Reads a waist from 腰围72 / 腰围 72cm / 2尺2 / 二尺四 / 28寸 / 28吋 / 28腰.

    Chinese feet (尺: 1 尺 = 33.33 cm, 2尺2 = 2.2 尺) and inches (寸/吋/英寸 or a number
    before 腰: ×2.54) are converted. A bare number after 腰围 is centimetres, or inches when
    it is 20-49 (as jeans are sized: 腰围28). Numbers without 腰, 尺 or an inch unit are
    not read as a waist.

    Returns:
        The waist in cm (one decimal) when plausible (50-150), else None.
    """
    value = normalise(text)
    found = [(m.start(), _waist_from_chi(m)) for m in _WAIST_CHI.finditer(value)]
    found += [
        (m.start(), _waist_cm(_read_number(m.group(1)), m.group(2)))
        for m in _WAIST_KEYWORD.finditer(value)
    ]
    found += [
        (m.start(), _waist_cm(_read_number(m.group(1)), "寸")) for m in _WAIST_INCH.finditer(value)
    ]
    for _, cm in sorted(found, key=lambda f: f[0]):
        if _plausible(cm, _WAIST_CM) is not None:
            return _plausible(cm, _WAIST_CM)
    return None
