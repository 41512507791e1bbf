"""The assist endpoints inside the Rasa server: only signed, well-formed requests get through."""

import ast
import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.nlg.callback import CallbackNaturalLanguageGenerator
from sanic import Sanic
from sanic.compat import Header
from sanic.request import Request

from bot.assist import channel
from bot.assist.channel import MAX_BODY_BYTES, AssistInput
from bot.assist.signing import SIGNATURE_HEADER, sign_body
from bot.processes import free_port
from bot.rasa_client import RasaClient
from shop.signing import SIGNING_KEY_ENV

KEY = "channel-test-key"
ASSIST = Path(channel.__file__).resolve().parent


def request(body, signature=None, key=KEY):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    signed = sign_body(raw, key) if signature is None else signature
    found = Request(
        b"/webhooks/assist/suggestions",
        Header({SIGNATURE_HEADER: signed}),
        "1.1",
        "POST",
        None,
        None,
    )
    found.body = raw
    return found


GOOD = {"conversation_id": "c-1", "authority_fen": 5000}


def test_a_signed_well_formed_request_is_read():
    assert channel._body(request(GOOD), KEY) == GOOD
    assert channel._body(request({**GOOD, "authority_fen": 0}), KEY)["authority_fen"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"authority_fen": 5000},
        {"conversation_id": 7, "authority_fen": 5000},
        {"conversation_id": "c-1"},
        {"conversation_id": "c-1", "authority_fen": -1},
        {"conversation_id": "c-1", "authority_fen": 50.0},
        {"conversation_id": "c-1", "authority_fen": "5000"},
        {"conversation_id": "c-1", "authority_fen": True},
        ["c-1", 5000],
        b"not json",
    ],
)
def test_a_malformed_request_is_refused_even_when_signed(body):
    assert channel._body(request(body), KEY) is None


def test_an_unsigned_tampered_or_wrongly_keyed_request_is_refused():
    assert channel._body(request(GOOD, signature=""), KEY) is None
    assert channel._body(request(GOOD, key="another-key"), KEY) is None
    tampered = request(GOOD)
    tampered.body = tampered.body.replace(b"5000", b"99999")
    assert channel._body(tampered, KEY) is None
    assert channel._body(request(GOOD, key=""), "") is None  # no key: nothing is accepted


def test_an_over_long_request_is_refused_before_it_is_read():
    padded = {**GOOD, "padding": "x" * MAX_BODY_BYTES}
    assert channel._body(request(padded), KEY) is None


def test_the_channel_is_named_assist():
    assert AssistInput.name() == "assist"


# ---- the endpoints served, without a model (Rasa has not loaded one yet)


@pytest.fixture
def served(monkeypatch):
    """`call(path, body, signature)` posts to the endpoints as the web app would."""
    monkeypatch.setattr(Sanic, "test_mode", True)
    monkeypatch.setenv(SIGNING_KEY_ENV, KEY)
    # building the blueprint installs the compiled validation: put Rasa's back afterwards
    monkeypatch.setattr(
        RemoteAction, "_validate_action_result", RemoteAction._validate_action_result
    )
    monkeypatch.setattr(
        CallbackNaturalLanguageGenerator,
        "validate_response",
        staticmethod(CallbackNaturalLanguageGenerator.validate_response),
    )
    app = Sanic(f"assist_test_{uuid.uuid4().hex[:8]}")
    app.ctx.agent = None
    app.blueprint(AssistInput().blueprint(lambda message: None))

    def call(*requests):
        async def run():
            port = free_port()
            http = await app.create_server(
                host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
            )
            await http.startup()
            await http.after_start()
            try:
                async with RasaClient(f"http://127.0.0.1:{port}", "") as rasa:
                    return [
                        await rasa.post_webhook(
                            f"assist/{path}",
                            raw,
                            {SIGNATURE_HEADER: signature},
                            accept=(200, 403, 503),
                        )
                        for path, raw, signature in requests
                    ]
            finally:
                await http.before_stop()
                await http.close()
                await http.after_stop()

        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, run()).result(timeout=60)

    return call


def signed(body, key=KEY):
    raw = json.dumps(body).encode()
    return raw, sign_body(raw, key)


def test_only_signed_requests_reach_the_drafter(served):
    perform = {**GOOD, "message_id": "m1", "events": []}
    answers = served(
        ("suggestions", *signed(GOOD)),
        ("suggestions", json.dumps(GOOD).encode(), ""),
        ("suggestions", *signed(GOOD, key="another-key")),
        ("perform", *signed(perform)),
        ("perform", *signed({**perform, "events": "not a list"})),
        ("perform", *signed(GOOD)),
    )
    assert answers == [
        (503, {"error": "no_model"}),  # signed: refused only because no model is loaded
        (403, {"error": "refused"}),
        (403, {"error": "refused"}),
        (503, {"error": "no_model"}),
        (403, {"error": "refused"}),
        (403, {"error": "refused"}),  # perform needs the agent's events
    ]


def test_building_the_channel_switches_rasa_to_the_compiled_validation(served):
    assert RemoteAction._validate_action_result.__module__ == "bot.assist.validation"


# ---- the assist package stands on its own


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_assist_drafting_imports_nothing_from_the_console_or_the_web_app():
    modules = {path.name: set(_imports(path)) for path in ASSIST.glob("*.py")}
    assert {"channel.py", "draft.py", "signing.py", "validation.py"} <= set(modules)
    assert "bot.assist.draft" in modules["channel.py"]  # the check sees the imports
    offenders = {
        name: sorted(m for m in found if m.startswith(("bot.agent", "bot.web", "actions")))
        for name, found in modules.items()
    }
    assert offenders == {name: [] for name in modules}
