"""Soak: many messages through the scaled topology, one Rasa replica killed and restarted halfway.

`python bench/soak.py` starts the scaled topology on loopback as `make run-scaled` does
(`bot.scaled.topology`: 2 Rasa replicas behind HAProxy, the web app, the action server; the
shop and the tracker store in PostgreSQL databases of its own, dropped afterwards; Redis locks
and socket.io emits; RabbitMQ events), supervised by the runner's own supervisor (restart with
back-off). Then:

1. `--conversations` REST conversations (200) share `--messages` messages (10,000), each
   conversation sending its next message when the previous one is answered, at most
   `--in-flight` (20) messages at once, through the balancer. Customers ask about seeded
   products (stock, free shipping, dispatch, authenticity, material, delivery), so most
   messages run a database action and persona rendering. Every message carries its own
   `client_msg_id` in the metadata, which the tracker store keeps.
2. When half of the messages are answered, replica rasa-1 gets SIGKILL (`--signal TERM` for a
   graceful stop); the supervisor restarts it and the balancer takes it back once it answers.
   A message that fails is sent again (at most 8 times, waiting 1, 2, 4, 8 … s); the balancer
   itself already sends a request that a dying replica dropped unanswered to the other one. A
   copy of a message the killed replica had stored is answered from the record
   (`bot/resent_messages.py`), not handled twice.
3. Checked, each a failure if not met: every message answered (HTTP 200 with at least one
   reply), every reply addressed to its own sender (`recipient_id`), and the tracker store
   (PostgreSQL) holding exactly the user events sent: each conversation's `client_msg_id`s once
   each, in order (0 lost, 0 duplicated), read as Rasa reads a tracker: a `rewind` event takes
   back the user message before it (the two-stage fallback logs a message again after its
   question). Reported too: the same for the events the event broker (RabbitMQ) carried; the
   soak's replicas publish to an exchange and queue of their own (`endpoints.scale-out.yml`
   with only those two names changed), deleted at the end.

Printed: the counts; the answer time (p50/p95/max from sending a message through the balancer
to its answer, with `--in-flight` messages on their way) and the customer's wait (from the
conversation's turn: the wait for an in-flight slot and any resends included; with 200
conversations and 20 slots this is about ten answer times); messages a second; how many each
replica answered; when the killed replica was restarted and back in the balancer.

    flock /tmp/load.lock .venv/bin/python bench/soak.py                      # ~25 minutes
    flock /tmp/load.lock .venv/bin/python bench/soak.py --messages 1000 --conversations 40

Needs the local PostgreSQL, Redis and RabbitMQ and Debian's HAProxy (`make balancer`).
Other engineers' load on the same cores distorts the timings: run it under `flock /tmp/load.lock`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import processes  # noqa: E402
from bot.scaled import balancer, services, topology  # noqa: E402

MESSAGES = (
    "{product}还有货吗",
    "{product}包邮吗",
    "今天拍{product}什么时候发货",
    "{product}是正品吗",
    "{product}是什么材质的",
    "买{product}寄到成都要几天",
    "你好",
    "{product}运费多少",
    "谢谢",
)
MAX_ATTEMPTS = 8
MAX_BACK_OFF = 8.0
ANSWER_SECONDS = 180.0  # a replica may wait for a lock the killed one held (Rasa's 60 s ticket)
SHARED_QUEUE = "shop_assist_events"  # endpoints.scale-out.yml
KILLED = "rasa-1"
HOST = "127.0.0.1"


@dataclass
class Message:
    """One customer message and what became of it."""

    sender: str
    number: int
    text: str
    seconds: float = 0.0
    service_seconds: float = 0.0
    attempts: int = 0
    replica: str = ""
    answered: bool = False
    wrong_recipients: int = 0
    failures: List[Tuple[float, str]] = field(default_factory=list)
    ended: float = 0.0


@dataclass
class Kill:
    """The replica killed halfway: when, and when it was back."""

    at: float = 0.0
    answered_before: int = 0
    restarted_after: Optional[float] = None
    back_after: Optional[float] = None


def scripts(products: List[str], conversations: int, messages: int) -> List[List[str]]:
    """The conversations' messages: `messages` in all, spread as evenly as possible."""
    each, extra = divmod(messages, conversations)
    return [
        [
            MESSAGES[(n * 5 + m) % len(MESSAGES)].format(
                product=products[(n * 7 + m // 3) % len(products)]
            )
            for m in range(each + (1 if n < extra else 0))
        ]
        for n in range(conversations)
    ]


def seeded_products(shop_url: str) -> List[str]:
    """The seeded products' names (the soak's customers ask about them)."""
    from sqlalchemy import select

    from shop.db import make_engine, session_scope
    from shop.db.models import Product

    engine = make_engine(shop_url)
    try:
        with session_scope(engine) as session:
            return list(session.execute(select(Product.name).order_by(Product.id)).scalars())
    finally:
        engine.dispose()


async def send(http, url: str, message: Message, in_flight: asyncio.Semaphore) -> None:
    """Sends one message until it is answered (at most MAX_ATTEMPTS times)."""
    import aiohttp

    body = {
        "sender": message.sender,
        "message": message.text,
        "metadata": {"client_msg_id": str(message.number)},
    }
    started = time.perf_counter()
    while message.attempts < MAX_ATTEMPTS and not message.answered:
        message.attempts += 1
        status, replies, replica, failure = 0, None, "", ""
        async with in_flight:
            sent = time.perf_counter()
            try:
                async with http.post(url, json=body) as answer:
                    status = answer.status
                    replica = answer.headers.get(balancer.REPLICA_HEADER, "")
                    replies = await answer.json(content_type=None)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                failure = type(error).__name__
        if not failure and status != 200:
            failure = f"HTTP {status}"
        elif not failure and (not isinstance(replies, list) or not replies):
            failure = "no reply"
        if failure:
            message.failures.append((time.perf_counter(), failure))
            await asyncio.sleep(min(2.0 ** (message.attempts - 1), MAX_BACK_OFF))
            continue
        message.answered = True
        message.replica = replica
        message.service_seconds = time.perf_counter() - sent
        message.wrong_recipients = sum(
            1 for reply in replies if reply.get("recipient_id") != message.sender
        )
    message.ended = time.perf_counter()
    message.seconds = message.ended - started


async def drive(
    url: str,
    conversations: List[List[Message]],
    in_flight: int,
    on_answered,
) -> float:
    """Runs every conversation to its end; the seconds it took."""
    import aiohttp

    limit = asyncio.Semaphore(in_flight)
    timeout = aiohttp.ClientTimeout(total=ANSWER_SECONDS)
    connector = aiohttp.TCPConnector(limit=in_flight * 2)

    async def converse(messages: List[Message]) -> None:
        for message in messages:
            await send(http, url, message, limit)
            on_answered()

    started = time.perf_counter()
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        await asyncio.gather(*(converse(messages) for messages in conversations))
    return time.perf_counter() - started


def user_message_ids(events) -> List[str]:
    """The `client_msg_id`s of a conversation's user messages, as Rasa reads its events.

    Args:
        events: (event name, metadata) in the order stored; `rewind` takes back the last user
            message (Rasa's `UserUtteranceReverted`), every other event but `user` is ignored.
    """
    ids: List[str] = []
    for name, metadata in events:
        if name == "user":
            ids.append(str((metadata or {}).get("client_msg_id")))
        elif name == "rewind" and ids:
            ids.pop()
    return ids


def tracker_ids(shared: services.ScaledServices, senders: List[str]) -> Dict[str, List[str]]:
    """Each conversation's user messages in the tracker store, as `client_msg_id`s in order."""
    import psycopg2

    connection = psycopg2.connect(
        host=shared.tracker_host,
        user=shared.tracker_user,
        password=shared.tracker_password or None,
        dbname=shared.tracker_database,
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT sender_id, type_name, data FROM events"
                " WHERE type_name IN ('user', 'rewind') AND sender_id = ANY(%s) ORDER BY id",
                (senders,),
            )
            events: Dict[str, list] = {sender: [] for sender in senders}
            for sender, name, data in cursor.fetchall():
                events[sender].append((name, json.loads(data).get("metadata")))
    finally:
        connection.close()
    return {sender: user_message_ids(found) for sender, found in events.items()}


def soak_endpoints(folder: Path, suffix: str) -> Tuple[Path, str, str]:
    """`endpoints.scale-out.yml` with the event broker's exchange and queue the soak's own.

    Returns:
        The file, the exchange's name and the queue's name.
    """
    import yaml

    config = yaml.safe_load(topology.SCALE_OUT_ENDPOINTS.read_text(encoding="utf-8"))
    broker = config["event_broker"].get("forward_to") or config["event_broker"]  # RabbitMQ's
    if broker.get("queues") != [SHARED_QUEUE]:
        raise ValueError(f"endpoints.scale-out.yml no longer publishes to {SHARED_QUEUE}")
    exchange, queue = f"soak-{suffix}", f"soak_{suffix}_events"
    broker["queues"] = [queue]
    broker["exchange_name"] = exchange
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "endpoints.soak.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path, exchange, queue


async def broker_ids(
    shared: services.ScaledServices, senders: set, exchange: str, queue_name: str
) -> Dict[str, List[str]]:
    """Reads the soak's event queue to the end.

    Returns:
        Each conversation's user messages the broker carried, as `client_msg_id`s in order.
    """
    import aio_pika

    events: Dict[str, list] = {}
    connection = await aio_pika.connect_robust(
        host=shared.rabbitmq_host,
        login=shared.rabbitmq_user,
        password=shared.rabbitmq_password,
    )
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, durable=True)
        while True:
            message = await queue.get(no_ack=True, fail=False)
            if message is None:
                break
            event = json.loads(message.body)
            if event.get("sender_id") in senders:
                events.setdefault(event["sender_id"], []).append(
                    (event.get("event"), event.get("metadata"))
                )
    return {sender: user_message_ids(found) for sender, found in events.items()}


async def remove_queue(shared: services.ScaledServices, exchange: str, queue_name: str) -> None:
    """Deletes the soak's event queue and exchange (nothing is left in RabbitMQ)."""
    import aio_pika

    connection = await aio_pika.connect_robust(
        host=shared.rabbitmq_host,
        login=shared.rabbitmq_user,
        password=shared.rabbitmq_password,
    )
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(queue_name)
        await channel.exchange_delete(exchange)


def compare(expected: Dict[str, List[str]], found: Dict[str, List[str]]) -> Dict[str, int]:
    """Lost, duplicated and out-of-order user events, over every conversation."""
    lost = duplicated = disordered = 0
    for sender, wanted in expected.items():
        got = found.get(sender, [])
        want, have = Counter(wanted), Counter(got)
        lost += sum((want - have).values())
        duplicated += sum((have - want).values())
        if not (want - have) and not (have - want) and got != wanted:
            disordered += 1
    return {
        "stored": sum(len(v) for v in found.values()),
        "lost": lost,
        "duplicated": duplicated,
        "out_of_order": disordered,
    }


def percentile(values: List[float], share: float) -> float:
    """The `share` quantile (0–1) of the values (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def warm_up(topology_: topology.Topology, products: List[str]) -> None:
    """A few messages straight to each replica first (first-use costs; not counted)."""
    import urllib.request

    for replica in topology_.replicas:
        sender = f"soak-warmup-{uuid.uuid4().hex[:8]}"
        for text in (MESSAGES[0].format(product=products[0]), "你好", MESSAGES[1]):
            request = urllib.request.Request(
                f"{replica.url}/webhooks/rest/webhook",
                data=json.dumps({"sender": sender, "message": text}).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=ANSWER_SECONDS) as answer:
                answer.read()


def watch_restart(topology_: topology.Topology, kill: Kill, killed) -> None:
    """Notes when the killed replica runs again and when the balancer sends to it again."""
    old_pid = killed.popen.pid
    seen_down = False
    while kill.back_after is None:
        now = time.perf_counter()
        if kill.restarted_after is None and killed.popen.pid != old_pid and killed.alive():
            kill.restarted_after = now - kill.at
        try:
            state = topology_.server_states().get(KILLED)
        except OSError:
            state = None
        seen_down = seen_down or state not in ("UP", None)
        if kill.restarted_after is not None and seen_down and state == "UP":
            kill.back_after = now - kill.at
            return
        time.sleep(0.25)


def main(argv: Optional[List[str]] = None) -> int:
    """Runs the soak; 0 when every check holds."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--in-flight", type=int, default=20, help="messages sent at once at most")
    parser.add_argument("--signal", choices=("KILL", "TERM"), default="KILL")
    parser.add_argument("--no-kill", action="store_true", help="leave both replicas running")
    parser.add_argument("--keep", action="store_true", help="keep the databases and logs")
    args = parser.parse_args(argv)
    if args.conversations < 1 or args.messages < args.conversations:
        parser.error("need at least one conversation and one message per conversation")

    work = Path(tempfile.mkdtemp(prefix="soak-"))
    print(
        f"soak: {args.messages} messages, {args.conversations} conversations, "
        f"{args.in_flight} in flight, 2 Rasa replicas behind HAProxy (logs in {work / 'logs'})",
        flush=True,
    )
    started = time.perf_counter()
    try:
        with scaled_on_loopback(work, 2, "soak", keep=args.keep) as (running, shared, broker):
            print(f"  started in {time.perf_counter() - started:.0f} s", flush=True)
            return 0 if soak(running, shared, args, broker) else 1
    except Unavailable as missing:
        print(f"soak: {missing}", file=sys.stderr)
        return 2


