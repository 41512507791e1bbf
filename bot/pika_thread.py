"""Rasa's RabbitMQ publisher on an event loop of its own, so it keeps up with a busy server.

Rasa 3.6's `PikaEventBroker` publishes each event in a task on the server's event loop, and
aiormq lets one publish at a time through a channel: each takes a few turns of the loop (hand
the frame to the writer, wait for it to be written, release the channel). On a Rasa server
handling messages, one turn of the loop can be a whole message's work (tens of milliseconds),
so under load the publisher fell ever further behind: 35 of 1,054 events published after 11 s,
the rest only when the load stopped, and a replica killed under load took thousands of
unpublished events with it (bench/README.md, soak).

`PikaInThread` runs Rasa's own `PikaEventBroker`, same settings, same messages, on an event loop
in a thread of its own whose turns are short. `publish` only hands the event to that loop; the
events are published in the order they were handed over. `close` waits up to `CLOSE_SECONDS` for
what is still queued, then closes the connection and ends the thread.

`endpoints.scale-out.yml` (as `forward_to` of `bot.event_push.WebAppPush`):

    type: bot.pika_thread.PikaInThread
    url: …, username: …, password: …, queues: [...]   # as for Rasa's `type: pika`
"""

from __future__ import annotations

import asyncio
import logging
import threading
from asyncio import AbstractEventLoop
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Dict, Optional

import rasa.shared.core.events  # noqa: F401  Rasa's pika module uses it without importing it
from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.pika import PikaEventBroker
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

CLOSE_SECONDS = 5.0


class PikaInThread(EventBroker):
    """Rasa's Pika broker, publishing from an event loop in a thread of its own."""

    def __init__(self, broker: PikaEventBroker, loop: AbstractEventLoop, thread: threading.Thread):
        """Use `from_endpoint_config`; this takes a broker already connected on `loop`."""
        self.broker = broker
        self.loop = loop
        self.thread = thread

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: EndpointConfig, event_loop: Optional[AbstractEventLoop] = None
    ) -> "PikaInThread":
        """Starts the thread and connects Rasa's Pika broker on its loop.

        Raises:
            Whatever Rasa's broker raises when RabbitMQ cannot be reached.
        """
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="pika-publisher", daemon=True)
        thread.start()
        connecting = asyncio.run_coroutine_threadsafe(
            PikaEventBroker.from_endpoint_config(broker_config, event_loop=loop), loop
        )
        try:
            broker = await asyncio.wrap_future(connecting)
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=CLOSE_SECONDS)
            raise
        return cls(broker, loop, thread)

    def publish(self, event: Dict[str, Any]) -> None:
        """Hands the event to the publisher's loop (in order; never waits)."""
        if self.loop.is_closed():
            logger.warning("the RabbitMQ publisher is closed: an event was not published")
            return
        self.loop.call_soon_threadsafe(self.broker.publish, event)

    def is_ready(self) -> bool:
        """Ready while the connection to RabbitMQ is open."""
        return self.thread.is_alive() and self.broker.is_ready()

    async def close(self) -> None:
        """Publishes what is still queued (for `CLOSE_SECONDS` at most), then stops the thread."""
        if not self.thread.is_alive():
            return
        closing = asyncio.run_coroutine_threadsafe(self._drain_and_close(), self.loop)
        try:
            await asyncio.wait_for(asyncio.wrap_future(closing), CLOSE_SECONDS + 1.0)
        except (asyncio.TimeoutError, FutureTimeout):
            logger.warning("the RabbitMQ publisher did not close in time")
        self.loop.call_soon_threadsafe(self.loop.stop)
        await asyncio.get_running_loop().run_in_executor(None, self.thread.join, CLOSE_SECONDS)
        if not self.thread.is_alive():
            self.loop.close()

    async def _drain_and_close(self) -> None:
        await asyncio.sleep(0)  # events handed over before `close` become tasks first
        pending = set(self.broker._background_tasks)
        if pending:
            await asyncio.wait(pending, timeout=CLOSE_SECONDS)
        await self.broker.close()
