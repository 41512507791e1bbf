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
mark them; a Rasa web chat client still shows their `text`. A bot text keeps the `persona` the
persona renderer spoke it in (in the bot message's metadata), so the widget's persona picker
follows a persona the customer chose by typing.

With several Rasa replicas behind a load balancer, `SOCKETIO_REDIS_URL` (e.g.
`redis://127.0.0.1:6379/2`) shares every emit through Redis: an agent's message appended through
one replica's HTTP API reaches the customer whose socket is connected to another.

Sessions are bound to their owner (`bot.web.inbound.claim`): `session_request` names the
conversation and proves it owns it, with the chat signature of a signed-in customer's conversation
(in `customData`) or the `session_secret` whose hash is an anonymous conversation's id (without
`session_id`, the secret alone names its conversation; without either, the socket gets a new
anonymous conversation of its own). A socket is confirmed (`session_confirm`) and joins the room
of that conversation only; its messages go to that conversation only, and a signed-in customer's
messages are checked again (expired or signed out: refused). Other session ids are refused.

Anything refused is answered, never dropped: the acknowledgement (when the client asked for one)
and a `chat_error` event carry `{"error": code, "reason": text}`. That covers a malformed event
(not an object), a message before `session_request`, a message that is missing, not a string,
empty, has a lone UTF-16 surrogate or is longer than `MAX_MESSAGE_CHARS` (the customer also gets
`MESSAGE_TOO_LONG_TEXT` as a `bot_uttered` notice), and events of unknown names. Text that starts
with "/" is a command only when the widget could have sent it (`bot.web.inbound.guarded_command`);
metadata keeps `client_msg_id` and the proven identity only.

