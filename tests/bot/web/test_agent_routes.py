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


def registered_agent_routes(app) -> set:
    found = set()
    for route in app.router.routes:
        path = re.sub(r"<(\w+):str>", r"<\1>", "/" + route.path.strip("/"))
        if path == "/agent" or path.startswith("/agent/"):
            found |= {
                (method, path) for method in route.methods if method not in ("HEAD", "OPTIONS")
            }
    return found


def test_every_agent_route_the_app_registers_is_listed_for_the_browser_test(app):
    registered = registered_agent_routes(app)
    assert ("GET", "/agent/api/conversations/<conversation_id>/suggestions") in registered
    assert registered == agent_routes.listed()
    assert not agent_routes.PUBLIC & {(m, p) for m, p, _ in agent_routes.GUARDED}
    assert set(agent_routes.QUERIES) <= {p for _, p, _ in agent_routes.GUARDED}
