"""The shop database: ORM models in `shop.db.models`, the engine and sessions built lazily here."""

from shop.db.engine import (
    get_engine,
    get_session_factory,
    make_engine,
    make_session_factory,
    reset,
    session_scope,
)

__all__ = [
    "get_engine",
    "get_session_factory",
    "make_engine",
    "make_session_factory",
    "reset",
    "session_scope",
]
