"""Reads the day a customer names (周五, 明天, 11月25日 …) as a calendar date."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Optional

from shop.text.normalise import normalise
from shop.text.parsing import chinese_number

RELATIVE_DAYS = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3}
WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
_NUM = r"[0-9零〇一二两三四五六七八九十]{1,3}"
WEEKDAY = re.compile(r"(下下|下|这|本)?(?:周|星期|礼拜)([一二三四五六日天末])")
MONTH_DAY = re.compile(rf"({_NUM})月({_NUM})(?:日|号)?")
DAY_ONLY = re.compile(rf"(?<![0-9月])({_NUM})(?:日|号)")
ISO_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})")
SLASH_DATE = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})(?!\d)")


def _number(text: str) -> Optional[int]:
    return chinese_number(text)


def _safe_date(year: int, month: int, day: int) -> Optional[date]:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_day(month: int, day: int, today: date) -> Optional[date]:
    candidate = _safe_date(today.year, month, day)
    if candidate is not None and candidate < today:
        candidate = _safe_date(today.year + 1, month, day)
    return candidate


def parse_day(text: str, today: date) -> Optional[date]:
    """Read a day named in Chinese, relative to today.

    Understood: 今天 / 明天 / 后天 / 大后天; 周五, 星期五, 礼拜五 (the next such day, today
    included), 这周五 / 本周五 (this week's), 下周五 (next week's), 周末 (Saturday);
    11月25日 / 11月25号 / 十一月二十五日; 25号 (this month, or next month once past);
    2024-11-25 and 11/25. Dates without a year that are already past mean next year's.

    Args:
        text: What the customer wrote (or the `date` slot).
        today: Today in the shop's time zone.

    Returns:
        The date, or None when no day could be read.

    """
    value = normalise(str(text or "")).replace(" ", "")
    if not value:
        return None
    match = ISO_DATE.search(value)
    if match:
        return _safe_date(*(int(g) for g in match.groups()))
    match = MONTH_DAY.search(value)
    if match:
        month, day = _number(match.group(1)), _number(match.group(2))
        return _month_day(month, day, today) if month and day else None
    match = SLASH_DATE.search(value)
    if match:
        return _month_day(int(match.group(1)), int(match.group(2)), today)
    match = WEEKDAY.search(value)
    if match:
        week, weekday = match.group(1), WEEKDAYS[match.group(2)]
        monday = today - timedelta(days=today.weekday())
        if week in ("这", "本"):
            return monday + timedelta(days=weekday)
        if week == "下":
            return monday + timedelta(days=7 + weekday)
        if week == "下下":
            return monday + timedelta(days=14 + weekday)
        return today + timedelta(days=(weekday - today.weekday()) % 7)
    for word in sorted(RELATIVE_DAYS, key=len, reverse=True):
        if word in value:
            return today + timedelta(days=RELATIVE_DAYS[word])
    match = DAY_ONLY.search(value)
    if match:
        day = _number(match.group(1))
        if not day:
            return None
        candidate = _safe_date(today.year, today.month, day)
        if candidate is None or candidate < today:
            month = today.month % 12 + 1
            candidate = _safe_date(today.year + (month == 1), month, day)
        return candidate
    return None
