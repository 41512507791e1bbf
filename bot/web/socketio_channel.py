"""Rasa's socket.io channel with two fixes for the python-socketio 5.x that Rasa 3.6 runs on.

- `session_request`: Rasa 3.6 calls `AsyncServer.enter_room` without awaiting it, which in
  python-socketio >= 5.10 is a coroutine, so with session persistence the socket never joins its
  session's room and replies reach nobody. The handler here awaits it.
- Custom payloads: `SocketIOOutput.send_custom_json` passes the custom dict as keyword arguments to
  `AsyncServer.emit`, so only `{"data": ...}` works there and a card like `{"card": "order", ...}`
  raises a TypeError. Here a custom payload is emitted as the `bot_uttered` message: `{"data": x}`
  still delivers `x` (what Rasa web chat clients expect), anything else is delivered as it is.

Agent messages and notices (`BotUttered` events appended by the agent console through Rasa's
tracker events API with `execute_side_effects`, metadata `sender` = `agent` | `system`) are emitted
as one `bot_uttered` message that keeps `sender`, `notice` and `agent_name`, so the widget can
mark them; a Rasa web chat client still shows their `text`.

With several Rasa replicas behind a load balancer, `SOCKETIO_REDIS_URL` (e.g.
`redis://127.0.0.1:6379/2`) shares every emit through Redis: an agent's message appended through
one replica's HTTP API reaches the customer whose socket is connected to another.

Everything else (event names, session_confirm, metadata key) is Rasa's channel unchanged.
"""

from __future__ import annotations

import inspect
import os
import uuid
from typing import Any, Dict, Optional, Text

from rasa.core.channels.channel import OutputChannel
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from socketio import AsyncRedisManager

REDIS_URL_ENV = "SOCKETIO_REDIS_URL"
REDIS_CHANNEL = "shop_assist_socketio"
STAFF_SENDERS = ("agent", "system")
STAFF_KEYS = ("sender", "notice", "agent_name")


class ShopSocketIOOutput(SocketIOOutput):
    """Socket.io output whose custom payloads arrive whole and whose agent messages are marked."""

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """Sends a reply; a message from the agent console keeps who sent it."""
        if message.get("sender") in STAFF_SENDERS and message.get("text"):
            payload = {"text": str(message["text"])}
            for key in STAFF_KEYS:
                if isinstance(message.get(key), str):
                    payload[key] = message[key]
            await self.sio.emit(self.bot_message_evt, payload, room=recipient_id)
            return
        await super().send_response(recipient_id, message)

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        """Sends a custom payload (e.g. a product, order or logistics card) to the widget."""
        payload = dict(json_message)
        room = payload.pop("room", None) or recipient_id
        if set(payload) == {"data"}:
            payload = payload["data"]
        await self.sio.emit(self.bot_message_evt, payload, room=room)


class ShopSocketIOInput(SocketIOInput):
    """Rasa's socket.io input channel using `ShopSocketIOOutput` for every reply."""

    @classmethod
    def name(cls) -> Text:
        """The channel's name, as Rasa's own socket.io channel."""
        return "socketio"

    def get_output_channel(self) -> Optional[OutputChannel]:
        """The output for messages Rasa sends on its own (external events, reminders)."""
        if self.sio is None:
            return super().get_output_channel()
        return ShopSocketIOOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Any) -> Any:
        """Rasa's socket.io blueprint, whose replies go through `ShopSocketIOOutput`."""

        async def with_shop_output(message: Any) -> Any:
            message.output_channel = ShopSocketIOOutput(
                message.output_channel.sio, self.bot_message_evt
            )
            return await on_new_message(message)

        blueprint = super().blueprint(with_shop_output)
        sio = self.sio
        assert sio is not None
        redis_url = os.environ.get(REDIS_URL_ENV)
        if redis_url:
            # before any client connects: the server initialises its manager on the first one
            sio.manager = AsyncRedisManager(redis_url, channel=REDIS_CHANNEL)
            sio.manager.set_server(sio)

        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            data = data if isinstance(data, dict) else {}
            if not data.get("session_id"):
                data["session_id"] = uuid.uuid4().hex
            if self.session_persistence:
                joined = sio.enter_room(sid, data["session_id"], namespace=self.namespace)
                if inspect.isawaitable(joined):
                    await joined
            await sio.emit("session_confirm", data["session_id"], room=sid)

        sio.on("session_request", session_request, namespace=self.namespace)
        return blueprint
