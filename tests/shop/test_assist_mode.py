"""Assisted action calls: the signed header, drafts that write nothing, the agent's authority."""

import asyncio
import contextvars
import json

import pytest
from sanic import Sanic
from sanic.response import json as json_response
from sqlalchemy import func, select

from actions import server
from bot.processes import free_port
from shop import assist_mode
from shop.db import make_engine, session_scope
from shop.db.models import Agent, Base
from shop.policy.compensation import COMPENSATION_LIMIT_FEN
from shop.signing import SIGNING_KEY_ENV

KEY = "assist-test-key"


def isolated(function, *args):
    """Runs `function` in a copy of the current context, so context variables set there stay."""
    return contextvars.copy_context().run(function, *args)


# the header


@pytest.mark.parametrize(("mode", "authority"), [("draft", 0), ("live", 12000), ("draft", 50000)])
def test_header_round_trip(mode, authority):
    value = assist_mode.header_value(mode, authority, KEY)
    assert value.startswith(f"{mode}.{authority}.")
    assert assist_mode.read_header(value, KEY) == (mode, authority)


def test_signature_may_be_upper_case():
    mode, authority, signature = assist_mode.header_value("live", 5000, KEY).split(".")
    assert assist_mode.read_header(f"{mode}.{authority}.{signature.upper()}", KEY) == ("live", 5000)


def test_header_signed_with_another_key_is_refused():
    value = assist_mode.header_value("live", 5000, "someone-elses-key")
    assert assist_mode.read_header(value, KEY) is None


def test_tampered_authority_or_mode_is_refused():
    _, _, signature = assist_mode.header_value("live", 5000, KEY).split(".")
    assert assist_mode.read_header(f"live.500000.{signature}", KEY) is None
    _, _, draft_signature = assist_mode.header_value("draft", 5000, KEY).split(".")
    assert assist_mode.read_header(f"live.5000.{draft_signature}", KEY) is None


@pytest.mark.parametrize(("mode", "authority"), [("preview", 100), ("", 100), ("live", -1)])
def test_header_value_refuses_a_bad_mode_or_authority(mode, authority):
    with pytest.raises(ValueError):
        assist_mode.header_value(mode, authority, KEY)


@pytest.mark.parametrize(
    "value",
    [
        "preview.100." + "0" * 64,
        "live.100",
        "live.100.abc.def",
        "live.-5." + "0" * 64,
        "live.1e3." + "0" * 64,
        "live..",
        "",
        None,
    ],
)
def test_malformed_headers_are_refused(value):
    assert assist_mode.read_header(value, KEY) is None


def test_over_long_authority_is_refused_even_when_signed():
    value = assist_mode.header_value("live", 1_000_000_000, KEY)
    assert assist_mode.read_header(value, KEY) is None


def test_without_a_key_nothing_is_accepted():
    assert assist_mode.read_header(assist_mode.header_value("live", 5000, ""), "") is None


def test_a_non_ascii_digit_authority_is_refused():
    assert assist_mode.read_header("live.².abc", KEY) is None


# context variables


def test_outside_an_assisted_call_nothing_is_set():
    assert isolated(lambda: (assist_mode.is_draft(), assist_mode.authority_fen())) == (False, None)


@pytest.mark.parametrize(
    ("mode", "authority", "draft"), [("draft", 3000, True), ("live", 9000, False)]
)
def test_enter_marks_the_context(mode, authority, draft):
    def call():
        assist_mode.enter(mode, authority)
        return assist_mode.is_draft(), assist_mode.authority_fen()

    assert isolated(call) == (draft, authority)
    assert isolated(lambda: (assist_mode.is_draft(), assist_mode.authority_fen())) == (False, None)


# session_scope and the compensation limit


@pytest.fixture
def engine(tmp_path):
    """An empty shop database of its own."""
    engine = make_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def agent(username, role="agent", limit=5000, active=True):
    return Agent(
        username=username,
        display_name=username,
        role=role,
        password_hash="x",
        compensation_limit_fen=limit,
        active=active,
    )


def count_agents(engine):
    with session_scope(engine) as session:
        return session.execute(select(func.count(Agent.id))).scalar_one()


def add_agent(engine, username):
    """Adds an agent in a unit of work and returns how many agents that unit of work saw."""
    with session_scope(engine) as session:
        session.add(agent(username))
        session.flush()
        return session.execute(select(func.count(Agent.id))).scalar_one()


def test_session_scope_commits_outside_a_draft(engine):
    assert isolated(add_agent, engine, "xiaomei") == 1
    assert count_agents(engine) == 1


def test_session_scope_commits_a_live_assisted_call(engine):
    def live():
        assist_mode.enter("live", 9000)
        return add_agent(engine, "xiaomei")

    assert isolated(live) == 1
    assert count_agents(engine) == 1


