"""The browser test's list of /agent routes is the list the web app really registers."""

import re

import pytest
from sanic import Sanic

from bot.settings import ROOT, Settings
from bot.web.app import create_app
from tests.browser import agent_routes


@pytest.fixture
def app(monkeypatch, tmp_path):
    monkeypatch.setattr(Sanic, "test_mode", True)  # lets every test build its own app
    settings = Settings(
        host="127.0.0.1",
        rasa_port=1,
        action_port=2,
        web_port=3,
        rasa_token="token",
        signing_key="key",
        var_dir=tmp_path,
        models_dir=tmp_path,
        endpoints=ROOT / "endpoints.yml",
        credentials=ROOT / "credentials.yml",
        notice_interval=0,
    )
    return create_app(settings, name="agent_routes_test")


# A route parameter (`<name>`, `<name:str>`, `<name:int>`) and what a listed path may put there.
PARAMETER = re.compile(r"<(\w+)(?::(\w+))?>")
VALUES = {"int": r"\d+"}


def pattern(route_path: str) -> "re.Pattern[str]":
    """The paths a route answers; `<conversation_id>` written as such also fits a parameter."""
    parts, last = [], 0
    for found in PARAMETER.finditer(route_path):
        parts.append(re.escape(route_path[last : found.start()]))
        parts.append(VALUES.get(found.group(2) or "str", r"[^/]+"))
        last = found.end()
    parts.append(re.escape(route_path[last:]))
    return re.compile("".join(parts))


def registered_agent_routes(app) -> set:
    found = set()
    for route in app.router.routes:
        path = "/" + route.path.strip("/")
        if path == "/agent" or path.startswith("/agent/"):
            found |= {
                (method, path) for method in route.methods if method not in ("HEAD", "OPTIONS")
            }
    return found


def routes_for(registered, method, path):
    return [(m, p) for m, p in registered if m == method and pattern(p).fullmatch(path)]


def test_every_agent_route_the_app_registers_is_listed_for_the_browser_test(app):
    registered = registered_agent_routes(app)
    assert ("GET", "/agent/api/conversations/<conversation_id:str>/suggestions") in registered
    assert ("POST", "/agent/refunds/<request_id:int>/<decision:str>") in registered
    listed = agent_routes.listed()
    # every listed call reaches exactly one route, and every route is called
    reached = set()
    for method, path in listed:
        found = routes_for(registered, method, path)
        assert len(found) == 1, (method, path, found)
        reached |= set(found)
    assert reached == registered
    guarded = {(m, p) for m, p, _ in agent_routes.GUARDED}
    assert len(guarded) == len(agent_routes.GUARDED)
    assert not agent_routes.PUBLIC & guarded
    assert not agent_routes.SIGN_IN_REDIRECTS & (agent_routes.PUBLIC | guarded)
    assert set(agent_routes.QUERIES) <= {p for _, p, _ in agent_routes.GUARDED}


def test_a_route_pattern_takes_only_what_its_parameters_allow():
    refunds = pattern("/agent/refunds/<request_id:int>/<decision:str>")
    assert refunds.fullmatch("/agent/refunds/12/approve")
    assert not refunds.fullmatch("/agent/refunds/x/approve")
    assert not refunds.fullmatch("/agent/refunds/12/approve/more")
    assert pattern("/agent/metrics.csv").fullmatch("/agent/metrics.csv")
    assert not pattern("/agent/metrics.csv").fullmatch("/agent/metrics-csv")
