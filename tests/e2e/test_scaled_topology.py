"""The scaled topology on loopback: two Rasa replicas behind HAProxy, as `make run-scaled` runs it.

PostgreSQL shop and tracker store, Redis lock store and socket.io emits, RabbitMQ event broker,
the web app and the action server, every process started by `bot.scaled.topology`. Skipped,
with the reason, when a service or HAProxy is missing (`make test` installs HAProxy).
"""

import json
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter

import pytest

from bot.processes import free_port
from bot.scaled import balancer, services, topology
from bot.settings import ROOT
from tests.e2e.conftest import stack_settings

pytestmark = pytest.mark.e2e

HOST = "127.0.0.1"
SCRIPT = ["你好", "包邮吗", "这款油烟机还有货吗", "是正品吗"]
ANSWER_SECONDS = 150  # a replica waits for a lock a killed replica held (Rasa's 60 s ticket)


def _postgres(sql: str, database: str = "postgres", args: tuple = ()) -> list:
    import psycopg2

    connection = psycopg2.connect(host=HOST, user="postgres", dbname=database)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, args)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


@pytest.fixture(scope="module")
def scaled(tmp_path_factory):
    suffix = uuid.uuid4().hex[:8]
    shop_db, tracker_db = f"shop_scaled_{suffix}", f"tracker_scaled_{suffix}"
    env = {
        "RASA_REPLICAS": "2",
        "SHOP_DEMO": "1",  # the demo shop's data in a database of the test's own
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
    shared = services.from_env(env)
    absent = services.missing(shared)
    if absent:
        pytest.skip(f"scale-out services not reachable: {', '.join(absent)}")
    if balancer.binary() is None:
        pytest.skip("haproxy is not installed (make balancer installs it)")
    var_dir = tmp_path_factory.mktemp("var-scaled-topology")
    settings = stack_settings(var_dir, ROOT / "endpoints.scale-out.yml")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        try:
            ports = [free_port(), free_port()]
            with topology.running(settings, shared, var_dir / "logs", ports) as running:
                yield running
        finally:
            for database in (shop_db, tracker_db):
                _postgres(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def say(url: str, sender: str, text: str, message_id: str) -> tuple:
    """Posts one REST message through the balancer: (the replica that answered, the replies).

    A 502 or 503 (no replica was free to take it, or the replica killed under it dropped it
    unanswered) is sent again with the same `client_msg_id`, as a client would; the tracker
    checks still prove every message was handled exactly once (a message the killed replica had
    already answered and stored is answered from the record, `bot.resent_messages`).
    """
    body = {"sender": sender, "message": text, "metadata": {"client_msg_id": message_id}}
    request = urllib.request.Request(
        f"{url}/webhooks/rest/webhook",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    deadline = time.monotonic() + ANSWER_SECONDS
    while True:
        try:
            with urllib.request.urlopen(request, timeout=ANSWER_SECONDS) as answer:
                return answer.headers[balancer.REPLICA_HEADER], json.loads(answer.read())
        except urllib.error.HTTPError as refused:
            from_balancer = refused.code in (502, 503)
            if not from_balancer or time.monotonic() > deadline:
                raise
            time.sleep(1)


class Conversations:
    """REST conversations in threads, each message after the previous answer."""

    def __init__(self, url: str, count: int, script=SCRIPT):
        self.url = url
        self.senders = [f"scaled-{uuid.uuid4().hex[:10]}" for _ in range(count)]
        self.script = script
        self.answers = {sender: [] for sender in self.senders}  # (replica, replies, moment)
        self.errors = []
        self.first_round = threading.Barrier(count + 1)
        self.threads = [
            threading.Thread(target=self._converse, args=(sender,), daemon=True)
            for sender in self.senders
        ]

    def _converse(self, sender: str) -> None:
        for number, text in enumerate(self.script):
            try:
                replica, replies = say(self.url, sender, text, f"{sender}-{number}")
                self.answers[sender].append((replica, replies, time.monotonic()))
            except Exception as failure:  # noqa: BLE001 - reported by the test
                self.errors.append(f"{sender} {text}: {failure!r}")
            if number == 0:
                self.first_round.wait(timeout=ANSWER_SECONDS)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=ANSWER_SECONDS * len(self.script))

    def check_every_message_answered_to_its_sender(self) -> Counter:
        """Asserts one answer with text per message, every reply to its sender; replica counts."""
        assert self.errors == []
        replicas = Counter()
        for sender, answers in self.answers.items():
            assert len(answers) == len(self.script)
            for replica, replies, _ in answers:
                assert any(reply.get("text") for reply in replies)
                assert {reply["recipient_id"] for reply in replies} == {sender}
                replicas[replica] += 1
        return replicas

    def check_tracker_store_holds_exactly_what_was_sent(self, tracker_db: str) -> None:
        """Each conversation's user messages once each, in order (a `rewind` takes one back)."""
        for sender in self.senders:
            rows = _postgres(
                "SELECT type_name, data FROM events WHERE sender_id = %s"
                " AND type_name IN ('user', 'rewind') ORDER BY id",
                tracker_db,
                (sender,),
            )
            said = []
            for name, data in rows:
                if name == "rewind":
                    said.pop()
                else:
                    said.append(json.loads(data)["text"])
            assert said == self.script


def socket_conversation(url: str, texts: list, transports: list) -> tuple:
    """A widget's conversation over socket.io: the texts' replies, the transport at the end."""
    import socketio

    client = socketio.Client(reconnection=False)
    confirmed, replies = threading.Event(), []
    session = {}

    def on_confirm(conversation):
        session["id"] = conversation
        confirmed.set()

    client.on("session_confirm", on_confirm)
    client.on("bot_uttered", replies.append)
    client.connect(url, transports=transports, wait_timeout=20)
    try:
        client.emit("session_request", {"session_secret": secrets.token_hex(32)})
        assert confirmed.wait(20), "no session_confirm"
        answered = []
        for text in texts:
            del replies[:]
            body = {
                "message": text,
                "session_id": session["id"],
                "customData": {"client_msg_id": uuid.uuid4().hex},
            }
            client.call("user_uttered", body, timeout=ANSWER_SECONDS)
            deadline = time.monotonic() + 5
            while not replies and time.monotonic() < deadline:
                time.sleep(0.05)
            answered.append([reply.get("text", "") for reply in replies])
        return answered, client.transport(), session["id"]
    finally:
        client.eio.disconnect(abort=True)  # a polling client's polite close waits ~30 s


def test_rest_conversations_reach_both_replicas_and_every_reply_its_own_sender(scaled):
    tracker_db = scaled.services.tracker_database
    conversations = Conversations(scaled.public_url, 6)
    conversations.start()
    conversations.first_round.wait(timeout=ANSWER_SECONDS)
    conversations.join()
    replicas = conversations.check_every_message_answered_to_its_sender()
    assert set(replicas) == {"rasa-1", "rasa-2"}, replicas
    conversations.check_tracker_store_holds_exactly_what_was_sent(tracker_db)


def test_socketio_conversations_poll_then_upgrade_through_the_balancer(scaled):
    """Two widgets at once (one long polling only): each gets its own answers."""
    results = {}

    def converse(name, texts, transports):
        results[name] = socket_conversation(scaled.public_url, texts, transports)

    threads = [
        threading.Thread(target=converse, args=("upgraded", ["包邮吗"], ["polling", "websocket"])),
        threading.Thread(target=converse, args=("polling", ["你好"], ["polling"])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=ANSWER_SECONDS * 2)
    [shipping], transport, _ = results["upgraded"]
    assert transport == "websocket"
    assert shipping and any("包邮" in text for text in shipping)
    [greeting], transport, _ = results["polling"]
    assert transport == "polling"
    assert greeting and not any("包邮" in text for text in greeting)


def test_a_killed_replica_leaves_the_conversations_to_the_other(scaled):
    tracker_db = scaled.services.tracker_database
    first, second = scaled.rasa
    # long enough that the conversations go on for seconds after the kill (a message takes
    # a few tens of milliseconds)
    conversations = Conversations(scaled.public_url, 6, script=SCRIPT * 5)
    conversations.start()
    conversations.first_round.wait(timeout=ANSWER_SECONDS)
    time.sleep(0.3)  # the second messages are on their way
    first.popen.kill()  # SIGKILL: no goodbye, mid-conversation
    first.popen.wait(timeout=10)
    killed_at = time.monotonic()
    conversations.join()
    conversations.check_every_message_answered_to_its_sender()
    late = [
        replica
        for answers in conversations.answers.values()
        for replica, _, moment in answers
        if moment > killed_at + 1
    ]
    assert late and set(late) == {"rasa-2"}
    conversations.check_tracker_store_holds_exactly_what_was_sent(tracker_db)
    states = {}
    for _ in range(50):
        states = scaled.server_states()
        if states.get("rasa-1") == "DOWN":
            break
        time.sleep(0.2)
    assert states == {"rasa-1": "DOWN", "rasa-2": "UP"}
    [answer], transport, _ = socket_conversation(
        scaled.public_url, ["包邮吗"], ["polling", "websocket"]
    )
    assert transport == "websocket" and any("包邮" in text for text in answer)
    assert second.alive()
