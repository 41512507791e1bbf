"""Rasa's Pika broker on a thread of its own (bot/pika_thread.py), against the local RabbitMQ.

The server's loop is kept busy the way a Rasa server under load keeps it (CPU work between its
awaits) while events are handed over: they must reach the queue while it is still busy, in
order, and none may be left behind by `close`.
"""

import asyncio
import socket
import threading
import time
import uuid

import pytest
from rasa.utils.endpoints import EndpointConfig

from bot.pika_thread import PikaInThread
from tests.rabbitmq_queue import drain

HOST = "127.0.0.1"


def rabbitmq_reachable() -> bool:
    try:
        with socket.create_connection((HOST, 5672), timeout=1):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not rabbitmq_reachable(), reason="no RabbitMQ on 127.0.0.1")


def queued(queue_name):
    """Messages in the queue now, read on a loop of its own (the test's loop is busy)."""
    found = {}

    def count():
        async def depth():
            import aio_pika

            connection = await aio_pika.connect_robust(f"amqp://guest:guest@{HOST}/")
            async with connection:
                channel = await connection.channel()
                queue = await channel.declare_queue(queue_name, durable=True, passive=True)
                return queue.declaration_result.message_count

        found["n"] = asyncio.run(depth())

    reader = threading.Thread(target=count)
    reader.start()
    reader.join()
    return found["n"]


def config(queue_name, **more):
    return EndpointConfig.from_dict(
        {
            "type": "bot.pika_thread.PikaInThread",
            "url": HOST,
            "username": "guest",
            "password": "guest",
            "queues": [queue_name],
            "exchange_name": f"test-{queue_name}",
            **more,
        }
    )


def busy(milliseconds):
    """CPU work without a yield, like a message's NLU and policies on the server's loop."""
    end = time.perf_counter() + milliseconds / 1000
    while time.perf_counter() < end:
        pass


def test_events_reach_rabbitmq_in_order_while_the_server_loop_is_busy():
    queue_name = f"test_pika_thread_{uuid.uuid4().hex[:8]}"

    async def scenario():
        broker = await PikaInThread.from_endpoint_config(config(queue_name))
        assert broker.is_ready()
        for n in range(600):
            broker.publish({"event": "user", "sender_id": "alice", "n": n})
            if n % 12 == 11:  # a message's dozen events, then its work
                busy(15)
                await asyncio.sleep(0)
        waited = time.monotonic()
        while queued(queue_name) < 600 and time.monotonic() - waited < 10:
            busy(15)  # the server's loop stays busy while we wait
            await asyncio.sleep(0)
        arrived_while_busy = queued(queue_name)
        await broker.close()
        assert not broker.thread.is_alive()
        return arrived_while_busy

    arrived_while_busy = asyncio.run(scenario())
    bodies = asyncio.run(drain(queue_name, delete=True))
    assert arrived_while_busy == 600
    assert [body["n"] for body in bodies] == list(range(600))


def test_close_publishes_what_is_still_queued():
    queue_name = f"test_pika_thread_{uuid.uuid4().hex[:8]}"

    async def scenario():
        broker = await PikaInThread.from_endpoint_config(config(queue_name))
        for n in range(300):
            broker.publish({"event": "bot", "sender_id": "bob", "n": n})
        await broker.close()
        broker.publish({"event": "bot", "sender_id": "bob", "n": "after close"})  # a warning

    asyncio.run(scenario())
    assert [body["n"] for body in asyncio.run(drain(queue_name, delete=True))] == list(range(300))


def test_an_unreachable_rabbitmq_fails_the_start_and_leaves_no_thread():
    before = {thread.name for thread in threading.enumerate()}

    async def scenario():
        with socket.socket() as taken:  # a port nobody answers on
            taken.bind((HOST, 0))
            port = taken.getsockname()[1]
        await PikaInThread.from_endpoint_config(
            config("unused", port=port, connection_attempts=1, retry_delay_in_seconds=0.1)
        )

    with pytest.raises(ConnectionError):
        asyncio.run(scenario())
    time.sleep(0.2)
    assert "pika-publisher" not in {t.name for t in threading.enumerate()} - before
