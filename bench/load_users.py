"""Locust customers for `bench/load.py`: conversations over REST and over socket.io.

Run by `bench/load.py`, one process per measured run (Locust patches the standard library with
gevent on import, so it stays out of the process that starts and watches the servers):

    .venv/bin/python bench/load_users.py PLAN.json RESULT.json

The plan names the Rasa server (`url`), the channel (`rest` or `socketio`), one script of
customer messages per conversation (`scripts`; as many Locust users as scripts, all started at
once) and the seconds a message may take (`timeout`). Each user holds one conversation: it sends
its script's messages one after the other, each as soon as the previous one was answered, and
stops. A message is answered when

- REST (`POST /webhooks/rest/webhook`, Locust's `FastHttpUser`, keep-alive): the answer is 200
  with at least one bot message;
- socket.io (python-socketio's client, websocket transport, as Locust's own `SocketIOUser`):
  `session_request` is confirmed once, then each `user_uttered` is sent with an acknowledgement
  asked for and, as the widget sends it, a `client_msg_id` of its own; Rasa acknowledges after it handled the message, and at least one `bot_uttered` must
  have arrived by then (or within `REPLY_GRACE_SECONDS` after).

Anything else is an error: another status, no reply, a refusal, a time-out. The result file has
every message's latency (ms) and error, and the seconds from the first message sent to the last
one answered.
"""

from __future__ import annotations

import itertools
import json
import logging
import secrets
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional

import gevent
from gevent.event import AsyncResult
from locust import User, task
from locust.contrib.fasthttp import FastHttpUser
from locust.env import Environment
from locust.exception import StopUser

# isort: split
import socketio  # after Locust has patched the standard library for gevent (it imports ssl)

REPLY_GRACE_SECONDS = 1.0
MESSAGE = "message"
SPAWN_RATE = 100.0  # users a second: every conversation starts within a fraction of a second

PLAN: Dict[str, Any] = {}
_scripts = itertools.count()


def _next_script() -> List[str]:
    return PLAN["scripts"][next(_scripts)]


def _sender() -> str:
    return f"load-{uuid.uuid4().hex[:12]}"


class RestCustomer(FastHttpUser):
    """A customer writing to Rasa's REST channel."""

    host = "http://127.0.0.1"  # replaced by the plan's URL

    @task
    def converse(self) -> None:
        """One conversation: every message of a script, each after the previous answer."""
        sender = _sender()
        for index, text in enumerate(_next_script()):
            with self.client.post(
                "/webhooks/rest/webhook",
                json={"sender": sender, "message": text},
                name=MESSAGE,
                catch_response=True,
                context={"index": index},
            ) as answer:
                if answer.status_code != 200:
                    answer.failure(f"HTTP {answer.status_code}")
                    continue
                try:
                    replies = answer.json()
                except ValueError:
                    answer.failure("answer is not JSON")
                    continue
                if not isinstance(replies, list) or not replies:
                    answer.failure(f"no reply to {text[:30]!r}")
        raise StopUser()


