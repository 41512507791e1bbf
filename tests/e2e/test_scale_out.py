"""The scale-out configuration: PostgreSQL shop and tracker store, Redis locks, RabbitMQ events.

Runs the same processes with `endpoints.scale-out.yml` and `SHOP_DATABASE_URL` against the
services on this machine's standard ports; skipped, with the reason printed, when one is missing.
"""

import asyncio
import json
import socket
import uuid

import pytest

from bot.settings import ROOT
from bot.web.auth import anonymous_session_id
from tests.e2e.conftest import running_stack, stack_settings, texts
from tests.rabbitmq_queue import drain

pytestmark = pytest.mark.e2e

HOST = "127.0.0.1"


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


def _missing_services() -> list:
    wanted = {"PostgreSQL": 5432, "Redis": 6379, "RabbitMQ": 5672}
    return [name for name, port in wanted.items() if not _reachable(port)]


def _postgres(sql: str, database: str = "postgres") -> list:
    import psycopg2

    connection = psycopg2.connect(host=HOST, user="postgres", dbname=database)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


@pytest.fixture(scope="module")
def scaled(tmp_path_factory):
    missing = _missing_services()
    if missing:
        pytest.skip(f"scale-out services not reachable: {', '.join(missing)}")
    suffix = uuid.uuid4().hex[:8]
    shop_db, tracker_db = f"shop_e2e_{suffix}", f"tracker_e2e_{suffix}"
    _postgres(f"CREATE DATABASE {shop_db}")
    asyncio.run(drain("shop_assist_events"))
    env = {
        "SHOP_DEMO": "1",  # seed the demo shop (and its demo accounts) into PostgreSQL
        "SHOP_DATABASE_URL": f"postgresql+psycopg2://postgres@{HOST}/{shop_db}",
        "TRACKER_DB_HOST": HOST,
        "TRACKER_DB_NAME": tracker_db,
        "TRACKER_DB_USER": "postgres",
        "TRACKER_DB_PASSWORD": "",
        "REDIS_HOST": HOST,
        "RABBITMQ_HOST": HOST,
        "RABBITMQ_USER": "guest",
        "RABBITMQ_PASSWORD": "guest",
        "SOCKETIO_REDIS_URL": f"redis://{HOST}:6379/2",
    }
    var_dir = tmp_path_factory.mktemp("var-scaled")
    settings = stack_settings(var_dir, ROOT / "endpoints.scale-out.yml")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        try:
            with running_stack(settings) as running:
                yield running, shop_db, tracker_db
        finally:
            for database in (shop_db, tracker_db):
                _postgres(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def test_conversation_is_stored_in_postgres_and_published_to_rabbitmq(scaled):
    assistant, shop_db, tracker_db = scaled
    sender = f"scale-{uuid.uuid4().hex[:8]}"
    replies = assistant.say(sender, "这款油烟机还有货吗")
    assert any(reply.get("text") for reply in replies)

    rows = _postgres(
        f"SELECT count(*) FROM events WHERE sender_id = '{sender}' AND type_name = 'user'",
        tracker_db,
    )
    assert rows[0][0] == 1
    published = asyncio.run(drain("shop_assist_events"))
    user_events = [
        e for e in published if e.get("sender_id") == sender and e.get("event") == "user"
    ]
    assert [event["text"] for event in user_events] == ["这款油烟机还有货吗"]


def test_orders_are_answered_from_the_postgres_shop(scaled):
    assistant, shop_db, _ = scaled
    [(products,)] = _postgres("SELECT count(*) FROM products", shop_db)
    assert products >= 60
    [(order_id, tail)] = _postgres(
        "SELECT o.order_number, c.phone_tail FROM orders o JOIN customers c"
        " ON c.id = o.customer_id WHERE o.state = 'shipped' ORDER BY o.order_number LIMIT 1",
        shop_db,
    )
    sender = f"scale-{uuid.uuid4().hex[:8]}"
    assistant.say(sender, f"帮我查下订单 {order_id}")
    answers = texts(assistant.say(sender, tail))
    assert any(order_id in answer for answer in answers)


def test_the_agent_console_reads_the_postgres_tracker_store(scaled):
    from shop.db import make_engine, session_scope
    from shop.demo.seed import create_agent
    from tests.e2e.test_assist import Console

    assistant, shop_db, _ = scaled
    engine = make_engine(f"postgresql+psycopg2://postgres@{HOST}/{shop_db}")
    with session_scope(engine) as session:  # a shop's own staff account (no demo accounts here)
        create_agent(session, "pg-agent", "pg-agent-pass", "agent", "值班客服")
    engine.dispose()
    sender = f"scale-{uuid.uuid4().hex[:8]}"
    assistant.say(sender, "转人工")
    agent = Console(assistant.settings.web_url, "pg-agent", "pg-agent-pass")
    status, listing = agent.call("/agent/api/conversations")
    assert status == 200
    assert sender in [row["conversation_id"] for row in listing["queue"]]
    assert agent.call(f"/agent/api/conversations/{sender}/mode", {"mode": "assist"})[0] == 200
    assistant.say(sender, "这款油烟机还有货吗")
    status, found = agent.call(f"/agent/api/conversations/{sender}/suggestions?wait=10")
    assert status == 200 and len(found["suggestions"]) >= 3


def test_an_agent_message_through_one_replica_reaches_a_socket_on_another(scaled, tmp_path):
    """Two Rasa replicas share the tracker store, the lock store and socket.io emits (Redis)."""
    import dataclasses
    import urllib.request

    import socketio

    from bot import processes

    assistant, _, _ = scaled
    other = dataclasses.replace(assistant.settings, rasa_port=processes.free_port())
    [replica] = [p for p in processes.stack(other, tmp_path / "logs") if p.name == "rasa server"]
    processes.start_all([replica], timeout=300)
    secret = uuid.uuid4().hex + uuid.uuid4().hex
    conversation = anonymous_session_id(secret)
    text = "您好，我是人工客服，已经为您加急处理"

    async def listen_on_first_replica() -> list:
        received, confirmed = [], asyncio.Event()
        client = socketio.AsyncClient()
        client.on("session_confirm", lambda *_: confirmed.set())
        client.on("bot_uttered", lambda message: received.append(message))
        # long polling: the aiohttp Rasa pins lacks what the client's websocket transport needs
        await client.connect(assistant.settings.rasa_url, transports=["polling"])
        await client.emit("session_request", {"session_secret": secret})
        await asyncio.wait_for(confirmed.wait(), 10)
        url = (
            f"{other.rasa_url}/conversations/{conversation}/tracker/events?token="
            f"{other.rasa_token}&output_channel=socketio&execute_side_effects=true"
        )
        event = {"event": "bot", "text": text, "metadata": {"sender": "agent"}}
        request = urllib.request.Request(
            url, data=json.dumps([event]).encode(), headers={"Content-Type": "application/json"}
        )
        answer = await asyncio.to_thread(urllib.request.urlopen, request, timeout=30)
        assert answer.status == 200
        for _ in range(100):
            if received:
                break
            await asyncio.sleep(0.1)
        await client.disconnect()
        return received

    try:
        received = asyncio.run(listen_on_first_replica())
    finally:
        processes.stop_all([replica])
    assert [message.get("text") for message in received] == [text]