class Unavailable(RuntimeError):
    """A service the scaled topology needs is not reachable or not installed."""


@contextlib.contextmanager
def scaled_on_loopback(
    work: Path, replicas: int, name: str, keep: bool = False
) -> Iterator[Tuple[topology.Topology, services.ScaledServices, Tuple[str, str]]]:
    """The scaled topology on loopback with a shop, a tracker store and a broker queue of its own.

    The databases (`shop_<name>_<suffix>`, `tracker_<name>_<suffix>`) are dropped afterwards
    unless `keep`; the exchange and queue are always deleted.

    Args:
        work: The folder for the endpoints file, the var dir and the logs.
        replicas: How many Rasa replicas behind HAProxy.
        name: The databases' name part (`soak`, `load`).
        keep: Keep the databases.

    Yields:
        The running topology, its services, and the (exchange, queue) its replicas publish to.

    Raises:
        Unavailable: when PostgreSQL, Redis, RabbitMQ or HAProxy is missing.
    """
    suffix = uuid.uuid4().hex[:8]
    shop_db, tracker_db = f"shop_{name}_{suffix}", f"tracker_{name}_{suffix}"
    os.environ.update(
        {
            "RASA_REPLICAS": str(replicas),
            "SHOP_DEMO": "1",
            "SHOP_DATABASE_URL": f"postgresql+psycopg2://postgres@{HOST}/{shop_db}",
            "TRACKER_DB_NAME": tracker_db,
        }
    )
    shared = services.from_env()
    absent = services.missing(shared)
    if absent:
        raise Unavailable("not reachable: " + ", ".join(absent))
    if balancer.binary() is None:
        raise Unavailable("haproxy is not installed (make balancer)")
    endpoints, exchange, queue = soak_endpoints(work, suffix)
    settings = processes.throwaway_settings(work / "var", endpoints)
    ports = [processes.free_port() for _ in range(replicas)]
    try:
        with topology.running(settings, shared, work / "logs", ports) as running:
            yield running, shared, (exchange, queue)
    finally:
        asyncio.run(remove_queue(shared, exchange, queue))
        if not keep:
            drop_databases(shared, (shop_db, tracker_db))


