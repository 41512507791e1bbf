"""The Rasa server's event broker that tells the web app a conversation has a new event.

The agent console waits for a customer's message in a conversation an agent holds (the
suggestions long-poll, `bot.agent.assist.wait_for_message`). Without a push it could only read
Rasa's tracker store again and again; with it, the web app (`bot.agent.wakeups`) wakes the
waiters of a conversation the moment Rasa stores one of its events, and they read the store once.
A lost push (web app restarting, too many in flight) costs at most `wakeups.FALLBACK_SECONDS`.

`endpoints.yml`:

    event_broker:
      type: bot.event_push.WebAppPush
      url: ${WEB_EVENTS_URL}                 # the web app's POST /internal/events
      headers: {X-Shop-Endpoint-Secret: ${SHOP_ENDPOINT_SECRET}}
      timeout: 1                             # seconds a post may take
      forward_to: {type: pika, url: …}       # optional: every event also goes to this broker

Only the kinds a waiting console cares about are posted (`KINDS`), each as `{"sender_id",
"event"}`, in a task of its own so Rasa never waits on the web app; at most `MAX_IN_FLIGHT`
posts are pending (more are dropped: the console falls back to reading the store).
"""

from __future__ import annotations

import asyncio
import logging
from asyncio import AbstractEventLoop
from typing import Any, Dict, Optional, Set

import aiohttp
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

KINDS = ("user", "pause", "resume", "session_started")
MAX_IN_FLIGHT = 256
DEFAULT_TIMEOUT = 1.0


class WebAppPush(EventBroker):
    """Posts the kind of each stored event that may wake a console to the web app."""

    def __init__(
        self,
        url: str,
        headers: Optional[Dict[str, str]] = None,
        timeout: float = DEFAULT_TIMEOUT,
        forward: Optional[EventBroker] = None,
    ) -> None:
        """A broker posting to `url` with `headers`, handing every event on to `forward`."""
        self.url = url
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.forward = forward
        self._session: Optional[aiohttp.ClientSession] = None
        self._in_flight: Set["asyncio.Task[None]"] = set()

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: EndpointConfig, event_loop: Optional[AbstractEventLoop] = None
    ) -> Optional[EventBroker]:
        """The broker of the `event_broker` section (see the module doc).

        Without a `url` only the `forward_to` broker is used (or none).
        """
        forward_config = broker_config.kwargs.get("forward_to")
        forward = None
        if forward_config:
            forward = await EventBroker.create(EndpointConfig.from_dict(forward_config), event_loop)
        if not broker_config.url:
            return forward
        timeout = float(broker_config.kwargs.get("timeout") or DEFAULT_TIMEOUT)
        return cls(broker_config.url, broker_config.headers, timeout, forward)

    def publish(self, event: Dict[str, Any]) -> None:
        """Hands the event on, and posts its kind to the web app when a console may wait for it."""
        if self.forward is not None:
            self.forward.publish(event)
        kind, sender = event.get("event"), event.get("sender_id")
        if kind not in KINDS or not isinstance(sender, str):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # stored outside the server's loop (a script): nobody waits
            return
        if len(self._in_flight) >= MAX_IN_FLIGHT:
            logger.warning("the web app does not take pushes fast enough: one dropped")
            return
        task = loop.create_task(self._post({"sender_id": sender, "event": kind}))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _post(self, body: Dict[str, str]) -> None:
        try:
            if self._session is None or self._session.closed:
                self._session = aiohttp.ClientSession(
                    headers=self.headers, timeout=aiohttp.ClientTimeout(total=self.timeout)
                )
            async with self._session.post(self.url, json=body) as answer:
                if answer.status >= 300:
                    logger.warning("the web app refused a push (HTTP %d)", answer.status)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as failure:
            logger.debug("push to the web app failed: %r", failure)

    def is_ready(self) -> bool:
        """Ready when the broker it forwards to is (posting needs no connection up front)."""
        return self.forward.is_ready() if self.forward is not None else True

    async def close(self) -> None:
        """Waits briefly for pending posts, closes the session and the forward broker."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=self.timeout)
        if self._session is not None:
            await self._session.close()
        if self.forward is not None:
            await self.forward.close()
