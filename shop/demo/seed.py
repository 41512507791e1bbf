"""Migrate the shop database and seed a deterministic demo shop: `python -m shop.demo.seed`.

The demo shop is generated from a fixed random seed relative to a "now": tests pass a fixed
moment (DEMO_NOW) and get the same rows every time; the command line uses the current time so
tracking timelines look current. Re-running on a seeded database changes nothing. Demo shop data
is seeded only in demo mode, the demo accounts only on the embedded database (never when
SHOP_DATABASE_URL is set). The rows are built by `seed_shop` (catalogue, customers, coupons,
marketing) and `seed_orders` (orders, parcels, after-sale, service) from `seed_data`'s tables.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, Optional, Sequence

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session

from shop import settings as settings_module
from shop.db import make_engine, session_scope
from shop.db.models import Agent, Base, Order, Product
from shop.demo.orders import DemoShopBuilder
from shop.repository.agents import create_agent

DEMO_SEED = 20241111
DEMO_NOW = datetime(2024, 11, 23, 2, 30, tzinfo=timezone.utc)  # 10:30 in Asia/Shanghai
DEMO_ACCOUNTS = (
    ("agent", "agent-demo", "agent", "客服小蜜"),
    ("supervisor", "supervisor-demo", "supervisor", "主管老周"),
    ("trainer", "trainer-demo", "trainer", "训练师阿敏"),
)


@dataclass
class SeedReport:
    """What a seeding run did and the row count of every table afterwards."""

    shop_seeded: bool = False
    refreshed: bool = False
    accounts_created: int = 0
    seconds: float = 0.0
    counts: Dict[str, int] = field(default_factory=dict)


def migrate(url: Optional[str] = None, connection: Optional[Connection] = None) -> None:
    """Upgrade a shop database to the newest Alembic revision.

    Args:
        url: Database URL; SHOP_DATABASE_URL (or the embedded default) when None.
        connection: An open connection to migrate instead (its caller commits).

    """
    from alembic import command
    from alembic.config import Config

    config = Config(str(settings_module.ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(settings_module.ROOT / "migrations"))
    config.attributes["configure_logging"] = False
    if url is not None:
        config.attributes["url"] = url
    if connection is not None:
        config.attributes["connection"] = connection
    command.upgrade(config, "head")


def row_counts(session: Session) -> Dict[str, int]:
    """Return the number of rows of every shop table."""
    return {
        table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
        for table in Base.metadata.sorted_tables
    }


def seed_demo_shop(session: Session, now: datetime, *, seed: int = DEMO_SEED) -> bool:
    """Fill an empty shop database with the demo shop; do nothing when products exist.

    Args:
        session: Open session on a migrated database (the caller commits).
        now: The moment the demo shop is built around (aware); DEMO_NOW for stable tests.
        seed: Random seed.

    Returns:
        True when the shop was seeded, False when it was already there.

    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if session.execute(select(Product.id).limit(1)).first() is not None:
        return False
    DemoShopBuilder(session, now, seed).build()
    return True


def ensure_demo_accounts(session: Session) -> int:
    """Create the demo accounts that are missing (agent, supervisor, trainer).

    Args:
        session: Open session (the caller commits).

    Returns:
        How many accounts were created.

    """
    existing = set(session.execute(select(Agent.username)).scalars())
    created = 0
    for username, password, role, display_name in DEMO_ACCOUNTS:
        if username not in existing:
            create_agent(session, username, password, role, display_name)
            created += 1
    return created


def _stale_demo_file(url: str, now: datetime, refresh_after: timedelta) -> Optional[Path]:
    """The SQLite file of a demo shop built longer than `refresh_after` before `now`, if any.

    A demo shop is built around the moment it was seeded; days later every parcel looks stalled
    and every return window has passed. Only an SQLite file is ever offered for rebuilding.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    path = Path(parsed.database)
    if not path.exists():
        return None
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table(Order.__tablename__):
                return None
            newest = connection.execute(select(func.max(Order.created_at))).scalar_one()
    finally:
        engine.dispose()
    if newest is None:
        return None
    newest = newest if newest.tzinfo else newest.replace(tzinfo=timezone.utc)
    return path if now - newest > refresh_after else None


def run(
    url: Optional[str] = None,
    now: Optional[datetime] = None,
    *,
    demo: Optional[bool] = None,
    accounts: Optional[bool] = None,
    seed: int = DEMO_SEED,
    refresh_after: Optional[timedelta] = None,
) -> SeedReport:
    """Migrate to head, then seed the demo shop and the demo accounts where allowed.

    Args:
        url: Database URL; from the settings when None.
        now: The demo shop's "now"; the current time when None.
        demo: Seed the demo shop; the settings' demo mode when None.
        accounts: Create the demo accounts; only on the embedded demo database when None.
        seed: Random seed of the demo shop.
        refresh_after: In demo mode, rebuild an SQLite demo shop whose newest order is older
            than this (its data is demo data; anything recorded in it is dropped).

    Returns:
        What was done and the row counts.

    """
    started = time.perf_counter()
    config = settings_module.load()
    url = url or config.database_url
    demo = config.demo if demo is None else demo
    accounts = config.demo_accounts_allowed if accounts is None else accounts
    report = SeedReport()
    moment = now or datetime.now(timezone.utc)
    stale = _stale_demo_file(url, moment, refresh_after) if demo and refresh_after else None
    if stale is not None:
        stale.unlink()
        report.refreshed = True
    migrate(url)
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            if demo:
                report.shop_seeded = seed_demo_shop(session, moment, seed=seed)
            if accounts:
                report.accounts_created = ensure_demo_accounts(session)
        with session_scope(engine) as session:
            report.counts = row_counts(session)
    finally:
        engine.dispose()
    report.seconds = time.perf_counter() - started
    return report


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line: migrate and seed, then print what was done (no personal data)."""
    parser = argparse.ArgumentParser(prog="python -m shop.demo.seed", description=__doc__)
    parser.add_argument("--now", help="ISO moment to build the demo shop around (default: now)")
    parser.add_argument(
        "--refresh-after-hours",
        type=float,
        help="rebuild an SQLite demo shop whose newest order is older than this many hours",
    )
    args = parser.parse_args(argv)
    now = None
    if args.now:
        now = datetime.fromisoformat(args.now)
        now = now if now.tzinfo else now.replace(tzinfo=settings_module.load().tz)
    hours = args.refresh_after_hours
    report = run(now=now, refresh_after=None if hours is None else timedelta(hours=hours))
    state = "seeded" if report.shop_seeded else "already seeded or not in demo mode"
    if report.refreshed:
        state = "rebuilt around now (the demo shop had gone stale)"
    print(
        f"shop database: {state}; demo accounts created: {report.accounts_created}; "
        f"{report.seconds:.1f}s"
    )
    print(", ".join(f"{name} {count}" for name, count in report.counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
