"""Which days are days off in China: an adapter around the maintained `chinesecalendar` package.

The package follows the State Council's yearly holiday notice (国务院办公厅关于部分节假日安排的通知):
public holidays and weekends are days off, and the weekend days made up for a holiday (调休) are
working days. Upgrading the package is how a new year's notice arrives. For a date outside the
years it knows, weekends alone are days off, and a warning (once per process) says until when
the calendar is known.
"""

from __future__ import annotations

import logging
import threading
from datetime import date

import chinese_calendar
from chinese_calendar import constants as calendar_data

logger = logging.getLogger(__name__)

_warned_unknown = False
_warn_lock = threading.Lock()


def known_until() -> date:
    """The last day the installed calendar knows (the end of its last year).

    Returns:
        31 December of the last year in the package's holiday data, the same bound the
        package itself checks dates against.

    """
    return date(max(calendar_data.holidays).year, 12, 31)


def known_from() -> date:
    """The first day the installed calendar knows (the start of its first year)."""
    return date(min(calendar_data.holidays).year, 1, 1)


def is_day_off(day: date) -> bool:
    """Whether a day is a day off (not a working day) in China.

    Args:
        day: A calendar day (a datetime counts by its date).

    Returns:
        True for public holidays and weekends, False for working days, including the adjusted
        working days (调休) on a weekend. Outside the years the calendar knows, True exactly
        for Saturdays and Sundays.

    """
    try:
        return not chinese_calendar.is_workday(day)
    except NotImplementedError:
        _warn_unknown_once()
        return day.weekday() >= 5


def _warn_unknown_once() -> None:
    """Log, once per process, that dates outside the calendar's years fall back to weekends."""
    global _warned_unknown
    with _warn_lock:
        if _warned_unknown:
            return
        _warned_unknown = True
    logger.warning(
        "The Chinese holiday calendar (chinesecalendar) is known from %s until %s; for other "
        "days only weekends count as days off. Upgrade chinesecalendar for the new year's "
        "State Council holiday notice.",
        known_from().isoformat(),
        known_until().isoformat(),
    )