def drop_databases(shared: services.ScaledServices, names) -> None:
    """Drops the soak's own databases."""
    from sqlalchemy import create_engine, text

    engine = create_engine(
        shared.tracker_server_url("postgres"), future=True, isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def soak(
    running: topology.Topology, shared: services.ScaledServices, args, broker: Tuple[str, str]
) -> bool:
    """Drives the load, kills and watches a replica, checks and prints; True when all holds.

    Args:
        running: The started topology.
        shared: Its services.
        args: The command line.
        broker: The soak's own exchange and queue.
    """
    import threading

    products = seeded_products(shared.shop_database_url)
    warm_up(running, products)
    conversations = [
        [Message(sender, number, text) for number, text in enumerate(script)]
        for sender, script in (
            (f"soak-{uuid.uuid4().hex[:12]}", script)
            for script in scripts(products, args.conversations, args.messages)
        )
    ]
    messages = [message for conversation in conversations for message in conversation]
    killed = next(p for p in running.rasa if p.name.endswith(KILLED))
    kill = Kill()
    answered = [0]
    watcher: List[threading.Thread] = []

    def on_answered() -> None:
        answered[0] += 1
        if args.no_kill or kill.at or answered[0] < len(messages) // 2:
            return
        kill.at = time.perf_counter()
        kill.answered_before = answered[0]
        os.killpg(killed.popen.pid, getattr(signal, f"SIG{args.signal}"))
        thread = threading.Thread(target=watch_restart, args=(running, kill, killed), daemon=True)
        thread.start()
        watcher.append(thread)

    url = f"{running.public_url}/webhooks/rest/webhook"
    with topology.supervised(running.processes):
        seconds = asyncio.run(drive(url, conversations, args.in_flight, on_answered))
        for thread in watcher:
            thread.join(timeout=600)

    senders = [conversation[0].sender for conversation in conversations]
    expected = {c[0].sender: [str(m.number) for m in c] for c in conversations}
    stored = compare(expected, tracker_ids(shared, senders))
    try:
        in_broker = asyncio.run(broker_ids(shared, set(senders), *broker))
        carried = compare(expected, in_broker)
        carried["lost_by_replica"] = dict(
            Counter(m.replica for m in messages if str(m.number) not in in_broker.get(m.sender, []))
        )
    except Exception as failure:  # noqa: BLE001 - the broker figure is a report, not a check
        carried = {"error": repr(failure)}

    latencies = [m.seconds for m in messages if m.answered]
    service = [m.service_seconds for m in messages if m.answered]
    unanswered = [m for m in messages if not m.answered]
    wrong = sum(m.wrong_recipients for m in messages)
    retried = sum(1 for m in messages if m.attempts > 1)
    failures = Counter(name for m in messages for _, name in m.failures)
    near_kill = sum(
        1 for m in messages for moment, _ in m.failures if kill.at and 0 <= moment - kill.at <= 30
    )
    by_replica = Counter(m.replica for m in messages if m.answered)
    after_back = (
        Counter(
            m.replica
            for m in messages
            if m.answered and kill.back_after and m.ended > kill.at + kill.back_after
        )
        if kill.at
        else Counter()
    )
    print(f"  answered            {len(latencies)} / {len(messages)}")
    print(f"  replies to another sender: {wrong}")
    print(
        f"  tracker store       {stored['stored']} user events for {len(messages)} sent: "
        f"lost {stored['lost']}, duplicated {stored['duplicated']}, "
        f"conversations out of order {stored['out_of_order']}"
    )
    if "error" in carried:
        print(f"  event broker        not read: {carried['error']}")
    else:
        print(
            f"  event broker        {carried['stored']} user events: lost {carried['lost']}, "
            f"duplicated {carried['duplicated']}; the lost ones were answered by "
            f"{carried['lost_by_replica'] or 'none'}"
        )
    print(
        f"  sent again          {retried} messages ({dict(failures) or 'no failure seen'}; "
        f"{near_kill} of the failures within 30 s after the kill)"
    )
    if latencies:
        print(
            f"  answer time         p50 {percentile(service, 0.5):.2f} s, "
            f"p95 {percentile(service, 0.95):.2f} s, max {max(service):.2f} s "
            f"(from sending through the balancer, {args.in_flight} in flight)"
        )
        print(
            f"  customer's wait     p50 {percentile(latencies, 0.5):.2f} s, "
            f"p95 {percentile(latencies, 0.95):.2f} s, max {max(latencies):.2f} s, "
            f"mean {statistics.mean(latencies):.2f} s (from the conversation's turn: waiting "
            f"for an in-flight slot and resends included)"
        )
    print(f"  throughput          {len(latencies) / seconds:.1f} messages/s over {seconds:.0f} s")
    print(f"  answered by         {dict(sorted(by_replica.items()))}")
    if kill.at:
        restarted = f"{kill.restarted_after:.1f} s" if kill.restarted_after else "never"
        back = f"{kill.back_after:.1f} s" if kill.back_after else "never"
        print(
            f"  {KILLED} killed (SIG{args.signal}) after {kill.answered_before} answered; "
            f"restarted after {restarted}, back in the balancer after {back}; "
            f"answered after that: {dict(sorted(after_back.items()))}"
        )
    checks = {
        "every message answered": not unanswered,
        "every reply to its own sender": wrong == 0,
        "tracker store holds exactly the user events sent": stored["lost"] == 0
        and stored["duplicated"] == 0
        and stored["out_of_order"] == 0,
        "killed replica back in the balancer": args.no_kill or bool(kill.back_after),
    }
    for name, held in checks.items():
        print(f"  {'ok  ' if held else 'FAIL'} {name}")
    return all(checks.values())


if __name__ == "__main__":
    sys.exit(main())
