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

A customer message (`user_uttered`) longer than `MAX_MESSAGE_CHARS` (the widget's own limit) never
reaches NLU: the customer gets `MESSAGE_TOO_LONG_TEXT` as a `bot_uttered` notice instead. A message
whose metadata (`customData`) carries `client_msg_id` is handled once: a copy with the same id in
the same conversation within `DUPLICATE_WINDOW_SECONDS` (the widget resends after a dropped
connection or a missing acknowledgement) is acknowledged with `DUPLICATE_ACK` without being handled
again (the widget then reloads the history for replies it missed); while the first copy is still
being answered the copy waits for it, and if the first failed the copy is handled. Clients that send no id are not deduplicated. The ids are remembered in this process only
(bounded), so behind a load balancer a copy that reaches another replica is handled again.

Everything else (event names, session_confirm, metadata key) is Rasa's channel unchanged.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import time
import uuid
from collections import OrderedDict
from typing import Any, Callable, Dict, Optional, Text, Tuple

from rasa.core.channels.channel import OutputChannel
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from socketio import AsyncRedisManager

from bot.web.limits import MAX_MESSAGE_CHARS, MESSAGE_TOO_LONG_TEXT

REDIS_URL_ENV = "SOCKETIO_REDIS_URL"
REDIS_CHANNEL = "shop_assist_socketio"
STAFF_SENDERS = ("agent", "system")
STAFF_KEYS = ("sender", "notice", "agent_name")
MESSAGE_TOO_LONG_NOTICE = "message_too_long"
CLIENT_MSG_ID_KEY = "client_msg_id"
MAX_CLIENT_MSG_ID_CHARS = 64
DUPLICATE_WINDOW_SECONDS = 300.0
MAX_REMEMBERED_MESSAGES = 20_000
DUPLICATE_ACK = {"duplicate": True}

logger = logging.getLogger(__name__)


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


class _Accepted:
    """A customer message accepted once: when, and how handling it ended."""

    __slots__ = ("at", "done", "succeeded")

    def __init__(self, at: float) -> None:
        self.at = at
        self.done = asyncio.Event()
        self.succeeded = False


class RecentMessages:
    """The client message ids accepted in the last few minutes, per conversation (bounded).

    Args:
        window_seconds: How long an accepted id is remembered.
        capacity: The most ids remembered; the oldest are forgotten first.
        clock: Monotonic seconds (a parameter for tests).
    """

    def __init__(
        self,
        window_seconds: float = DUPLICATE_WINDOW_SECONDS,
        capacity: int = MAX_REMEMBERED_MESSAGES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window_seconds = window_seconds
        self.capacity = capacity
        self.clock = clock
        self._accepted: "OrderedDict[Tuple[str, str], _Accepted]" = OrderedDict()

    def __len__(self) -> int:
        return len(self._accepted)

    def _forget_old(self) -> None:
        oldest_kept = self.clock() - self.window_seconds
        while self._accepted:
            first = next(iter(self._accepted.values()))
            if first.at >= oldest_kept and len(self._accepted) <= self.capacity:
                break
            self._accepted.popitem(last=False)

    async def handle_once(self, key: Tuple[str, str], handle: Callable[[], Any]) -> bool:
        """Runs `handle` unless a message with this key was handled (or is being handled).

        Args:
            key: (conversation id, client message id).
            handle: Handles the message (a coroutine function).

        Returns:
            True if `handle` ran, False for a duplicate.
        """
        while True:
            self._forget_old()
            first = self._accepted.get(key)
            if first is None:
                break
            await first.done.wait()  # the first copy is still being answered
            if first.succeeded:
                return False
        entry = _Accepted(self.clock())
        self._accepted[key] = entry
        self._forget_old()
        try:
            await handle()
            entry.succeeded = True
        finally:
            if not entry.succeeded and self._accepted.get(key) is entry:
                del self._accepted[key]  # failed: a copy sent again is handled
            entry.done.set()
        return True


def client_message_id(metadata: Any) -> Optional[str]:
    """The widget's id of a customer message (`customData.client_msg_id`), if it has a usable one."""
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            return None
    if not isinstance(metadata, dict):
        return None
    found = metadata.get(CLIENT_MSG_ID_KEY)
    if isinstance(found, str) and 0 < len(found) <= MAX_CLIENT_MSG_ID_CHARS:
        return found
    return None


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

        rasa_handle_message = sio.handlers[self.namespace or "/"][self.user_message_evt]
        recent = RecentMessages()

        async def handle_message(sid: Text, data: Any) -> Optional[Dict[Text, bool]]:
            if not isinstance(data, dict):
                return await rasa_handle_message(sid, data)
            sender_id = data.get("session_id") if self.session_persistence else sid
            if not sender_id:
                return await rasa_handle_message(sid, data)  # Rasa warns and ignores it
            text = data.get("message")
            if isinstance(text, str) and len(text) > MAX_MESSAGE_CHARS:
                logger.info("refused a socket.io message of %d characters", len(text))
                notice = {
                    "text": MESSAGE_TOO_LONG_TEXT,
                    "sender": "system",
                    "notice": MESSAGE_TOO_LONG_NOTICE,
                }
                output = ShopSocketIOOutput(sio, self.bot_message_evt)
                await output.send_response(sender_id, notice)
                return None
            client_id = client_message_id(data.get(self.metadata_key))
            if client_id is None:
                return await rasa_handle_message(sid, data)

            async def handle() -> None:
                await rasa_handle_message(sid, data)

            if not await recent.handle_once((str(sender_id), client_id), handle):
                logger.debug("dropped a copy of message %s in %s", client_id, sender_id)
                return dict(DUPLICATE_ACK)
            return None

        sio.on(self.user_message_evt, handle_message, namespace=self.namespace)
        return blueprint