class SocketIOCustomer(User):
    """A customer in the widget's place: socket.io with a session of its own."""

    host = "http://127.0.0.1"

    def _fire(self, index: int, started: float, replies: int, error: Optional[str]) -> None:
        self.environment.events.request.fire(
            request_type="SIO",
            name=MESSAGE,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=replies,
            exception=RuntimeError(error) if error else None,
            context={"index": index},
        )

    @task
    def converse(self) -> None:
        """One conversation over one socket, as the shop's widget holds it."""
        timeout = float(PLAN["timeout"])
        script = _next_script()
        replies: List[Any] = []
        confirmed: AsyncResult = AsyncResult()
        client = socketio.Client(reconnection=False)
        client.on("bot_uttered", replies.append)
        client.on("session_confirm", confirmed.set)
        started = time.perf_counter()
        try:
            client.connect(self.host, transports=["websocket"], wait_timeout=timeout, retry=False)
            client.emit("session_request", {"session_secret": secrets.token_hex(32)})
            session = confirmed.get(timeout=timeout)
        except Exception as failure:  # every message of this conversation is lost
            for index in range(len(script)):
                self._fire(index, started, 0, f"no session: {type(failure).__name__}")
            client.disconnect()
            raise StopUser() from None
        try:
            for index, text in enumerate(script):
                self._send(client, session, index, text, replies, timeout)
        finally:
            client.disconnect()
        raise StopUser()

    def _send(
        self,
        client: socketio.Client,
        session: str,
        index: int,
        text: str,
        replies: List[Any],
        timeout: float,
    ) -> None:
        del replies[:]
        started = time.perf_counter()
        # each message with an id of its own, as the widget sends it (`client_msg_id`)
        body = {
            "message": text,
            "session_id": session,
            "customData": {"client_msg_id": uuid.uuid4().hex},
        }
        try:
            ack = client.call("user_uttered", body, timeout=timeout)
        except socketio.exceptions.TimeoutError:
            self._fire(index, started, len(replies), "no acknowledgement in time")
            return
        except Exception as failure:
            self._fire(index, started, len(replies), f"socket failed: {type(failure).__name__}")
            return
        if isinstance(ack, dict) and ack.get("error"):
            self._fire(index, started, len(replies), f"refused: {ack.get('error')}")
            return
        grace = time.perf_counter() + REPLY_GRACE_SECONDS
        while not replies and time.perf_counter() < grace:
            gevent.sleep(0.005)
        self._fire(index, started, len(replies), None if replies else f"no reply to {text[:30]!r}")


def run(plan: Dict[str, Any]) -> Dict[str, Any]:
    """Runs one plan to the end; returns the latencies, errors and duration."""
    PLAN.clear()
    PLAN.update(plan)
    user_class = {"rest": RestCustomer, "socketio": SocketIOCustomer}[plan["channel"]]
    user_class.host = plan["url"]
    if user_class is RestCustomer:
        RestCustomer.network_timeout = float(plan["timeout"])
        RestCustomer.connection_timeout = float(plan["timeout"])
    samples: List[Dict[str, Any]] = []

    def record(
        response_time: float,
        exception: Any = None,
        name: str = "",
        context: Optional[Dict[str, Any]] = None,
        **_: Any,
    ) -> None:
        if name != MESSAGE:
            return
        ended = time.monotonic()  # the system's monotonic clock: bench/load.py reads it too
        samples.append(
            {
                "ms": response_time,
                "index": (context or {}).get("index"),
                "started": ended - response_time / 1000,
                "ended": ended,
                "error": None if exception is None else str(exception)[:200],
            }
        )

    environment = Environment(user_classes=[user_class], host=plan["url"])
    environment.events.request.add_listener(record)
    runner = environment.create_local_runner()
    users = len(plan["scripts"])
    deadline = time.monotonic() + float(plan["deadline"])
    runner.start(users, spawn_rate=SPAWN_RATE)
    gevent.sleep(0.1)
    while time.monotonic() < deadline:
        spawning = runner.spawning_greenlet is not None and not runner.spawning_greenlet.dead
        if not spawning and runner.user_count == 0:
            break
        gevent.sleep(0.05)
    timed_out = runner.user_count > 0
    runner.quit()
    expected = sum(len(script) for script in plan["scripts"])
    errors = [s["error"] for s in samples if s["error"]]
    errors += ["not sent before the deadline"] * max(0, expected - len(samples))
    first = min((s["started"] for s in samples), default=0.0)
    last = max((s["ended"] for s in samples), default=0.0)
    return {
        "latencies_ms": [s["ms"] for s in samples if not s["error"]],
        "indexes": [s["index"] for s in samples if not s["error"]],
        "errors": errors,
        "seconds": last - first,
        "first_sent": first,
        "last_answered": last,
        "timed_out": timed_out,
    }


def main() -> int:
    """Reads the plan file, runs it, writes the result file."""
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("locust").setLevel(logging.ERROR)
    plan_path, result_path = (Path(arg) for arg in sys.argv[1:3])
    result = run(json.loads(plan_path.read_text(encoding="utf-8")))
    result_path.write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