def test_session_scope_rolls_a_draft_back(engine):
    def draft():
        assist_mode.enter("draft", 9000)
        return add_agent(engine, "xiaomei")

    assert isolated(draft) == 1  # the draft saw its own work
    assert count_agents(engine) == 0


def test_session_scope_rolls_back_on_error(engine):
    with pytest.raises(RuntimeError):
        with session_scope(engine) as session:
            session.add(agent("xiaomei"))
            session.flush()
            raise RuntimeError("action failed")
    assert count_agents(engine) == 0


def limit(engine, mode=None, authority=None):
    def call():
        if mode is not None:
            assist_mode.enter(mode, authority)
        with session_scope(engine) as session:
            return assist_mode.compensation_limit_fen(session)

    return isolated(call)


def test_limit_is_the_policys_without_agents(engine):
    assert limit(engine) == COMPENSATION_LIMIT_FEN["agent"]


def test_limit_is_the_lowest_active_frontline_agents(engine):
    with session_scope(engine) as session:
        session.add_all(
            [
                agent("a1", limit=8000),
                agent("a2", limit=12000),
                agent("boss", role="supervisor", limit=50000),
                agent("gone", limit=100, active=False),
            ]
        )
    assert limit(engine) == 8000


@pytest.mark.parametrize(("mode", "authority"), [("live", 30000), ("draft", 30000), ("draft", 0)])
def test_limit_is_the_assisting_agents_authority(engine, mode, authority):
    with session_scope(engine) as session:
        session.add(agent("a1", limit=8000))
    assert limit(engine, mode, authority) == authority


# the action server


class FakeRequest:
    def __init__(self, headers):
        self.headers = headers


@pytest.fixture
def app(monkeypatch):
    """The action server app (Sanic's test mode lets every test build its own)."""
    monkeypatch.setattr(Sanic, "test_mode", True)
    monkeypatch.setenv(SIGNING_KEY_ENV, KEY)
    return server.build_app()


def through_middleware(app, headers):
    """The assist mode a request with `headers` leaves, in a context of its own."""
    (middleware,) = [m for m in app.request_middleware if m.__name__ == "assisted_call"]

    async def call():
        await middleware(FakeRequest(headers))
        return assist_mode.is_draft(), assist_mode.authority_fen()

    return asyncio.run(call())


def test_valid_header_enters_the_mode_with_the_authority(app):
    live = {assist_mode.HEADER: assist_mode.header_value("live", 50000, KEY)}
    draft = {assist_mode.HEADER: assist_mode.header_value("draft", 8000, KEY)}
    assert through_middleware(app, live) == (False, 50000)
    assert through_middleware(app, draft) == (True, 8000)


def test_forged_header_becomes_a_draft_without_authority(app):
    forged = {assist_mode.HEADER: assist_mode.header_value("live", 50000, "guessed-key")}
    assert through_middleware(app, forged) == (True, 0)


def test_no_header_changes_nothing(app):
    assert through_middleware(app, {"Content-Type": "application/json"}) == (False, None)


async def get_probe(reader, writer, headers):
    """One HTTP/1.1 request for /probe on an open (kept alive) connection; the JSON body."""
    lines = ["GET /probe HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode().lower()
    length = int(head.split("content-length:")[1].split("\r\n")[0])
    return json.loads(await reader.readexactly(length))


def served(app, requests):
    """Serves the app on a free port and sends each list of header sets on one connection."""

    @app.get("/probe")
    async def probe(request):
        return json_response(
            {"draft": assist_mode.is_draft(), "authority": assist_mode.authority_fen()}
        )

    async def run():
        port = free_port()
        http = await app.create_server(
            host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
        )
        await http.startup()
        await http.before_start()
        await http.after_start()
        answers = []
        try:
            for connection in requests:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                answers.append([await get_probe(reader, writer, h) for h in connection])
                writer.close()
                await writer.wait_closed()
        finally:
            await http.before_stop()
            await http.close()
            await http.after_stop()
        return answers

    return asyncio.run(run())


def test_the_mode_reaches_the_action_call(app):
    live = {assist_mode.HEADER: assist_mode.header_value("live", 50000, KEY)}
    forged = {assist_mode.HEADER: assist_mode.header_value("live", 50000, "guessed-key")}
    assert served(app, [[live], [forged], [{}]]) == [
        [{"draft": False, "authority": 50000}],
        [{"draft": True, "authority": 0}],
        [{"draft": False, "authority": None}],
    ]


def test_a_kept_alive_connection_does_not_carry_the_mode_over(app):
    draft = {assist_mode.HEADER: assist_mode.header_value("draft", 50000, KEY)}
    assert served(app, [[draft, {}]]) == [
        [{"draft": True, "authority": 50000}, {"draft": False, "authority": None}]
    ]
