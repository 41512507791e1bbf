import asyncio
import secrets
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sanic import Sanic

from bot.processes import free_port
from bot.web import auth, signouts, storefront
from bot.web.limits import MAX_MESSAGE_CHARS
from bot.web.socketio_channel import (
    CLIENT_MSG_ID_KEY,
    MESSAGE_TOO_LONG_TEXT,
    RecentMessages,
    SharedRecentMessages,
    ShopSocketIOInput,
    ShopSocketIOOutput,
    client_message_id,
    recent_messages,
)
from shop import db
from shop.demo import seed
from shop.signing import SIGNING_KEY_ENV, conversation_id_for, signed_in_customer

KEY = "socketio-test-key"


def secret(n):
    """A widget's session secret (64 hex digits) and the anonymous conversation it owns."""
    value = f"{n:02x}" * 32
    return value, auth.anonymous_session_id(value)


def run(coroutine):
    """Runs a coroutine on its own loop, even when another test's loop is running."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class RecordingServer:
    def __init__(self):
        self.emitted = []

    async def emit(self, event, data=None, room=None, **kwargs):
        self.emitted.append((event, data, room))


def test_cards_are_delivered_whole_and_data_payloads_as_rasa_clients_expect():
    sio = RecordingServer()
    output = ShopSocketIOOutput(sio, "bot_uttered")
    card = {"card": "order", "order_id": "2026112328207", "status": "shipped", "total_fen": 329900}
    run(output.send_custom_json("c-1", card))
    run(output.send_custom_json("c-1", {"data": {"title": "x"}}))
    assert sio.emitted == [("bot_uttered", card, "c-1"), ("bot_uttered", {"title": "x"}, "c-1")]
    assert "room" not in card  # the renderer's payload is not changed


def test_session_request_joins_the_session_room():
    channel = ShopSocketIOInput.from_credentials(
        {"session_persistence": True, "metadata_key": "customData"}
    )
    assert channel.name() == "socketio" and channel.metadata_key == "customData"

    async def ignore(message):
        return None

    channel.blueprint(ignore)
    sio = channel.sio
    handler = sio.handlers["/"]["session_request"]

    owner, conversation = secret(1)

    async def connect_and_request():
        sid = await sio.manager.connect("engine-1", "/")
        await handler(sid, {"session_id": conversation, "session_secret": owner})
        return sid

    sid = run(connect_and_request())
    rooms = sio.manager.get_rooms(sid, "/")
    assert conversation in rooms
    assert isinstance(channel.get_output_channel(), ShopSocketIOOutput)


def test_agent_messages_and_notices_keep_their_sender():
    sio = RecordingServer()
    output = ShopSocketIOOutput(sio, "bot_uttered")
    message = {
        "text": "您好，我是客服小蜜",
        "timestamp": 1.0,
        "sender": "agent",
        "agent": "agent",
        "agent_name": "客服小蜜",
    }
    run(output.send_response("c-1", message))
    notice = {"text": "人工客服已接入", "sender": "system", "notice": "agent_joined"}
    run(output.send_response("c-1", notice))
    run(output.send_response("c-1", {"text": "普通回复", "sender": "someone"}))
    assert sio.emitted[0] == (
        "bot_uttered",
        {"text": "您好，我是客服小蜜", "sender": "agent", "agent_name": "客服小蜜"},
        "c-1",
    )
    assert sio.emitted[1] == (
        "bot_uttered",
        {"text": "人工客服已接入", "sender": "system", "notice": "agent_joined"},
        "c-1",
    )
    assert sio.emitted[2][1] == {"text": "普通回复"}  # Rasa's own output for everything else


def test_a_bot_reply_keeps_the_persona_it_was_rendered_in():
    from rasa.core.actions.action import create_bot_utterance

    sio = RecordingServer()
    output = ShopSocketIOOutput(sio, "bot_uttered")
    buttons = [{"title": "转人工客服", "payload": "/request_human"}]
    rendered = {"text": "宝子来啦！！\n\n有啥要问的", "buttons": buttons, "persona": "crazy"}
    # what Rasa makes of the /nlg answer and hands the output channel
    run(output.send_response("c-1", create_bot_utterance(dict(rendered)).message()))
    run(output.send_response("c-1", create_bot_utterance({"text": "好的"}).message()))
    assert [data for _, data, _ in sio.emitted] == [
        {"text": "宝子来啦！！", "quick_replies": [], "persona": "crazy"},
        {
            "text": "有啥要问的",
            "quick_replies": [
                {"content_type": "text", "title": "转人工客服", "payload": "/request_human"}
            ],
            "persona": "crazy",
        },
        {"text": "好的"},
    ]
    single = {"text": "主人好呀", "persona": "master"}
    run(output.send_response("c-1", create_bot_utterance(dict(single)).message()))
    assert sio.emitted[-1][1] == {"text": "主人好呀", "persona": "master"}


# ---- the channel served for real, a socket.io client talking to it ----


@pytest.fixture(scope="module")
def seeded_shop(tmp_path_factory):
    """The demo shop (its customers and their sign-out generations), seeded once per module."""
    path = tmp_path_factory.mktemp("seeded") / "shop.db"
    seed.run(f"sqlite:///{path}", seed.DEMO_NOW, demo=True, accounts=False)
    return path


@pytest.fixture
def served_channel(monkeypatch, tmp_path, seeded_shop):
    """Serves the channel on a free port; `talk(url)` runs a client against it.

    The signing key is set and the shop database (sign-out generations) is a fresh copy of the
    seeded demo shop.
    """
    monkeypatch.setattr(Sanic, "test_mode", True)  # lets every test build its own app
    monkeypatch.setenv(SIGNING_KEY_ENV, KEY)
    shutil.copyfile(seeded_shop, tmp_path / "shop.db")
    monkeypatch.setenv("SHOP_DATABASE_URL", f"sqlite:///{tmp_path / 'shop.db'}")
    db.reset()
    yield serve
    db.reset()


def serve(on_message, talk):
    channel = ShopSocketIOInput.from_credentials(
        {"session_persistence": True, "metadata_key": "customData"}
    )
    app = Sanic(f"socketio_test_{uuid.uuid4().hex[:8]}")
    app.blueprint(channel.blueprint(on_message))
    # a long poll is answered within ping interval + timeout: short, so a client leaves quickly
    channel.sio.eio.ping_interval = channel.sio.eio.ping_timeout = 1

    async def run():
        port = free_port()
        http = await app.create_server(
            host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
        )
        await http.startup()
        await http.before_start()
        await http.after_start()
        try:
            return await talk(f"http://127.0.0.1:{port}")
        finally:
            await http.before_stop()
            await http.close()
            await http.after_stop()

    return run_in_thread(run())


def run_in_thread(coroutine):
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=60)


class Customer:
    """A socket.io client in one conversation, as the widget speaks to the channel.

    `request` is what it sends with `session_request` (the widget's: a session secret, or a
    signed-in customer's conversation and chat signature); `None` connects without a session.
    """

    def __init__(self, url, request=None, custom=None):
        import socketio

        self.url, self.request = url, request
        self.custom = dict(custom or {})
        self.session_id = None
        self.client = socketio.AsyncClient()
        self.received, self.errors = [], []
        self.client.on("bot_uttered", self.received.append)
        self.client.on("chat_error", self.errors.append)

    async def __aenter__(self):
        confirmed = asyncio.Event()

        def confirm(session_id):
            self.session_id = session_id
            confirmed.set()

        self.client.on("session_confirm", confirm)
        # long polling: the aiohttp Rasa pins lacks what the client's websocket transport needs;
        # the handshake may take longer than the client's default second on a busy machine
        await self.client.connect(self.url, transports=["polling"], wait_timeout=10)
        if self.request is not None:
            await self.client.emit("session_request", self.request)
            await asyncio.wait_for(confirmed.wait(), 10)
        return self

    async def __aexit__(self, *_):
        await self.client.disconnect()

    async def say(self, text, client_msg_id=None, session_id=None, **custom):
        """Sends a message and waits for the channel's acknowledgement."""
        custom = {**self.custom, **custom}
        if client_msg_id is not None:
            custom[CLIENT_MSG_ID_KEY] = client_msg_id
        data = {"message": text, "session_id": session_id or self.session_id, "customData": custom}
        return await self.client.call("user_uttered", data, timeout=10)

    async def wait_for(self, count, kind="received"):
        for _ in range(50):
            if len(getattr(self, kind)) >= count:
                break
            await asyncio.sleep(0.1)
        return getattr(self, kind)


def recorder():
    handled = []

    async def on_message(message):
        handled.append((message.sender_id, message.text, message.metadata))

    return handled, on_message


def test_a_message_over_the_limit_never_reaches_nlu_and_the_customer_is_told(served_channel):
    handled, on_message = recorder()
    owner, _ = secret(2)

    async def talk(url):
        async with Customer(url, {"session_secret": owner}) as customer:
            await customer.say("多" * (MAX_MESSAGE_CHARS + 1))
            await customer.say("x" * (MAX_MESSAGE_CHARS + 4000))
            await customer.say("多" * MAX_MESSAGE_CHARS)
            for _ in range(50):
                if len(customer.received) >= 2:
                    break
                await asyncio.sleep(0.1)
            return customer.received

    received = served_channel(on_message, talk)
    assert [text for _, text, _ in handled] == ["多" * MAX_MESSAGE_CHARS]
    notice = {"text": MESSAGE_TOO_LONG_TEXT, "sender": "system", "notice": "message_too_long"}
    assert received == [notice, notice]
    assert MAX_MESSAGE_CHARS == 500 and "最多500字" in MESSAGE_TOO_LONG_TEXT
    assert storefront.MAX_MESSAGE_CHARS == MAX_MESSAGE_CHARS  # the widget's own limit


def test_a_copy_of_an_accepted_message_is_acknowledged_but_not_handled_again(served_channel):
    handled, on_message = recorder()
    (first_secret, first), (second_secret, second) = secret(3), secret(4)

    async def talk(url):
        async with (
            Customer(url, {"session_secret": first_secret}) as customer,
            Customer(url, {"session_id": second, "session_secret": second_secret}) as other,
        ):
            acks = [
                await customer.say("还有货吗", "m-1"),
                await customer.say("还有货吗", "m-1"),  # resent after a dropped connection
                await customer.say("还有货吗", "m-2"),  # the customer asked again on purpose
                await other.say("还有货吗", "m-1"),  # ids are per conversation
                await customer.say("没有id的客户端"),  # other Rasa clients: no id, no dedupe
                await customer.say("没有id的客户端"),
            ]
            return acks

    acks = served_channel(on_message, talk)
    assert acks == [None, {"duplicate": True}, None, None, None, None]
    assert [(sender, text) for sender, text, _ in handled] == [
        (first, "还有货吗"),
        (first, "还有货吗"),
        (second, "还有货吗"),
        (first, "没有id的客户端"),
        (first, "没有id的客户端"),
    ]
    assert handled[0][2] == {CLIENT_MSG_ID_KEY: "m-1"}


def test_a_copy_sent_while_the_first_is_answered_waits_for_it(served_channel):
    handled = []
    release = None

    async def on_message(message):
        handled.append(message.text)
        await release.wait()  # Rasa still answering the first copy

    owner, _ = secret(5)

    async def talk(url):
        nonlocal release
        release = asyncio.Event()
        async with (
            Customer(url, {"session_secret": owner}) as customer,
            Customer(url, {"session_secret": owner}) as reconnected,
        ):
            first = asyncio.create_task(customer.say("慢慢回答", "m-slow"))
            for _ in range(50):
                if handled:
                    break
                await asyncio.sleep(0.05)
            copy = asyncio.create_task(reconnected.say("慢慢回答", "m-slow"))
            await asyncio.sleep(0.5)
            waiting = not copy.done() and not first.done()
            release.set()
            acks = await asyncio.wait_for(asyncio.gather(first, copy), 10)
            return waiting, acks

    assert served_channel(on_message, talk) == (True, [None, {"duplicate": True}])
    assert handled == ["慢慢回答"]


def test_recent_messages_forget_failures_old_ids_and_the_oldest_beyond_capacity():
    now = [1000.0]
    recent = RecentMessages(window_seconds=300, capacity=3, clock=lambda: now[0])
    handled = []

    async def handle(text, fail=False):
        handled.append(text)
        if fail:
            raise RuntimeError("Rasa failed")

    async def scenario():
        try:
            await recent.handle_once(("c", "1"), lambda: handle("one", fail=True))
        except RuntimeError:
            pass
        assert await recent.handle_once(("c", "1"), lambda: handle("one again"))
        assert not await recent.handle_once(("c", "1"), lambda: handle("dup"))
        now[0] += 301
        assert await recent.handle_once(("c", "1"), lambda: handle("after the window"))
        for number in range(2, 6):
            assert await recent.handle_once(("c", str(number)), lambda: handle("n"))
        assert len(recent) == 3
        assert await recent.handle_once(("c", "2"), lambda: handle("forgotten"))

    run(scenario())
    assert handled == ["one", "one again", "after the window", "n", "n", "n", "n", "forgotten"]


def test_client_message_ids_are_read_from_the_metadata_only_when_usable():
    assert client_message_id({"client_msg_id": "abc"}) == "abc"
    assert client_message_id('{"client_msg_id": "abc"}') == "abc"
    assert client_message_id({"client_msg_id": ""}) is None
    assert client_message_id({"client_msg_id": 7}) is None
    assert client_message_id({"client_msg_id": "x" * 65}) is None
    assert client_message_id("not json") is None
    assert client_message_id(None) is None


# ---- sessions bound to their owner, identity checked, bad input answered ----


def replying_recorder():
    """Records what reaches Rasa and answers each message into its own conversation's room."""
    handled = []

    async def on_message(message):
        handled.append((message.sender_id, message.text, message.metadata))
        await message.output_channel.send_text_message(message.sender_id, f"回复:{message.text}")

    return handled, on_message


def test_a_socket_cannot_join_or_write_into_another_visitors_conversation(served_channel):
    handled, on_message = replying_recorder()
    (victim_secret, victim), (thief_secret, _) = secret(6), secret(7)

    async def talk(url):
        async with Customer(url, {"session_secret": victim_secret}) as customer:
            async with (
                Customer(url) as thief,
                Customer(url, {"session_secret": thief_secret}) as other,
            ):
                refused = await thief.client.call(
                    "session_request", {"session_id": victim}, timeout=10
                )
                wrong = await thief.client.call(
                    "session_request",
                    {"session_id": victim, "session_secret": thief_secret},
                    timeout=10,
                )
                unbound = await thief.say("我是来偷看的", session_id=victim)
                crossed = await other.say("写进别人的对话", session_id=victim)
                await customer.say("我的快递到哪了")
                await customer.wait_for(1)
                await asyncio.sleep(0.3)
                return refused, wrong, unbound, crossed, customer, thief, other

    refused, wrong, unbound, crossed, customer, thief, other = served_channel(on_message, talk)
    assert customer.session_id == victim
    assert refused["error"] == wrong["error"] == "not_your_conversation"
    assert unbound["error"] == "no_session"
    assert crossed["error"] == "not_your_conversation"
    assert [(sender, text) for sender, text, _ in handled] == [(victim, "我的快递到哪了")]
    assert [m["text"] for m in customer.received] == ["回复:我的快递到哪了"]
    assert thief.received == [] and other.received == []
    assert {e["error"] for e in thief.errors} == {"not_your_conversation", "no_session"}


def test_a_signed_in_conversation_needs_a_fresh_unrevoked_signature_of_its_own(served_channel):
    handled, on_message = replying_recorder()
    mine, theirs = auth.chat_identity(2, KEY), auth.chat_identity(3, KEY)
    expired = auth.chat_identity(2, KEY, now=1_000_000)  # issued long ago

    def request(identity, session_id=None):
        return {
            "session_id": session_id or identity["session_id"],
            "customData": identity["custom_data"],
        }

    async def talk(url):
        async with Customer(url, request(mine), mine["custom_data"]) as customer:
            async with Customer(url) as thief:
                attempts = [
                    await thief.client.call("session_request", request(theirs, mine["session_id"])),
                    await thief.client.call("session_request", request(expired)),
                    await thief.client.call("session_request", {"session_id": mine["session_id"]}),
                ]
                first = await customer.say("查下我的订单", client_msg_id="m-1")
                unsigned = await customer.say("没有签名", customer_sig="")

                def sign_out():
                    with db.session_scope() as session:
                        signouts.sign_out(session, 2)

                await asyncio.to_thread(sign_out)
                after = await customer.say("退出以后还能发吗")
                again = await thief.client.call("session_request", request(mine))
                return attempts, first, unsigned, after, again

    attempts, first, unsigned, after, again = served_channel(on_message, talk)
    assert [a["error"] for a in attempts] == ["signed_out"] * 3
    assert first is None and unsigned["error"] == "signed_out"
    assert after["error"] == again["error"] == "signed_out"
    [(sender, text, metadata)] = handled
    assert (sender, text) == (mine["session_id"], "查下我的订单")
    # the tracker gets a proof of who sent it, never the chat signature itself
    assert set(metadata) == {"customer_id", "customer_proof", CLIENT_MSG_ID_KEY}
    assert mine["custom_data"]["customer_sig"] not in str(metadata)
    event = {"event": "user", "metadata": metadata}
    assert signed_in_customer([event], KEY, mine["session_id"]) == 2
    assert signed_in_customer([event], KEY, conversation_id_for(3, KEY)) is None


BAD_MESSAGES = [
    ("not an object", "bad_request"),
    (["a list"], "bad_request"),
    (42, "bad_request"),
    ({"message": {"text": "嵌套的对象"}}, "not_text"),
    ({"message": ["列表"]}, "not_text"),
    ({"message": "半个表情\ud83d"}, "lone_surrogate"),
    ({"message": "\udc00"}, "lone_surrogate"),
    ({"message": "   "}, "empty_message"),
    ({"message": None}, "missing_message"),
    ({}, "missing_message"),
    ({"message": "ok", "customData": ["not", "an", "object"]}, "bad_metadata"),
    ({"message": "ok", "customData": "{not json"}, "bad_metadata"),
    ({"message": "x" * (MAX_MESSAGE_CHARS + 1)}, "message_too_long"),
]


def test_malformed_events_are_answered_with_a_reason_never_dropped(served_channel):
    handled, on_message = replying_recorder()
    owner, _ = secret(8)

    async def talk(url):
        async with Customer(url, {"session_secret": owner}) as customer:
            acks = [
                await customer.client.call("user_uttered", data, timeout=10)
                for data, _ in BAD_MESSAGES
            ]
            unknown = await customer.client.call("no_such_event", {"x": 1}, timeout=10)
            bad_request = await customer.client.call("session_request", "c-1", timeout=10)
            bad_secret = await customer.client.call(
                "session_request", {"session_secret": "not hex"}, timeout=10
            )
            free_form = await customer.client.call(
                "session_request", {"session_id": "someone-elses-test"}, timeout=10
            )
            fine = await customer.say("这条没问题")
            await customer.wait_for(len(BAD_MESSAGES) + 4, "errors")
            return acks, unknown, bad_request, bad_secret, free_form, fine, customer.errors

    acks, unknown, bad_request, bad_secret, free_form, fine, errors = served_channel(
        on_message, talk
    )
    assert [ack["error"] for ack in acks] == [code for _, code in BAD_MESSAGES]
    assert all(ack["reason"] for ack in acks)
    assert unknown["error"] == "unknown_event"
    assert bad_request["error"] == "bad_request" and bad_secret["error"] == "bad_secret"
    assert free_form["error"] == "bad_sender"
    assert fine is None and [text for _, text, _ in handled] == ["这条没问题"]
    assert len(errors) >= len(BAD_MESSAGES) + 4  # clients without acknowledgements hear it too


def test_typed_commands_and_client_flags_never_reach_rasa_as_such(served_channel):
    handled, on_message = replying_recorder()
    owner, _ = secret(9)
    sent = [
        "/greet",
        '/choose_persona{"persona": "crazy"}',
        "/restart",
        "/EXTERNAL_shipping_notice",
        '/inform{"phone_tail": "1234", "order_id": "2024112300123"}',
        '/choose_persona{"persona": "<img src=x onerror=alert(1)>"}',
        '/choose_persona{"persona": {"id": "crazy"}}',
    ]

    async def talk(url):
        async with Customer(url, {"session_secret": owner}) as customer:
            for text in sent:
                await customer.say(text, is_external=True, sender="agent", customer_id=1)
            return None

    served_channel(on_message, talk)
    texts = [text for _, text, _ in handled]
    assert texts[:2] == sent[:2]  # what the widget and its quick replies send stays a command
    assert texts[2:] == ["\u2215" + text[1:] for text in sent[2:]]
    assert all(metadata == {} for _, _, metadata in handled)


# ---- message ids shared in Redis by several replicas (the local Redis; skipped without it) ----

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_reachable():
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(
    not _redis_reachable(), reason="no Redis server at 127.0.0.1:6379 (the local service)"
)


@pytest.fixture
def dedup_prefix():
    """A key prefix of this test's own, its keys deleted afterwards."""
    import redis

    prefix = f"test_dedup_{uuid.uuid4().hex[:12]}"
    yield prefix
    red = redis.Redis.from_url(REDIS_URL)
    for key in red.scan_iter(f"{prefix}:*"):
        red.delete(key)
    red.close()


def replicas(prefix, count=2, **options):
    """`count` replicas' memories of message ids, sharing one Redis."""
    return [
        SharedRecentMessages(REDIS_URL, key_prefix=prefix, poll_seconds=0.02, **options)
        for _ in range(count)
    ]


def noting(handled, text):
    """A message handler (coroutine function) that notes `text`."""

    async def handle():
        handled.append(text)

    return handle


async def close_all(memories):
    for memory in memories:
        await memory.aclose()


def test_without_a_redis_url_message_ids_stay_in_this_process(monkeypatch):
    monkeypatch.delenv("SOCKETIO_REDIS_URL", raising=False)
    assert isinstance(recent_messages(), RecentMessages)
    monkeypatch.setenv("SOCKETIO_REDIS_URL", REDIS_URL)
    shared = recent_messages()
    assert isinstance(shared, SharedRecentMessages) and shared.redis_url == REDIS_URL
    assert shared.key("a:b", "c") != shared.key("a", "b:c")


@needs_redis
def test_a_copy_reaching_another_replica_is_not_handled_again(dedup_prefix):
    handled = []

    async def handle(text, fail=False):
        handled.append(text)
        if fail:
            raise RuntimeError("Rasa failed")

    async def scenario():
        one, two = memories = replicas(dedup_prefix)
        try:
            assert await one.handle_once(("c", "m-1"), lambda: handle("first"))
            assert not await two.handle_once(("c", "m-1"), lambda: handle("copy elsewhere"))
            assert not await one.handle_once(("c", "m-1"), lambda: handle("copy here"))
            assert await two.handle_once(("other", "m-1"), lambda: handle("other conversation"))
            with pytest.raises(RuntimeError):
                await one.handle_once(("c", "m-2"), lambda: handle("failed", fail=True))
            assert await two.handle_once(("c", "m-2"), lambda: handle("after the failure"))
            return await one._redis().pttl(one.key("c", "m-1"))
        finally:
            await close_all(memories)

    remembered_ms = run(scenario())
    assert handled == ["first", "other conversation", "failed", "after the failure"]
    assert 290_000 < remembered_ms <= 300_000  # DUPLICATE_WINDOW_SECONDS


@needs_redis
def test_a_copy_waits_for_the_first_being_answered_on_another_replica(dedup_prefix):
    handled = []

    async def scenario():
        one, two = memories = replicas(dedup_prefix, pending_seconds=0.6)
        release = asyncio.Event()

        async def slow():
            handled.append("first")
            await release.wait()

        try:
            first = asyncio.create_task(one.handle_once(("c", "m-slow"), slow))
            await asyncio.sleep(0.1)
            copy = asyncio.create_task(two.handle_once(("c", "m-slow"), noting(handled, "copy")))
            await asyncio.sleep(1.0)  # longer than the claim's expiry: it is kept alive
            waiting = not copy.done()
            release.set()
            return waiting, await asyncio.gather(first, copy)
        finally:
            await close_all(memories)

    assert run(scenario()) == (True, [True, False])
    assert handled == ["first"]


@needs_redis
def test_a_replica_that_died_answering_blocks_its_copies_only_until_the_claim_expires(
    dedup_prefix,
):
    import redis

    survivor = SharedRecentMessages(REDIS_URL, key_prefix=dedup_prefix, poll_seconds=0.02)
    red = redis.Redis.from_url(REDIS_URL)
    red.set(survivor.key("c", "m-1"), b"pending:deadreplica", px=300)  # and no one keeps it
    handled = []

    async def scenario():
        try:
            began = asyncio.get_running_loop().time()
            ran = await survivor.handle_once(("c", "m-1"), noting(handled, "copy"))
            return ran, asyncio.get_running_loop().time() - began
        finally:
            await survivor.aclose()

    ran, waited = run(scenario())
    assert ran and handled == ["copy"] and 0.2 < waited < 2.0
    assert red.get(survivor.key("c", "m-1")) == b"done"
    red.close()


def test_without_redis_reachable_the_ids_are_remembered_in_this_process():
    from bot.processes import free_port

    nowhere = SharedRecentMessages(f"redis://127.0.0.1:{free_port()}/0")
    handled = []

    async def scenario():
        try:
            first = await nowhere.handle_once(("c", "m-1"), noting(handled, "first"))
            copy = await nowhere.handle_once(("c", "m-1"), noting(handled, "copy"))
            return first, copy
        finally:
            await nowhere.aclose()

    assert run(scenario()) == (True, False)
    assert handled == ["first"]


def serve_replicas(on_message, talk, count=2):
    """Serves `count` channels (replicas) on free ports; `talk(urls)` runs clients against them."""
    apps = []
    for _ in range(count):
        channel = ShopSocketIOInput.from_credentials(
            {"session_persistence": True, "metadata_key": "customData"}
        )
        app = Sanic(f"socketio_replica_{uuid.uuid4().hex[:8]}")
        app.blueprint(channel.blueprint(on_message))
        channel.sio.eio.ping_interval = channel.sio.eio.ping_timeout = 1
        apps.append(app)

    async def run_all():
        servers, urls = [], []
        for app in apps:
            port = free_port()
            http = await app.create_server(
                host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
            )
            await http.startup()
            await http.before_start()
            await http.after_start()
            servers.append(http)
            urls.append(f"http://127.0.0.1:{port}")
        try:
            return await talk(urls)
        finally:
            for http in servers:
                await http.before_stop()
                await http.close()
                await http.after_stop()

    return run_in_thread(run_all())


@needs_redis
def test_behind_a_load_balancer_a_resent_message_is_handled_once(served_channel, monkeypatch):
    import redis

    monkeypatch.setenv("SOCKETIO_REDIS_URL", REDIS_URL)
    handled, on_message = recorder()
    owner = secrets.token_hex(32)
    message_id = f"m-{uuid.uuid4().hex}"

    async def talk(urls):
        async with Customer(urls[0], {"session_secret": owner}) as customer:
            first = await customer.say("还有货吗", message_id)
        # the connection dropped; the widget reconnects, the balancer picks the other replica
        async with Customer(urls[1], {"session_secret": owner}) as reconnected:
            copy = await reconnected.say("还有货吗", message_id)
            again = await reconnected.say("还有货吗", f"{message_id}-2")
        return first, copy, again

    try:
        assert serve_replicas(on_message, talk) == (None, {"duplicate": True}, None)
        assert [text for _, text, _ in handled] == ["还有货吗", "还有货吗"]
    finally:
        red = redis.Redis.from_url(REDIS_URL)
        conversation = auth.anonymous_session_id(owner)
        for key in red.scan_iter(f"shop_assist_socketio:msg:*{conversation}*"):
            red.delete(key)
        red.close()
