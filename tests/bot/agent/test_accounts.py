"""Staff passwords, agent session cookies and who may use the console."""

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.agent import accounts
from bot.web import auth as customer_auth
from shop.db import make_engine
from shop.db.models import Agent, StaffSignOut
from shop.demo import seed
from shop.repository.agents import hash_password, verify_password

KEY = "agent-test-key"


@pytest.fixture(scope="module")
def staff_db(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('staff') / 'shop.db'}"
    seed.run(url, seed.DEMO_NOW, demo=True, accounts=True)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_demo_passwords_are_stored_as_salted_scrypt_hashes(staff_db):
    with Session(staff_db) as session:
        stored = {a.username: a.password_hash for a in session.execute(select(Agent)).scalars()}
    assert set(stored) >= {"agent", "supervisor", "trainer"}
    for username, value in stored.items():
        assert value.startswith("scrypt$")
        assert f"{username}-demo" not in value
        assert verify_password(f"{username}-demo", value)
        assert not verify_password(f"{username}-wrong", value)
    # the same password hashes differently each time (random salt)
    assert hash_password("agent-demo") != hash_password("agent-demo")


def test_sign_in_checks_the_password_and_knows_roles(staff_db):
    with Session(staff_db) as session:
        frontline = accounts.sign_in(session, "agent", "agent-demo")
        supervisor = accounts.sign_in(session, "supervisor", "supervisor-demo")
        trainer = accounts.sign_in(session, "trainer", "trainer-demo")
        assert accounts.sign_in(session, "agent", "supervisor-demo") is None
        assert accounts.sign_in(session, "nobody", "agent-demo") is None
        assert accounts.sign_in(session, "agent", None) is None
    assert frontline.role == "agent" and frontline.may_use_console
    assert supervisor.compensation_limit_fen > frontline.compensation_limit_fen
    assert trainer.role == "trainer" and not trainer.may_use_console


def test_sign_in_reads_a_name_as_the_lock_counts_it(staff_db):
    with Session(staff_db) as session:
        for look_alike in ("ａｇｅｎｔ", "AGENT", "a\u200bgent "):
            signed_in = accounts.sign_in(session, look_alike, "agent-demo")
            assert signed_in is not None and signed_in.username == "agent", look_alike


def test_cookie_round_trip_and_expiry():
    value = accounts.make_cookie(3, KEY, now=1_000_000)
    fields = accounts.read_cookie(value, KEY, now=1_000_000 + 60)
    assert fields["agent_id"] == 3 and fields["issued"] == 1_000_000
    assert accounts.read_cookie(value, KEY, now=1_000_000 + accounts.MAX_AGE_SECONDS + 1) is None
    assert accounts.read_cookie(value, KEY, now=1_000_000 - 10) is None
    assert accounts.make_cookie(3, KEY, now=1) != accounts.make_cookie(3, KEY, now=1)  # nonce


def test_forged_moved_and_customer_cookies_are_refused():
    value = accounts.make_cookie(3, KEY, now=1_000_000)
    agent_id, issued, nonce, mac = value.split(".")
    later = 1_000_000 + 60
    assert accounts.read_cookie(f"1.{issued}.{nonce}.{mac}", KEY, now=later) is None
    assert accounts.read_cookie(value, "another-key", now=later) is None
    tampered = value[:-1] + ("0" if value[-1] != "0" else "1")
    assert accounts.read_cookie(tampered, KEY, now=later) is None
    assert accounts.read_cookie(value + "0", KEY, now=later) is None
    assert accounts.read_cookie(None, KEY) is None
    # the storefront's customer cookie for the same id is never an agent session
    customer = customer_auth.make_cookie(3, KEY, now=1_000_000)
    assert accounts.read_cookie(customer, KEY, now=later) is None


def test_signed_out_and_deactivated_sessions_are_refused(staff_db):
    with Session(staff_db) as session:
        agent = session.execute(select(Agent).where(Agent.username == "agent")).scalars().one()
        agent_id = agent.id
        value = accounts.make_cookie(agent_id, KEY)
        staff = accounts.staff_for_cookie(session, value, KEY)
        assert staff is not None and staff.username == "agent"
        assert accounts.sign_out(session, value, KEY) and accounts.sign_out(session, value, KEY)
        session.commit()
    with Session(staff_db) as session:  # the sign-out is in the database, not in a process
        assert accounts.staff_for_cookie(session, value, KEY) is None
        [row] = session.execute(select(StaffSignOut)).scalars().all()
        assert row.nonce == staff.nonce and row.agent_id == agent_id
        fresh = accounts.make_cookie(agent_id, KEY)
        assert not accounts.sign_out(session, fresh + "0", KEY)  # a forged cookie records nothing
        agent = session.get(Agent, agent_id)
        agent.active = False
        session.flush()
        assert accounts.staff_for_cookie(session, fresh, KEY) is None
        session.rollback()


def test_expired_sign_outs_are_deleted_when_another_is_recorded(staff_db):
    with Session(staff_db) as session:
        agent = session.execute(select(Agent).where(Agent.username == "agent")).scalars().one()
        old = accounts.make_cookie(agent.id, KEY, now=1_000_000)
        assert accounts.sign_out(session, old, KEY, now=1_000_060)
        later = 1_000_000 + accounts.MAX_AGE_SECONDS + 60
        new = accounts.make_cookie(agent.id, KEY, now=later)
        assert accounts.sign_out(session, new, KEY, later)
        session.flush()
        kept = set(session.execute(select(StaffSignOut.nonce)).scalars())
        assert old.split(".")[2] not in kept and new.split(".")[2] in kept
        session.rollback()
