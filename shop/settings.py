"""Settings of the action server, read from the environment when asked for (never at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Settings:
    """Where the shop database lives and how times are shown.

    Attributes:
        database_url: SQLAlchemy URL of the shop database.
        database_url_given: True when SHOP_DATABASE_URL was set (a real shop's database).
        demo: Demo mode: the demo shop and the demo accounts may be seeded.
        timezone: IANA name of the zone times are presented in.

    """

    database_url: str
    database_url_given: bool
    demo: bool
    timezone: str

    @property
    def tz(self) -> ZoneInfo:
        """The presentation time zone."""
        return ZoneInfo(self.timezone)

    @property
    def demo_accounts_allowed(self) -> bool:
        """Demo accounts exist only in demo mode on the embedded database, never on a given URL."""
        return self.demo and not self.database_url_given


def default_database_url() -> str:
    """Return the embedded SQLite URL: `shop.db` in SHOP_VAR_DIR (default: `var/` in the repo)."""
    var_dir = Path(os.environ.get("SHOP_VAR_DIR") or ROOT / "var")
    return f"sqlite:///{var_dir.resolve() / 'shop.db'}"


def load() -> Settings:
    """Read the settings from the environment now.

    Returns:
        The settings; SHOP_DEMO (1/0, true/false) overrides the default, which is demo mode
        exactly when no SHOP_DATABASE_URL is given.

    """
    given = (os.environ.get("SHOP_DATABASE_URL") or "").strip()
    demo_flag = (os.environ.get("SHOP_DEMO") or "").strip().lower()
    if demo_flag in _TRUE:
        demo = True
    elif demo_flag in _FALSE:
        demo = False
    else:
        demo = not given
    return Settings(
        database_url=given or default_database_url(),
        database_url_given=bool(given),
        demo=demo,
        timezone=(os.environ.get("SHOP_TIMEZONE") or "Asia/Shanghai").strip(),
    )


def to_shop_time(moment: datetime, settings: Settings | None = None) -> datetime:
    """Present a stored (UTC, timezone-aware) moment in the shop's time zone.

    Args:
        moment: A timezone-aware datetime.
        settings: Settings to use; read from the environment when omitted.

    Returns:
        The same instant in SHOP_TIMEZONE (Asia/Shanghai by default).

    Raises:
        ValueError: When the moment is naive.

    """
    if moment.tzinfo is None:
        raise ValueError("naive datetime: shop times are timezone-aware")
    return moment.astimezone((settings or load()).tz)
