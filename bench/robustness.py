"""Robustness: fuzzed input over REST, faults injected, and a long conversation's reply time.

Starts its own stack (web app, action server, Rasa server) on free loopback ports with a freshly
seeded demo shop in a temporary directory, as the end-to-end tests do, and sends traffic to
127.0.0.1 only, in loops bounded in count and time. Three parts, each printing its figures:

1. Fuzzing: `--fuzz` requests (seeded, reproducible) to the REST channel: bodies that are not
   JSON or not objects, a nested object or a number as the message, lone UTF-16 surrogates,
   control characters, very long text, commands, `EXTERNAL_` look-alikes, braces and "None".
   Counted: answered with a reply, refused 4xx with a reason, answered 200 with no reply, 5xx,
   and no answer within 10 s.
2. Faults: the action server killed and hung (SIGSTOP), the web app killed, the shop database
   locked (an exclusive SQLite transaction) and the Rasa server killed while a message is being
   answered. During each, customers write; counted: messages answered within 5 s, and messages
   lost (neither answered nor recorded in the conversation).
3. A long conversation: the reply time of a greeting in a new conversation and in one of
   `--events` events (appended through Rasa's HTTP API in one call, then answered for real).

Last, the phone-tail guessing budget the shop's policy allows (`shop/policy/verification.py`):
wrong tails per order and per client per hour, before the check locks.

    .venv/bin/python bench/robustness.py            # about 3 minutes
    .venv/bin/python bench/robustness.py --fuzz 100 --keep
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sqlite3
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot import processes  # noqa: E402
from bot.processes import ManagedProcess  # noqa: E402
from bot.settings import Settings  # noqa: E402
from shop.policy import verification as guessing  # noqa: E402

ANSWER_WITHIN = 5.0
REQUEST_TIMEOUT = 10.0
FAULT_MESSAGES = ("亲在吗", "包邮吗", "我现在积分有多少")


def post(url: str, data: bytes, timeout: float = REQUEST_TIMEOUT) -> Tuple[Optional[int], Any]:
    """One POST; (status, parsed JSON body or None). Status None: no answer in time or at all."""
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as refused:
        status, raw = refused.code, refused.read()
    except OSError:
        return None, None
    try:
        return status, json.loads(raw) if raw.strip() else None
    except ValueError:
        return status, None


# ---- 1. fuzzing


def fuzzed_bodies(count: int, seed: int = 14) -> List[bytes]:
    """`count` request bodies for the REST channel, the same for the same seed."""
    rng = random.Random(seed)
    words = [
        "亲在吗",
        "包邮吗",
        "还有货吗",
        "帮我查下订单",
        "我要投诉",
        "退款怎么还没到",
        "😀",
        "ｈｉ",
    ]
    oddities = [
        "\ud83d",  # half an emoji
        "\udc00abc",
        "\x00\x01\x1b[31m",
        "/restart",
        "/greet",
        '/inform{"order_id": "1"}',
        "EXTERNAL_parcel_stalled",
        "{order_id}",
        "None",
        "null",
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "{{7*7}}",
        "\u200b\u200b转人工",
        "ａｇｅｎｔ",
        " ",
        "",
    ]

    def message() -> Any:
        kind = rng.randrange(10)
        if kind < 4:
            return rng.choice(words) + rng.choice(["", "？", "!!", rng.choice(oddities)])
        if kind < 6:
            return rng.choice(oddities)
        if kind == 6:
            return rng.choice(words) * rng.choice([50, 400, 3000])
        if kind == 7:
            return rng.choice([{"text": "你好"}, ["你好"], 12345, None, True, 1.5e308])
        if kind == 8:
            return "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(1, 40)))
        return rng.choice(words)

    bodies: List[bytes] = []
    for index in range(count):
        sender: Any = f"fuzz-{index}"
        shape = rng.randrange(12)
        if shape == 0:
            bodies.append(rng.choice([b"", b"[]", b"null", b'"hi"', b"{", b"\xff\xfe", b"1"]))
            continue
        body: Dict[str, Any] = {"sender": sender, "message": message()}
        if shape == 1:
            body.pop("sender")
        elif shape == 2:
            body["sender"] = rng.choice([None, 7, {"id": 1}, "", "x" * 500, "../../etc"])
        elif shape == 3:
            body["metadata"] = rng.choice([[], "x", {"customer_sig": "0" * 64}, {"a": {"b": []}}])
        text = json.dumps(body, ensure_ascii=rng.random() < 0.5)
        bodies.append(text.encode("utf-8", "surrogatepass"))
    return bodies


@dataclass
class FuzzFigures:
    tried: int = 0
    replied: int = 0
    refused_with_reason: int = 0
    silent_200: int = 0
    server_errors: int = 0
    no_answer: int = 0
    other: int = 0


def fuzz(settings: Settings, count: int, deadline: float) -> FuzzFigures:
    """Sends the fuzzed bodies one after the other (stops at the deadline)."""
    url = f"{settings.rasa_url}/webhooks/rest/webhook"
    figures = FuzzFigures()
    for body in fuzzed_bodies(count):
        if time.monotonic() > deadline:
            break
        figures.tried += 1
        status, answer = post(url, body)
        if status is None:
            figures.no_answer += 1
        elif status >= 500:
            figures.server_errors += 1
        elif status == 200:
            if isinstance(answer, list) and answer:
                figures.replied += 1
            else:
                figures.silent_200 += 1
        elif 400 <= status < 500 and isinstance(answer, dict) and answer:
            figures.refused_with_reason += 1
        else:
            figures.other += 1
    return figures


# ---- 2. faults


@dataclass
class FaultFigures:
    name: str
    sent: int = 0
    in_time: int = 0
    lost: int = 0
    slowest: float = 0.0


def say(settings: Settings, sender: str, text: str) -> Tuple[Optional[list], float]:
    started = time.monotonic()
    status, answer = post(
        f"{settings.rasa_url}/webhooks/rest/webhook",
        json.dumps({"sender": sender, "message": text}).encode(),
    )
    took = time.monotonic() - started
    return (answer if status == 200 and isinstance(answer, list) else None), took


def recorded(settings: Settings, sender: str, text: str) -> bool:
    """Whether the tracker store holds the customer's message (read from the SQLite file)."""
    with sqlite3.connect(f"file:{settings.tracker_db}?mode=ro", uri=True, timeout=5) as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", (sender,)
        ).fetchall()
    return any(json.loads(data).get("text") == text for (data,) in rows)


