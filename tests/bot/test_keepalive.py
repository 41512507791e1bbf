"""Keep-alive endpoints: calls reuse one connection where Rasa's endpoint opens one per call."""

import asyncio
import json

from aiohttp import web
from rasa.utils.endpoints import EndpointConfig

from bot import keepalive
from tests.bot.http_stub import serving


async def client_ports(endpoint: EndpointConfig, calls: int = 3) -> list:
    """The client-side port of each call, as the server saw it."""
    ports = []

    async def answer(request):
        ports.append(request.transport.get_extra_info("peername")[1])
        return web.json_response({"ok": True, "secret": request.headers.get("X-Secret")})

    async with serving("/webhook", answer) as url:
        endpoint.url = url
        for _ in range(calls):
            assert await endpoint.request(method="post", json={}) == {"ok": True, "secret": "s"}
    return ports


def test_calls_share_one_connection_where_rasa_opens_one_each():
    plain = asyncio.run(client_ports(EndpointConfig("http://x", headers={"X-Secret": "s"})))
    assert len(set(plain)) == 3  # Rasa's own endpoint: a new connection per call
    pooled = keepalive.KeepAliveEndpoint.of(EndpointConfig("http://x", headers={"X-Secret": "s"}))
    assert len(set(asyncio.run(client_ports(pooled)))) == 1


def test_the_action_server_receives_exactly_the_json_rasa_sends():
    sent = {
        "next_action": "action_check_stock",
        "tracker": {
            "events": [
                {"event": "user", "timestamp": 1796671435.9717839, "text": "还有货吗？/ 😀"},
                {"event": "slot", "name": "order_id", "value": None, "confidence": 0.1 + 0.2},
            ],
            "slots": {"quantity": 2, "persona": "master", "flag": True},
        },
    }
    received = []

    async def exchange():
        async def echo(request):
            received.append(await request.read())
            return web.json_response(await request.json())

        async with serving("/webhook", echo) as url:
            return await keepalive.KeepAliveEndpoint(url).request(method="post", json=sent)

    assert asyncio.run(exchange()) == sent
    assert json.loads(received[0]) == sent


def test_one_shared_copy_per_endpoint_and_none_stays_none():
    first = EndpointConfig("http://127.0.0.1:5055/webhook", headers={"X-Secret": "a"}, timeout=3)
    again = EndpointConfig("http://127.0.0.1:5055/webhook", headers={"X-Secret": "a"}, timeout=3)
    other = EndpointConfig("http://127.0.0.1:5055/webhook", headers={"X-Secret": "b"})
    shared = keepalive.shared(first)
    assert isinstance(shared, keepalive.KeepAliveEndpoint)
    assert keepalive.shared(again) is shared and keepalive.shared(shared) is shared
    assert keepalive.shared(other) is not shared
    assert shared.kwargs == {"timeout": 3} and shared.headers == {"X-Secret": "a"}
    assert keepalive.shared(None) is None
