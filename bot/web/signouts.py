"""Customer sign-outs: a per-customer generation in the shop database that revokes on sign-out.

Every storefront cookie and every chat signature names the customer's sign-out generation when
it was issued; signing out moves the generation on, so everything issued before is refused by
every web app and Rasa process (the shop database is shared by all of them and survives
restarts). A customer who never signed out is at generation 0 and has no row.

The table (`customer_signouts`) is declared here on a metadata of its own and created on first
use when missing, so that the rule holds before the shop schema's migrations carry it.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Set

from sqlalchemy import Column, DateTime, Integer, MetaData, Table, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

metadata = MetaData()
customer_signouts = Table(
    "customer_signouts",
    metadata,
    Column("customer_id", Integer, primary_key=True, autoincrement=False),
    Column("generation", Integer, nullable=False),
    Column("signed_out_at", DateTime(timezone=True), nullable=False),
)

_ready: Set[str] = set()
_ready_lock = threading.Lock()


def _ensure_table(session: Session) -> None:
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, (Engine, Connection)) else bind
    name = str(engine.url)
    if name in _ready:
        return
    with _ready_lock:
        if name not in _ready:
            customer_signouts.create(engine, checkfirst=True)
            _ready.add(name)


def current_generation(session: Session, customer_id: int) -> int:
    """The customer's sign-out generation: how many times they signed out (0 when never).

    Args:
        session: Open shop database session.
        customer_id: The customer's database id.

    Returns:
        The generation every valid cookie and chat signature of the customer names.
    """
    _ensure_table(session)
    stmt = select(customer_signouts.c.generation).where(
        customer_signouts.c.customer_id == int(customer_id)
    )
    found = session.execute(stmt).scalar()
    return int(found or 0)


def sign_out(session: Session, customer_id: int) -> int:
    """Moves the customer's generation on: every cookie and chat signature issued before is dead.

    Args:
        session: Open shop database session (committed by the caller's scope).
        customer_id: The customer's database id.

    Returns:
        The new generation.
    """
    _ensure_table(session)
    table = customer_signouts
    moved = session.execute(
        table.update()
        .where(table.c.customer_id == int(customer_id))
        .values(generation=table.c.generation + 1, signed_out_at=datetime.now(timezone.utc))
    )
    if not moved.rowcount:
        session.execute(
            table.insert().values(
                customer_id=int(customer_id), generation=1, signed_out_at=datetime.now(timezone.utc)
            )
        )
    return current_generation(session, customer_id)
