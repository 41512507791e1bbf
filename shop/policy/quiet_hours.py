"""Quiet hours: from 22:00 to 08:00 shop time the shop neither calls nor messages customers.

Proactive notices wait for the morning (:mod:`bot.notices.run`), and a promise that someone will
call (an installer's contact deadline) counts only the hours outside quiet hours, so no customer
is told to expect a call in the middle of the night.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

QUIET_FROM = time(22, 0)
QUIET_UNTIL = time(8, 0)


def _aware(moment: datetime) -> None:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: quiet hours need timezone-aware moments")


def is_quiet(moment: datetime, tz: ZoneInfo) -> bool:
    """Whether a moment falls in the shop's quiet hours.

    Args:
        moment: A timezone-aware moment.
        tz: The shop's time zone.

    Returns:
        True from 22:00 (inclusive) to 08:00 (exclusive) shop time.

    Raises:
        ValueError: for a naive moment.
    """
    _aware(moment)
    local = moment.astimezone(tz).time()
    return local >= QUIET_FROM or local < QUIET_UNTIL


def quiet_until(moment: datetime, tz: ZoneInfo) -> datetime:
    """The moment quiet hours end (the next 08:00 shop time), or the moment itself if not quiet.

    Raises:
        ValueError: for a naive moment.
    """
    if not is_quiet(moment, tz):
        return moment
    local = moment.astimezone(tz)
    morning = local.replace(hour=QUIET_UNTIL.hour, minute=0, second=0, microsecond=0)
    return morning if local.time() < QUIET_UNTIL else morning + timedelta(days=1)


def waking_deadline(start: datetime, hours: float, tz: ZoneInfo) -> datetime:
    """The moment ``hours`` of daytime after ``start``: quiet hours do not count.

    A promise to call within 4 hours made at 21:00 runs one hour until 22:00 and the other three
    from 08:00, so it ends at 11:00 the next morning (never at 01:00).

    Args:
        start: A timezone-aware moment (in quiet hours, counting starts at 08:00).
        hours: The promised hours (not negative).
        tz: The shop's time zone.

    Returns:
        The deadline in the shop's time zone, never inside quiet hours.

    Raises:
        ValueError: for a naive moment or negative hours.
    """
    if hours < 0:
        raise ValueError("hours must not be negative")
    left = timedelta(hours=hours)
    moment = quiet_until(start, tz).astimezone(tz)
    while True:
        evening = moment.replace(
            hour=QUIET_FROM.hour, minute=QUIET_FROM.minute, second=0, microsecond=0
        )
        if moment + left <= evening:
            return moment + left
        left -= evening - moment
        moment = quiet_until(evening, tz)
