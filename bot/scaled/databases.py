"""`python -m bot.scaled.databases`: the scale-out's PostgreSQL databases, created and seeded.

Creates the shop database and the tracker store's database when they do not exist (as their
users, through the server's `postgres` database), migrates the shop database to head and, when it
is the local demo shop (no `SHOP_DATABASE_URL` given), seeds the demo shop and the demo accounts
(a given database gets the demo shop only with `SHOP_DEMO=1`, and never the demo accounts).
Rasa creates the tracker store's tables itself. Settings: `bot/scaled/services.py`.
"""

from __future__ import annotations

import re
import sys
from typing import List, Optional, Sequence

from bot.scaled import services as services_module
from bot.scaled.services import ScaledServices

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def create_database(server_url: str, name: str) -> bool:
    """Creates database `name` on the server of `server_url` unless it exists.

    Args:
        server_url: SQLAlchemy URL of a database on that server to connect to (`postgres`).
        name: The database to create (letters, digits and `_`).

    Returns:
        True when it was created now.

    Raises:
        ValueError: when the name is not a plain identifier.
    """
    from sqlalchemy import create_engine, text

    if not _NAME.match(name):
        raise ValueError(f"not a plain database name: {name!r}")
    engine = create_engine(server_url, future=True, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if exists:
                return False
            connection.execute(text(f'CREATE DATABASE "{name}"'))
            return True
    finally:
        engine.dispose()


def prepare(services: ScaledServices) -> List[str]:
    """Creates both databases if needed, migrates the shop and seeds the demo shop.

    Returns:
        What was done, one sentence each (no passwords).
    """
    from sqlalchemy.engine import make_url

    from shop.demo import seed

    done = []
    shop = make_url(services.shop_database_url)
    for url, name in (
        (shop.set(database="postgres").render_as_string(hide_password=False), shop.database),
        (services.tracker_server_url("postgres"), services.tracker_database),
    ):
        if create_database(url, name):
            done.append(f"created database {name}")
    report = seed.run(  # a given database gets demo data only with SHOP_DEMO=1, never accounts
        url=services.shop_database_url,
        demo=True if services.demo else None,
        accounts=services.demo,
    )
    state = "demo shop seeded" if report.shop_seeded else "shop database migrated"
    done.append(f"{state}; demo accounts created: {report.accounts_created}")
    return done


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line: prepare the databases of `services.from_env()`, print what was done."""
    del argv
    services = services_module.from_env()
    for sentence in prepare(services):
        print(sentence, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