A message whose metadata (`customData`) carries `client_msg_id` is handled once: a copy with the
same id in the same conversation within `DUPLICATE_WINDOW_SECONDS` (the widget resends after a
dropped connection or a missing acknowledgement) is acknowledged with `DUPLICATE_ACK` without
being handled again (the widget then reloads the history for replies it missed); while the first
copy is still being answered the copy waits for it, and if the first failed the copy is handled.
Clients that send no id are not deduplicated. Without `SOCKETIO_REDIS_URL` the ids are
remembered in this process (`RecentMessages`, bounded); with it every replica shares them in Redis
(`SharedRecentMessages`: `SET NX` with an expiry claims an id, so a copy that reaches another
replica behind the load balancer is not handled twice, and a replica that dies while answering
blocks its copies for `PENDING_SECONDS` at most). Socket owners stay per process: a socket lives
on one replica (the load balancer's sticky sessions keep its polling requests there).

Event names, `session_confirm` and the metadata key are Rasa's.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import secrets
import time
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional, Text, Tuple

from rasa.core.channels.channel import OutputChannel
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from redis.exceptions import RedisError
from socketio import AsyncRedisManager

from bot.web.auth import anonymous_session_id
from bot.web.inbound import (
    CLIENT_MSG_ID_KEY,
    GenerationOf,
    Refused,
    claim,
    client_message_id,
    client_metadata,
    conversation_id,
    generation_in_shop,
    guarded_command,
    message_text,
)
from bot.web.limits import MESSAGE_TOO_LONG_TEXT
from shop.signing import signing_key

__all__ = [
    "CLIENT_MSG_ID_KEY",
    "DUPLICATE_ACK",
    "ERROR_EVT",
    "MESSAGE_TOO_LONG_TEXT",
    "RecentMessages",
    "SharedRecentMessages",
    "ShopSocketIOInput",
    "ShopSocketIOOutput",
    "client_message_id",
    "recent_messages",
]

REDIS_URL_ENV = "SOCKETIO_REDIS_URL"
REDIS_CHANNEL = "shop_assist_socketio"
STAFF_SENDERS = ("agent", "system")
STAFF_KEYS = ("sender", "notice", "agent_name")
PERSONA_KEY = "persona"
MESSAGE_TOO_LONG_NOTICE = "message_too_long"
ERROR_EVT = "chat_error"
DUPLICATE_WINDOW_SECONDS = 300.0
MAX_REMEMBERED_MESSAGES = 20_000
DUPLICATE_ACK = {"duplicate": True}
DEDUP_KEY_PREFIX = f"{REDIS_CHANNEL}:msg"
PENDING_SECONDS = 30.0

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

    @staticmethod
    def _persona(metadata: Dict[Text, Any]) -> Dict[Text, Any]:
        persona = metadata.get(PERSONA_KEY)
        return {PERSONA_KEY: persona} if isinstance(persona, str) and persona else {}

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        """Sends a text (split at blank lines as Rasa does), each part with its persona."""
        for part in text.strip().split("\n\n"):
            await self._send_message(recipient_id, {"text": part, **self._persona(kwargs)})

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        """Sends a text with its buttons as Rasa's quick replies, the last part with its persona."""
        parts = text.strip().split("\n\n") or [text]
        messages: List[Dict[Text, Any]] = [{"text": part, "quick_replies": []} for part in parts]
        messages[-1]["quick_replies"] = [
            {"content_type": "text", "title": button["title"], "payload": button["payload"]}
            for button in buttons
        ]
        for message in messages:
            await self._send_message(recipient_id, {**message, **self._persona(kwargs)})

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


# KEYS[1] the id's key; ARGV: the claim's pending value, "1" if handled, the window (ms).
# Only the claim that set the key settles it: done for the window, or gone after a failure.
_SETTLE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '1' then
  redis.call('SET', KEYS[1], 'done', 'PX', ARGV[3])
else
  redis.call('DEL', KEYS[1])
end
return 1
"""

# KEYS[1] the id's key; ARGV: the claim's pending value, its new expiry (ms).
_KEEP_PENDING = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
"""

_DONE = b"done"


class SharedRecentMessages:
    """The client message ids accepted in the last few minutes, in Redis for every replica.

    An id's key is claimed with `SET NX PX` (value `pending:<token>`, `pending_seconds`, kept
    alive while the message is answered); once answered it becomes `done` for `window_seconds`,
    after a failure it is deleted so a copy is handled. A copy that finds `pending` waits for it.
    When Redis cannot be reached the ids are remembered in this process instead (logged).

    Args:
        redis_url: The Redis server, e.g. `redis://127.0.0.1:6379/2`.
        window_seconds: How long an answered id is remembered.
        pending_seconds: How long a claim outlives a replica that stopped answering.
        poll_seconds: How often a waiting copy looks again.
        key_prefix: Prefix of the ids' keys.
    """

    def __init__(
        self,
        redis_url: str,
        window_seconds: float = DUPLICATE_WINDOW_SECONDS,
        pending_seconds: float = PENDING_SECONDS,
        poll_seconds: float = 0.05,
        key_prefix: str = DEDUP_KEY_PREFIX,
    ) -> None:
        self.redis_url = redis_url
        self.window_seconds = window_seconds
        self.pending_seconds = pending_seconds
        self.poll_seconds = poll_seconds
        self.key_prefix = key_prefix
        self.fallback = RecentMessages(window_seconds)
        self._client: Any = None
        self._scripts: Dict[str, Any] = {}

    def _redis(self) -> Any:
        if self._client is None:  # built on first use, inside the loop that serves the channel
            from redis import asyncio as aioredis

            self._client = aioredis.from_url(self.redis_url)
            self._scripts = {
                "settle": self._client.register_script(_SETTLE),
                "keep": self._client.register_script(_KEEP_PENDING),
            }
        return self._client

    def key(self, conversation: str, client_id: str) -> str:
        """The Redis key of one conversation's message id (unambiguous for any two strings)."""
        return f"{self.key_prefix}:{len(conversation)}:{conversation}:{client_id}"

    async def aclose(self) -> None:
        """Closes the connection pool (the channel does this when the server stops)."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()
            await client.connection_pool.disconnect()

    async def _claim(self, name: str, pending: bytes) -> bool:
        red = self._redis()
        pending_ms = int(self.pending_seconds * 1000)
        while True:
            if await red.set(name, pending, nx=True, px=pending_ms):
                return True
            value = await red.get(name)
            if value == _DONE:
                return False
            if value is not None:  # the first copy is still being answered, maybe elsewhere
                await asyncio.sleep(self.poll_seconds)

    async def _keep_pending(self, name: str, pending: bytes) -> None:
        pending_ms = int(self.pending_seconds * 1000)
        while True:
            await asyncio.sleep(self.pending_seconds / 3)
            try:
                if not await self._scripts["keep"](keys=[name], args=[pending, pending_ms]):
                    return
            except RedisError as error:
                logger.warning("could not keep a message id claimed: %s", type(error).__name__)

    async def handle_once(self, key: Tuple[str, str], handle: Callable[[], Any]) -> bool:
        """Runs `handle` unless a message with this key was handled (or is being handled).

        Args:
            key: (conversation id, client message id).
            handle: Handles the message (a coroutine function).

        Returns:
            True if `handle` ran, False for a duplicate.
        """
        name = self.key(*key)
        pending = f"pending:{secrets.token_hex(8)}".encode()
        try:
            claimed = await self._claim(name, pending)
        except RedisError as error:
            logger.warning(
                "message ids in Redis unavailable (%s): remembered in this process",
                type(error).__name__,
            )
            return await self.fallback.handle_once(key, handle)
        if not claimed:
            return False
        keeping = asyncio.ensure_future(self._keep_pending(name, pending))
        succeeded = False
        try:
            await handle()
            succeeded = True
        finally:
            keeping.cancel()
            window_ms = int(self.window_seconds * 1000)
            flag = "1" if succeeded else "0"
            try:
                await self._scripts["settle"](keys=[name], args=[pending, flag, window_ms])
            except RedisError as error:
                logger.warning("could not settle a message id: %s", type(error).__name__)
        return True


def recent_messages() -> "RecentMessages | SharedRecentMessages":
    """The message ids' memory: shared in Redis with `SOCKETIO_REDIS_URL`, else this process."""
    redis_url = os.environ.get(REDIS_URL_ENV)
    return SharedRecentMessages(redis_url) if redis_url else RecentMessages()


class ShopSocketIOInput(SocketIOInput):
    """Rasa's socket.io input channel using `ShopSocketIOOutput` for every reply."""

    @classmethod
    def name(cls) -> Text:
        """The channel's name, as Rasa's own socket.io channel."""
        return "socketio"

    generation_of: GenerationOf = staticmethod(generation_in_shop)  # type: ignore[assignment]

    def _key(self) -> str:
        return signing_key()

    async def _session_for(self, data: Any) -> str:
        """The conversation a `session_request` proves it owns (a new anonymous one if none)."""
        data = {} if data is None else data
        if not isinstance(data, dict):
            raise Refused("bad_request", "session_request takes an object {session_id, ...}")
        secret = data.get("session_secret")
        wanted = data.get("session_id")
        if wanted is None or wanted == "":
            if secret is None:  # a client of Rasa's own kind: a conversation of this socket
                secret = secrets.token_hex(32)
            found = anonymous_session_id(secret)
            if found is None:
                raise Refused("bad_secret", "session_secret must be 64 lower-case hex digits")
            return found
        wanted = conversation_id(wanted)
        metadata = client_metadata(data.get(self.metadata_key))
        owner = await claim(
            wanted, metadata, self._key(), self.generation_of, secret=secret, free_form=False
        )
        return owner.conversation_id

    async def _accept(self, owner: Optional[str], data: Any) -> Dict[str, Any]:
        """The message Rasa gets from a `user_uttered` event, checked against the socket's owner."""
        if not isinstance(data, dict):
            raise Refused("bad_request", "user_uttered takes an object {message, session_id}")
        if owner is None:
            raise Refused("no_session", "send session_request before any message")
        named = data.get("session_id")
        if named not in (None, "") and named != owner:
            raise Refused("not_your_conversation", "this socket belongs to another conversation")
        text = message_text(data.get("message"))
        metadata = client_metadata(data.get(self.metadata_key))
        owned = await claim(owner, metadata, self._key(), self.generation_of, owned=True)
        return {
            "message": guarded_command(text),
            "session_id": owner,
            self.metadata_key: owned.metadata,
        }

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

        owners: Dict[str, str] = {}  # socket id -> the conversation it proved it owns
        namespace = self.namespace or "/"

        async def refuse(sid: Text, refused: Refused) -> Dict[str, str]:
            await sio.emit(ERROR_EVT, refused.as_dict(), room=sid, namespace=namespace)
            return refused.as_dict()

        async def session_request(sid: Text, data: Any = None) -> Optional[Dict[str, str]]:
            try:
                conversation = await self._session_for(data)
            except Refused as refused:
                logger.info("refused a session request: %s", refused.code)
                return await refuse(sid, refused)
            previous = owners.get(sid)
            if previous and previous != conversation:
                left = sio.leave_room(sid, previous, namespace=self.namespace)
                if inspect.isawaitable(left):
                    await left
            owners[sid] = conversation
            if self.session_persistence:
                joined = sio.enter_room(sid, conversation, namespace=self.namespace)
                if inspect.isawaitable(joined):
                    await joined
            await sio.emit("session_confirm", conversation, room=sid, namespace=namespace)
            return None

        sio.on("session_request", session_request, namespace=self.namespace)

        async def disconnect(sid: Text, *_: Any) -> None:
            owners.pop(sid, None)

        sio.on("disconnect", disconnect, namespace=self.namespace)

        async def unknown_event(event: Text, sid: Text, *_: Any) -> Dict[str, str]:
            return await refuse(sid, Refused("unknown_event", f"no such event: {event[:40]}"))

        sio.on("*", unknown_event, namespace=self.namespace)

        rasa_handle_message = sio.handlers[namespace][self.user_message_evt]
        recent = recent_messages()
        if isinstance(recent, SharedRecentMessages):

            async def close_recent(*_: Any) -> None:
                await recent.aclose()

            blueprint.after_server_stop(close_recent)

        async def handle_message(sid: Text, data: Any = None) -> Optional[Dict[Text, Any]]:
            try:
                accepted = await self._accept(owners.get(sid), data)
            except Refused as refused:
                logger.info("refused a socket.io message: %s", refused.code)
                if refused.code == "message_too_long" and owners.get(sid):
                    notice = {
                        "text": MESSAGE_TOO_LONG_TEXT,
                        "sender": "system",
                        "notice": MESSAGE_TOO_LONG_NOTICE,
                    }
                    output = ShopSocketIOOutput(sio, self.bot_message_evt)
                    await output.send_response(owners[sid], notice)
                return await refuse(sid, refused)
            client_id = accepted[self.metadata_key].get(CLIENT_MSG_ID_KEY)

            async def handle() -> None:
                await rasa_handle_message(sid, accepted)

            if client_id is None:
                await handle()
                return None
            if not await recent.handle_once((accepted["session_id"], client_id), handle):
                logger.debug("dropped a copy of message %s", client_id)
                return dict(DUPLICATE_ACK)
            return None

        sio.on(self.user_message_evt, handle_message, namespace=self.namespace)
        return blueprint
