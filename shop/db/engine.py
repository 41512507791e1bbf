"""The shop database engine and session factory, built on first use (nothing at import time)."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from shop import assist_mode
from shop import settings as settings_module

_lock = threading.Lock()
_engine: Optional[Engine] = None
_factory: Optional[sessionmaker] = None


def _sqlite_foreign_keys_on(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for a shop database URL (2.0 style, `future=True`).

    For SQLite the parent folder of the file is created, foreign keys are switched on for every
    connection and the connection may be used from the action server's worker threads.

    Args:
        url: SQLAlchemy URL, e.g. `sqlite:///var/shop.db` or `postgresql://user@host/db`.
        **kwargs: Extra keyword arguments for `create_engine`.

    Returns:
        The engine.

    """
    parsed = make_url(url)
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite:
        kwargs.setdefault("connect_args", {}).setdefault("check_same_thread", False)
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    else:
        kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("json_serializer", _json_dumps)
    engine = create_engine(url, future=True, **kwargs)
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_foreign_keys_on)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker:
    """Return a 2.0-style session factory whose sessions keep loaded values on commit."""
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


def get_engine() -> Engine:
    """Return the process-wide engine for SHOP_DATABASE_URL, created on the first call."""
    global _engine, _factory
    with _lock:
        if _engine is None:
            _engine = make_engine(settings_module.load().database_url)
            _factory = make_session_factory(_engine)
        return _engine


def get_session_factory() -> sessionmaker:
    """Return the process-wide session factory, created with the engine on the first call."""
    get_engine()
    assert _factory is not None
    return _factory


def reset() -> None:
    """Dispose of the process-wide engine so the next use reads the settings again (tests)."""
    global _engine, _factory
    with _lock:
        if _engine is not None:
            _engine.dispose()
        _engine, _factory = None, None


@contextmanager
def session_scope(engine: Optional[Engine] = None) -> Iterator[Session]:
    """Open a session for one unit of work: committed on success, rolled back on error, then closed.

    In a draft (an agent console preview, see `shop.assist_mode`) the work is always rolled
    back, so a preview shows what the bot would do without doing it.

    Args:
        engine: Engine to bind to; the process-wide engine when omitted.

    Yields:
        The open session.

    """
    factory = make_session_factory(engine) if engine is not None else get_session_factory()
    session: Session = factory()
    try:
        yield session
        if assist_mode.is_draft():
            session.rollback()
        else:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