def wait_healthy(child: ManagedProcess, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not child.healthy():
        if time.monotonic() > deadline or not child.alive():
            raise RuntimeError(f"{child.name} did not come back:\n{child.log_tail()}")
        time.sleep(0.5)


def messages_during(settings: Settings, figures: FaultFigures) -> None:
    for text in FAULT_MESSAGES:
        sender = f"fault-{uuid.uuid4().hex[:8]}"
        answer, took = say(settings, sender, text)
        figures.sent += 1
        figures.slowest = max(figures.slowest, took)
        if answer and took < ANSWER_WITHIN:
            figures.in_time += 1
        if not answer and not recorded(settings, sender, text):
            figures.lost += 1


def fault(
    settings: Settings, name: str, inject: Callable[[], None], heal: Callable[[], None]
) -> FaultFigures:
    figures = FaultFigures(name)
    inject()
    try:
        messages_during(settings, figures)
    finally:
        heal()
    time.sleep(11)  # past the cool-down: the healed part is asked again
    return figures


def restart(child: ManagedProcess) -> None:
    child.stop()
    child.start()
    wait_healthy(child)


def kill(child: ManagedProcess) -> None:
    assert child.popen is not None
    child.popen.send_signal(signal.SIGKILL)
    child.popen.wait(timeout=10)


def rasa_killed_mid_message(settings: Settings, rasa: ManagedProcess) -> FaultFigures:
    """Kills the Rasa server while it answers a message; the message's fate (no restart)."""
    figures = FaultFigures("Rasa server killed mid-message")
    sender, text = f"fault-{uuid.uuid4().hex[:8]}", "包邮吗"
    outcome: Dict[str, Any] = {}
    worker = threading.Thread(target=lambda: outcome.update(answer=say(settings, sender, text)[0]))
    worker.start()
    time.sleep(0.05)
    kill(rasa)
    worker.join(timeout=REQUEST_TIMEOUT + 5)
    figures.sent = 1
    if outcome.get("answer"):
        figures.in_time = 1
    elif not recorded(settings, sender, text):
        figures.lost = 1
    return figures


# ---- 3. long conversation


def long_conversation_events(count: int, start: float, end: float) -> List[Dict[str, Any]]:
    """`count` events of greeting turns, as Rasa records them, stamped between start and end."""
    events: List[Dict[str, Any]] = []
    parse = {"intent": {"name": "greet", "confidence": 1.0}, "entities": [], "text": "亲在吗"}
    while len(events) < count:
        events += [
            {"event": "user", "text": "亲在吗", "parse_data": parse},
            {"event": "action", "name": "utter_greet"},
            {"event": "bot", "text": "亲，在的"},
            {"event": "action", "name": "action_listen"},
        ]
    events = events[:count]
    for index, event in enumerate(events):
        event["timestamp"] = start + (end - start) * index / count
    return events


def reply_times(settings: Settings, sender: str, rounds: int) -> List[float]:
    times = []
    for _ in range(rounds):
        answer, took = say(settings, sender, "亲在吗")
        if answer:
            times.append(took)
    return times


def long_conversation(settings: Settings, events: int, rounds: int) -> Dict[str, float]:
    """Median reply times in a new conversation and in a long one (and the long one's first)."""
    fresh = f"long-fresh-{uuid.uuid4().hex[:8]}"
    long = f"long-{uuid.uuid4().hex[:8]}"
    say(settings, long, "亲在吗")  # the session starts as for any customer
    start = time.time()
    time.sleep(1)  # the appended events fall inside the session, before the next message
    url = (
        f"{settings.rasa_url}/conversations/{long}/tracker/events"
        f"?token={settings.rasa_token}&include_events=NONE"
    )
    body = json.dumps(long_conversation_events(events, start, time.time() - 0.1)).encode()
    status, _ = post(url, body, timeout=120)
    if status != 200:
        raise RuntimeError(f"appending the long conversation answered {status}")
    reply_times(settings, fresh, 2)  # warm-up
    [first] = reply_times(settings, long, 1) or [float("nan")]
    short_times = reply_times(settings, fresh, rounds)
    long_times = reply_times(settings, long, rounds)
    return {
        "short": statistics.median(short_times) if short_times else float("nan"),
        "first": first,
        "long": statistics.median(long_times) if long_times else float("nan"),
    }


# ---- main


def print_fuzz(settings: Settings, args: Any) -> None:
    figures = fuzz(settings, args.fuzz, time.monotonic() + args.fuzz_seconds)
    print(f"\nFuzzed REST input ({figures.tried} tried, seed 14)")
    print(f"  answered with a reply            {figures.replied}")
    print(f"  refused 4xx with a reason        {figures.refused_with_reason}")
    print(f"  answered 200 without a reply     {figures.silent_200}")
    print(f"  5xx                              {figures.server_errors}")
    print(f"  no answer within {REQUEST_TIMEOUT:g} s             {figures.no_answer}")
    if figures.other:
        print(f"  other answers                    {figures.other}")


def print_long(settings: Settings, args: Any) -> None:
    long = long_conversation(settings, args.long_events, args.long_rounds)
    print(f"\nLong conversation: median reply time of a greeting ({args.long_rounds} each)")
    print(f"  new conversation                          {long['short'] * 1000:7.0f} ms")
    print(f"  after {args.long_events:,} events, first reply        {long['first'] * 1000:7.0f} ms")
    print(f"  after {args.long_events:,} events, the next replies   {long['long'] * 1000:7.0f} ms")


def print_faults(settings: Settings, children: Dict[str, ManagedProcess]) -> None:
    actions, web, rasa = children["action server"], children["web app"], children["rasa server"]
    locked: Dict[str, sqlite3.Connection] = {}

    def lock_shop() -> None:
        connection = sqlite3.connect(settings.var_dir / "shop.db", timeout=5)
        connection.execute("BEGIN EXCLUSIVE")
        locked["db"] = connection

    def unlock_shop() -> None:
        locked.pop("db").rollback()

    results = [
        fault(settings, "action server killed", lambda: kill(actions), lambda: restart(actions)),
        fault(
            settings,
            "action server hung (SIGSTOP)",
            lambda: actions.popen.send_signal(signal.SIGSTOP),  # type: ignore[union-attr]
            lambda: actions.popen.send_signal(signal.SIGCONT),  # type: ignore[union-attr]
        ),
        fault(settings, "web app killed", lambda: kill(web), lambda: restart(web)),
        fault(settings, "shop database locked", lock_shop, unlock_shop),
        rasa_killed_mid_message(settings, rasa),  # last: Rasa is not restarted
    ]
    print(
        f"\nFaults injected ({len(results)}): customer messages answered within {ANSWER_WITHIN:g} s"
    )
    print(f"  {'fault':36} sent  in time  lost  slowest")
    for found in results:
        print(
            f"  {found.name:36} {found.sent:4} {found.in_time:8} {found.lost:5} "
            f"{found.slowest:6.2f} s"
        )
    print(
        f"  all faults: {sum(f.sent for f in results)} sent, "
        f"{sum(f.in_time for f in results)} answered within {ANSWER_WITHIN:g} s, "
        f"{sum(f.lost for f in results)} lost"
    )


def print_guessing() -> None:
    """The phone-tail guessing budget: wrong tails allowed per order and per client per hour."""
    hours = guessing.WINDOW.total_seconds() / 3600
    per_order = guessing.ORDER_FAILURES_ALLOWED / hours
    per_client = guessing.CLIENT_FAILURES_ALLOWED / hours
    tails = 10_000
    print("\nPhone-tail guessing budget (shop/policy/verification.py)")
    for label, value in [
        ("attempts allowed per order per hour", f"{per_order:g}"),
        ("attempts allowed per client per hour", f"{per_client:g}"),
        ("chance to hit an order's tail in an hour", f"{per_order / tails:.2%}"),
        (f"hours to try half of the {tails:,} tails", f"{tails / 2 / per_order:,.0f}"),
    ]:
        print(f"  {label:42} {value}")


def measure(settings: Settings, children: Dict[str, ManagedProcess], args: Any) -> None:
    """Runs the parts asked for; faults last (they end with the Rasa server killed)."""
    parts = set(args.parts.split(","))
    if "fuzz" in parts:
        print_fuzz(settings, args)
    if "long" in parts and args.long_events:
        print_long(settings, args)
    if "faults" in parts:
        print_faults(settings, children)
    print_guessing()


def main() -> int:
    """Starts the private stack, measures, prints, stops."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fuzz", type=int, default=300, help="fuzzed requests (at most)")
    parser.add_argument("--fuzz-seconds", type=float, default=120, help="time limit of fuzzing")
    parser.add_argument("--long-events", type=int, default=3800, help="0 skips the part")
    parser.add_argument("--long-rounds", type=int, default=10)
    parser.add_argument(
        "--parts", default="fuzz,faults,long", help="which parts to run (comma-separated)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    args = parser.parse_args()
    with processes.bench_stack("bench-robustness-", keep=args.keep) as (settings, children):
        measure(settings, {child.name: child for child in children}, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
