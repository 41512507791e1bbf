import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sanic import Sanic

from bot.processes import free_port
from bot.web import storefront
from bot.web.limits import MAX_MESSAGE_CHARS
from bot.web.socketio_channel import (
    CLIENT_MSG_ID_KEY,
    MESSAGE_TOO_LONG_TEXT,
    RecentMessages,
    ShopSocketIOInput,
    ShopSocketIOOutput,
    client_message_id,
)


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

    async def connect_and_request():
        sid = await sio.manager.connect("engine-1", "/")
        await handler(sid, {"session_id": "a-" + "1" * 32})
        return sid

    sid = run(connect_and_request())
    rooms = sio.manager.get_rooms(sid, "/")
    assert "a-" + "1" * 32 in rooms
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


# ---- the channel served for real, a socket.io client talking to it ----


@pytest.fixture
def served_channel(monkeypatch):
    """Serves the channel on a free port; `talk(url)` runs a client against it."""
    monkeypatch.setattr(Sanic, "test_mode", True)  # lets every test build its own app
    return serve


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
    """A socket.io client in one conversation, as the widget speaks to the channel."""

    def __init__(self, url, session_id):
        import socketio

        self.url, self.session_id = url, session_id
        self.client = socketio.AsyncClient()
        self.received = []
        self.client.on("bot_uttered", self.received.append)

    async def __aenter__(self):
        confirmed = asyncio.Event()
        self.client.on("session_confirm", lambda *_: confirmed.set())
        # long polling: the aiohttp Rasa pins lacks what the client's websocket transport needs
        await self.client.connect(self.url, transports=["polling"])
        await self.client.emit("session_request", {"session_id": self.session_id})
        await asyncio.wait_for(confirmed.wait(), 10)
        return self

    async def __aexit__(self, *_):
        await self.client.disconnect()

    async def say(self, text, client_msg_id=None):
        """Sends a message and waits for the channel's acknowledgement."""
        custom = {"customer_id": 1}
        if client_msg_id is not None:
            custom[CLIENT_MSG_ID_KEY] = client_msg_id
        data = {"message": text, "session_id": self.session_id, "customData": custom}
        return await self.client.call("user_uttered", data, timeout=10)


def recorder():
    handled = []

    async def on_message(message):
        handled.append((message.sender_id, message.text, message.metadata))

    return handled, on_message


def test_a_message_over_the_limit_never_reaches_nlu_and_the_customer_is_told(served_channel):
    handled, on_message = recorder()
    session = "a-" + "2" * 32

    async def talk(url):
        async with Customer(url, session) as customer:
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
    first, second = "a-" + "3" * 32, "a-" + "4" * 32

    async def talk(url):
        async with Customer(url, first) as customer, Customer(url, second) as other:
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
    assert handled[0][2] == {"customer_id": 1, CLIENT_MSG_ID_KEY: "m-1"}


def test_a_copy_sent_while_the_first_is_answered_waits_for_it(served_channel):
    handled = []
    release = None

    async def on_message(message):
        handled.append(message.text)
        await release.wait()  # Rasa still answering the first copy

    session = "a-" + "5" * 32

    async def talk(url):
        nonlocal release
        release = asyncio.Event()
        async with Customer(url, session) as customer, Customer(url, session) as reconnected:
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
