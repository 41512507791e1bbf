"""Rasa's event broker that pushes to the web app (bot/event_push.py), against a real server."""

import asyncio
import json

from aiohttp import web
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

from bot.event_push import WebAppPush
from bot.processes import free_port
from tests.bot.http_stub import serving

EVENTS = [
    {"sender_id": "c1", "event": "action", "name": "action_listen"},
    {"sender_id": "c1", "event": "user", "text": "我的手机号13812345678", "message_id": "m1"},
    {"sender_id": "c1", "event": "bot", "text": "好的"},
    {"sender_id": "c2", "event": "pause"},
    {"sender_id": "c2", "event": "resume"},
    {"sender_id": "c3", "event": "session_started"},
    {"event": "user", "text": "no sender"},
]


class Collected(EventBroker):
    """A broker keeping what it is handed."""

    def __init__(self):
        self.published = []

    def publish(self, event):
        self.published.append(event)


async def pushed_to_a_web_app(make_broker, events, status=204):
    received = []

    async def take(request):
        received.append((request.headers.get("X-Secret"), await request.json()))
        return web.Response(status=status)

    async with serving("/internal/events", take) as url:
        broker = await make_broker(url)
        for event in events:
            broker.publish(event)
        await broker.close()  # waits for the posts in flight
    return broker, received


def test_the_kind_and_conversation_of_waking_events_only_with_the_secret():
    async def make(url):
        return WebAppPush(url, {"X-Secret": "s"})

    _, received = asyncio.run(pushed_to_a_web_app(make, EVENTS))
    # posted concurrently: in any order
    assert sorted(received, key=lambda r: (r[1]["sender_id"], r[1]["event"])) == [
        ("s", {"sender_id": "c1", "event": "user"}),
        ("s", {"sender_id": "c2", "event": "pause"}),
        ("s", {"sender_id": "c2", "event": "resume"}),
        ("s", {"sender_id": "c3", "event": "session_started"}),
    ]
    assert "13812345678" not in json.dumps(received)


def test_built_from_the_endpoints_section_and_every_event_forwarded(tmp_path):
    async def make(url):
        config = EndpointConfig(
            url=url,
            headers={"X-Secret": "s"},
            type="bot.event_push.WebAppPush",
            timeout=2,
            forward_to={"type": "file", "path": str(tmp_path / "events.log")},
        )
        return await EventBroker.create(config)

    broker, received = asyncio.run(pushed_to_a_web_app(make, EVENTS))
    assert isinstance(broker, WebAppPush) and broker.timeout == 2.0
    assert len(received) == 4
    lines = (tmp_path / "events.log").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == EVENTS


def test_a_web_app_that_refuses_or_is_gone_costs_rasa_nothing():
    async def make(url):
        return WebAppPush(url, forward=forward)

    forward = Collected()
    _, received = asyncio.run(pushed_to_a_web_app(make, EVENTS, status=401))
    assert len(received) == 4 and forward.published == EVENTS

    async def gone():
        broker = WebAppPush(f"http://127.0.0.1:{free_port()}/internal/events", timeout=0.5)
        for event in EVENTS:
            broker.publish(event)
        await broker.close()
        return broker

    assert asyncio.run(gone()).is_ready()


def test_outside_a_running_loop_nothing_is_posted_and_nothing_breaks():
    forward = Collected()
    WebAppPush("http://127.0.0.1:9/internal/events", forward=forward).publish(EVENTS[1])
    assert forward.published == [EVENTS[1]]
