"""The shop's clock and how moments and days are shown in facts (tests replace `now`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from shop import settings as settings_module

TIME_FORMAT = "%Y-%m-%d %H:%M"


def now() -> datetime:
    """The current moment in the shop's time zone (aware)."""
    return datetime.now(settings_module.load().tz)


def today() -> date:
    """Today in the shop's time zone."""
    return now().astimezone(settings_module.load().tz).date()


def moment_text(moment: Optional[datetime]) -> Optional[str]:
    """A stored moment as shop time "YYYY-MM-DD HH:MM", or None."""
    if moment is None:
        return None
    return settings_module.to_shop_time(moment).strftime(TIME_FORMAT)


def day_text(moment: Optional[datetime]) -> Optional[str]:
    """The shop-time calendar day of a stored moment as ISO "YYYY-MM-DD", or None."""
    if moment is None:
        return None
    return settings_module.to_shop_time(moment).date().isoformat()
