"""The REST channel served for real: bad requests answered 400 with a reason, owners checked."""

import asyncio
import json
import shutil
import threading
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sanic import Sanic

from bot.processes import free_port
from bot.web import auth
from bot.web.limits import MAX_MESSAGE_CHARS
from bot.web.rest_channel import ShopRestInput
from shop import db
from shop.demo import seed
from shop.signing import SIGNING_KEY_ENV, sign_chat, signed_in_customer

KEY = "rest-test-key"
WEBHOOK = "/webhooks/rest/webhook"


@pytest.fixture(scope="module")
def migrated_shop(tmp_path_factory):
    """An empty shop database of the current schema (customers' sign-out generations)."""
    path = tmp_path_factory.mktemp("migrated") / "shop.db"
    seed.migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def rest(monkeypatch, tmp_path, migrated_shop):
    """Serves the channel as Rasa does; yields `post(body_bytes_or_object)` and what Rasa got."""
    monkeypatch.setattr(Sanic, "test_mode", True)
    monkeypatch.setenv(SIGNING_KEY_ENV, KEY)
    shutil.copyfile(migrated_shop, tmp_path / "shop.db")
    monkeypatch.setenv("SHOP_DATABASE_URL", f"sqlite:///{tmp_path / 'shop.db'}")
    db.reset()
    handled = []

    async def on_message(message):
        handled.append((message.sender_id, message.text, message.metadata, message.input_channel))
        await message.output_channel.send_text_message(message.sender_id, "收到")

    app = Sanic(f"rest_test_{uuid.uuid4().hex[:8]}")
    app.blueprint(ShopRestInput().blueprint(on_message), url_prefix="/webhooks/rest")
    port = free_port()
    stop = None
    loop_ready = threading.Event()

    async def serve():
        nonlocal stop
        stop = asyncio.Event()
        http = await app.create_server(
            host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
        )
        await http.startup()
        await http.before_start()
        await http.after_start()
        loop_ready.set()
        await stop.wait()
        await http.before_stop()
        await http.close()
        await http.after_stop()

    pool = ThreadPoolExecutor(1)
    loop = asyncio.new_event_loop()
    future = pool.submit(loop.run_until_complete, serve())
    assert loop_ready.wait(30)

    def post(body):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{WEBHOOK}",
            data=data,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    yield post, handled
    loop.call_soon_threadsafe(stop.set)
    future.result(timeout=30)
    pool.shutdown()
    db.reset()


BAD = [
    (b"not json at all", "bad_json"),
    (b"[1, 2, 3]", "bad_json"),
    (b'"just a string"', "bad_json"),
    (b"null", "bad_json"),
    ({"message": "没有sender"}, "missing_sender"),
    ({"sender": "", "message": "空sender"}, "missing_sender"),
    ({"sender": {"id": 1}, "message": "对象sender"}, "bad_sender"),
    ({"sender": "x" * 65, "message": "太长的sender"}, "bad_sender"),
    ({"sender": "s1", "message": {"text": "嵌套"}}, "not_text"),
    ({"sender": "s1", "message": 12}, "not_text"),
    ({"sender": "s1", "message": "半个\ud83d"}, "lone_surrogate"),
    ({"sender": "s1", "message": ""}, "empty_message"),
    ({"sender": "s1"}, "missing_message"),
    ({"sender": "s1", "message": "多" * (MAX_MESSAGE_CHARS + 1)}, "message_too_long"),
    ({"sender": "s1", "message": "好", "metadata": [1]}, "bad_metadata"),
]


def test_bad_requests_are_answered_400_with_a_reason_and_never_reach_rasa(rest):
    post, handled = rest
    for body, code in BAD:
        status, answer = post(body)
        assert (status, answer["error"]) == (400, code), body
        assert answer["reason"]
    assert handled == []
    assert post({"sender": "s1", "message": "你好"}) == (
        200,
        [{"recipient_id": "s1", "text": "收到"}],
    )
    assert handled == [("s1", "你好", {}, "rest")]


def test_widget_conversations_need_what_the_widget_has(rest):
    post, handled = rest
    secret = "4a" * 32
    anonymous = auth.anonymous_session_id(secret)
    customer = auth.chat_identity(2, KEY)
    conversation = customer["session_id"]
    assert post({"sender": anonymous, "message": "偷看"})[0] == 403
    assert (
        post({"sender": anonymous, "message": "你好", "metadata": {"session_secret": secret}})[0]
        == 200
    )
    assert post({"sender": conversation, "message": "冒充"})[0] == 403
    other = auth.chat_identity(3, KEY)["custom_data"]
    assert post({"sender": conversation, "message": "冒充", "metadata": other})[0] == 403
    status, _ = post(
        {"sender": conversation, "message": "查订单", "metadata": customer["custom_data"]}
    )
    assert status == 200
    assert [(sender, text) for sender, text, _, _ in handled] == [
        (anonymous, "你好"),
        (conversation, "查订单"),
    ]
    assert handled[0][2] == {}  # the secret is not stored
    stored = handled[1][2]
    assert set(stored) == {"customer_id", "customer_proof"}
    assert signed_in_customer([{"event": "user", "metadata": stored}], KEY, conversation) == 2


def test_a_rest_clients_own_conversation_may_sign_in_only_for_itself(rest):
    post, handled = rest
    metadata = {"customer_id": 5, "customer_sig": sign_chat(5, "e2e-1", KEY)}
    assert post({"sender": "e2e-1", "message": "查订单", "metadata": metadata})[0] == 200
    assert post({"sender": "e2e-2", "message": "查订单", "metadata": metadata})[0] == 200
    [(_, _, first, _), (_, _, second, _)] = handled
    assert signed_in_customer([{"event": "user", "metadata": first}], KEY, "e2e-1") == 5
    assert second == {}  # a signature for another conversation proves nothing here


def test_typed_commands_flags_and_channel_names_are_not_the_clients_to_choose(rest):
    post, handled = rest
    body = {
        "sender": "s2",
        "message": "/restart",
        "input_channel": "socketio",
        "metadata": {"is_external": True, "sender": "agent", "customer_proof": "1.ab"},
    }
    assert post(body)[0] == 200
    assert post({"sender": "s2", "message": "/request_human"})[0] == 200
    assert handled == [("s2", "\u2215restart", {}, "rest"), ("s2", "/request_human", {}, "rest")]
