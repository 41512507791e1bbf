import asyncio
from concurrent.futures import ThreadPoolExecutor

from bot.web.socketio_channel import ShopSocketIOInput, ShopSocketIOOutput


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
