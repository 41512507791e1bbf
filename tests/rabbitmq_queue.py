"""Reading a RabbitMQ queue on the local server to its end (tests of the event stream)."""

import json
from typing import Any, List

HOST = "127.0.0.1"


async def drain(queue_name: str, delete: bool = False) -> List[Any]:
    """Every message now in the queue, parsed as JSON, in order; the queue deleted if asked."""
    import aio_pika

    connection = await aio_pika.connect_robust(f"amqp://guest:guest@{HOST}/")
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, durable=True)
        bodies = []
        while True:
            message = await queue.get(no_ack=True, fail=False)
            if message is None:
                break
            bodies.append(json.loads(message.body))
        if delete:
            await queue.delete(if_unused=False, if_empty=False)
        return bodies
