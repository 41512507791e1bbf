"""Quiet hours: no notice is sent between 22:00 and 08:00 shop time; they wait for the morning."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

QUIET_FROM = time(22, 0)
QUIET_UNTIL = time(8, 0)


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
    if moment.tzinfo is None:
        raise ValueError("naive datetime: notices need timezone-aware moments")
    local = moment.astimezone(tz).time()
    return local >= QUIET_FROM or local < QUIET_UNTIL


def quiet_until(moment: datetime, tz: ZoneInfo) -> datetime:
    """The moment quiet hours end (the next 08:00 shop time), or the moment itself if not quiet."""
    if not is_quiet(moment, tz):
        return moment
    local = moment.astimezone(tz)
    morning = local.replace(hour=QUIET_UNTIL.hour, minute=0, second=0, microsecond=0)
    return morning if local.time() < QUIET_UNTIL else morning + timedelta(days=1)
