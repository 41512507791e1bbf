"""Customer sign-out generations in the shop database (fresh migrated SQLite per test)."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.web import signouts
from shop.db import make_engine, session_scope
from shop.db.models import CustomerSignOut
from shop.demo import seed


@pytest.fixture
def engine(tmp_path):
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    seed.run(url, seed.DEMO_NOW, demo=True, accounts=False)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_a_customer_who_never_signed_out_is_at_generation_zero_without_a_row(engine):
    with session_scope(engine) as session:
        assert signouts.current_generation(session, 4) == 0
        assert session.execute(select(CustomerSignOut)).first() is None


def test_every_sign_out_moves_only_that_customers_generation_on(engine):
    with session_scope(engine) as session:
        assert signouts.sign_out(session, 4) == 1
    with session_scope(engine) as session:
        assert signouts.sign_out(session, 4) == 2
        assert signouts.sign_out(session, 5) == 1
    with session_scope(engine) as session:
        assert signouts.current_generation(session, 4) == 2
        assert signouts.current_generation(session, 5) == 1
        assert signouts.current_generation(session, 6) == 0
        row = session.get(CustomerSignOut, 4)
        assert row.signed_out_at.tzinfo == timezone.utc
        assert abs((datetime.now(timezone.utc) - row.signed_out_at).total_seconds()) < 60


def test_a_sign_out_of_an_unknown_customer_is_refused_and_loses_nothing(engine):
    with pytest.raises(IntegrityError):
        with session_scope(engine) as session:
            signouts.sign_out(session, 4)
            signouts.sign_out(session, 999_999)
    with session_scope(engine) as session:
        assert signouts.current_generation(session, 4) == 0
