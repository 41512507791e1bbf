"""Agent-assist latency: from a customer's message to its suggestions on the agent's screen.

Starts the real stack (web app, action server, Rasa server) on free ports with a freshly seeded
demo shop in a temporary directory (the processes log there; `--keep` keeps it), signs the demo
agent in, and opens `--conversations` conversations: each customer says hello and asks for a
person, and the agent switches each one to assist mode. Then every conversation has one console
long-poll open (`GET /agent/api/conversations/<id>/suggestions?wait=20&after=<message id>`,
polled again after each answer, as the console's script does) while the customers send questions
over the REST channel, one every `--interval` seconds, round-robin, for `--rounds` rounds.

Latency is the moment the long-poll answer with a message's suggestions arrives minus the moment
the customer's POST was sent. The first round is warm-up and left out of the figures. A message
fails when a call answers non-200, its answer has fewer than 3 suggestions, it is superseded before
its suggestions arrive, or none arrive in time. Afterwards the same is measured with one
conversation and nothing else going on (`--pieces` messages, one after the other), and after each
one Rasa's draft endpoint (`/webhooks/assist/suggestions`) is called directly for the same message,
to show where the time goes. The CPU each process used while the customers wrote is printed too.

    .venv/bin/python bench/assist.py                 # 20 conversations, 20 rounds: about 2 minutes
    .venv/bin/python bench/assist.py --rounds 10 --keep
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Deque, Dict, List, Optional, Tuple

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import processes  # noqa: E402
from bot.assist.signing import SIGNATURE_HEADER, sign_body  # noqa: E402
from bot.settings import Settings  # noqa: E402

TARGET_P95_MS = 300.0
MIN_SUGGESTIONS = 3
POLL_WAIT_SECONDS = 20
DRAIN_SECONDS = 30.0
AGENT = ("agent", "agent-demo")
AUTHORITY_FEN = 5000  # only for timing Rasa's draft endpoint directly (no console involved)
PIECES_PAUSE = 0.3  # quiet time around each direct draft call

# What customers ask once a person holds the conversation; {product} and {order} are filled in
# from the seeded shop.
QUESTIONS = [
    "{product}还有货吗",
    "我的快递到哪了 订单号{order}",
    "有优惠券吗",
    "包邮吗",
    "我165 120斤穿什么码",
    "烟管要预埋吗",
    "买{product}有赠品吗",
    "你吃饭了吗",
    "订单{order}什么时候发货",
    "能便宜点吗",
    "{product}是现货还是预售",
    "寄到拉萨包邮不",
    "170cm 65kg 拿几码",
    "吊顶开孔多大",
    "买了送什么东西",
    "讲个笑话",
    "查下物流 {order}",
    "老板能少点不",
    "这个是正品吗",
    "保修几年",
    "{product}什么材质",
    "能开发票吗",
    "积分怎么用",
    "平时穿M这个要拍L吗",
    "今天好累",
    "{product}有现货吗",
    "谢谢亲",
]


class BenchError(RuntimeError):
    """The stack did not behave as the benchmark needs (set-up failed)."""


@dataclass
class Sent:
    """One customer message on its way."""

    conversation: str
    text: str
    round: int
    sent_at: float = 0.0
    posted_at: Optional[float] = None


@dataclass
class Results:
    """Everything measured during the loaded run."""

    latencies_ms: List[Tuple[int, float]] = field(default_factory=list)  # (round, ms)
    after_post_ms: List[Tuple[int, float]] = field(default_factory=list)
    post_ms: List[Tuple[int, float]] = field(default_factory=list)
    suggestion_counts: List[Tuple[int, int]] = field(default_factory=list)
    failures: List[str] = field(default_factory=list)
    polls: int = 0
    busy: Dict[str, float] = field(default_factory=dict)  # process -> share of one core


def percentile(samples: List[float], share: float) -> float:
    """The value below which `share` of the samples fall (nearest rank)."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))
    return ordered[rank]


def cpu_seconds(pid: int) -> Optional[float]:
    """CPU time (user + system) a process has used so far, from /proc; None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuProbe:
    """CPU used by each stack process and by this benchmark between two moments."""

    def __init__(self, pids: Dict[str, int]) -> None:
        self.pids = pids
        self.started: Dict[str, Optional[float]] = {}
        self.wall = 0.0

    def _now(self) -> Dict[str, Optional[float]]:
        used = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        used["bench client"] = time.process_time()
        return used

    def start(self) -> None:
        """Notes the CPU used so far."""
        self.started, self.wall = self._now(), time.perf_counter()

    def busy(self) -> Dict[str, float]:
        """Share of one core each process was busy since `start` (100% = one whole core)."""
        wall = time.perf_counter() - self.wall
        shares = {}
        for name, now in self._now().items():
            before = self.started.get(name)
            if now is not None and before is not None and wall > 0:
                shares[name] = (now - before) / wall
        return shares


def shop_facts(var_dir: Path) -> Tuple[List[str], List[str]]:
    """Product names and shipped order numbers of the seeded shop, for the questions."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from shop.db.models import Order, Product

    engine = create_engine(f"sqlite:///{var_dir / 'shop.db'}", future=True)
    try:
        with Session(engine) as session:
            products = list(session.execute(select(Product.name).order_by(Product.id)).scalars())
            orders = list(
                session.execute(
                    select(Order.order_number)
                    .where(Order.state.in_(("shipped", "paid")))
                    .order_by(Order.order_number)
                ).scalars()
            )
    finally:
        engine.dispose()
    return products, orders


def question(conversation: int, round_: int, products: List[str], orders: List[str]) -> str:
    """The customer's message; one conversation never asks the same thing twice in a row."""
    template = QUESTIONS[(round_ * 7 + conversation * 3) % len(QUESTIONS)]
    pick = conversation * 31 + round_
    return template.format(product=products[pick % len(products)], order=orders[pick % len(orders)])


class Customers:
    """Customers writing to the Rasa server's REST channel."""

    def __init__(self, client: aiohttp.ClientSession, settings: Settings) -> None:
        self.client = client
        self.url = f"{settings.rasa_url}/webhooks/rest/webhook"

    async def say(self, sender: str, text: str) -> int:
        """Sends a message; returns the HTTP status."""
        async with self.client.post(self.url, json={"sender": sender, "message": text}) as answer:
            await answer.read()
            return answer.status


class Console:
    """The demo agent's console session against the web app."""

    def __init__(self, client: aiohttp.ClientSession, base: str) -> None:
        self.client = client
        self.base = base
        self.headers: Dict[str, str] = {"X-Agent-Console": "1"}

    async def sign_in(self, username: str, password: str) -> None:
        """Signs in at /agent/signin and keeps the session cookie."""
        form = {"username": username, "password": password}
        async with self.client.post(
            self.base + "/agent/signin", data=form, allow_redirects=False
        ) as answer:
            if answer.status != 302 or not answer.cookies:
                raise BenchError(f"the demo agent could not sign in ({answer.status})")
            name, morsel = next(iter(answer.cookies.items()))
            self.headers["Cookie"] = f"{name}={morsel.value}"

    async def call(self, method: str, path: str, body: Optional[Dict] = None) -> Tuple[int, Any]:
        """One console API call; returns the status and the decoded JSON answer."""
        async with self.client.request(
            method, self.base + path, json=body, headers=self.headers
        ) as answer:
            raw = await answer.read()
            try:
                return answer.status, json.loads(raw or b"{}")
            except ValueError:
                return answer.status, {"raw": raw[:200].decode(errors="replace")}


class Bench:
    """The loaded run: customers writing, one console long-poll per conversation."""

    def __init__(
        self,
        customers: Customers,
        console: Console,
        conversations: List[str],
        probe: Optional[CpuProbe] = None,
    ) -> None:
        self.customers = customers
        self.console = console
        self.probe = probe
        self.conversations = conversations
        self.pending: Dict[str, Deque[Sent]] = {c: deque() for c in conversations}
        self.results = Results()
        self.stopping = False

    async def open(self, conversation: str) -> Optional[str]:
        """Hello, a request for a person, assist mode; returns the message waiting, if any."""
        for text in ("你好", "转人工"):
            status = await self.customers.say(conversation, text)
            if status != 200:
                raise BenchError(f"the REST channel answered {status} during set-up")
        path = f"/agent/api/conversations/{conversation}"
        status, body = await self.console.call("POST", path + "/mode", {"mode": "assist"})
        if status != 200:
            raise BenchError(f"switching to assist mode answered {status}: {body}")
        status, body = await self.console.call("GET", path + "/suggestions?wait=0")
        if status != 200 or not body.get("held"):
            raise BenchError(f"the first suggestions poll answered {status}: {body}")
        return body.get("message_id")

    async def watch(self, conversation: str, after: Optional[str]) -> None:
        """Keeps one long-poll open for the conversation, as the console's script does."""
        path = f"/agent/api/conversations/{conversation}/suggestions?wait={POLL_WAIT_SECONDS}"
        while not self.stopping:
            try:
                status, body = await self.console.call(
                    "GET", path + (f"&after={after}" if after else "")
                )
            except (aiohttp.ClientError, asyncio.TimeoutError) as failure:
                self.results.failures.append(f"{conversation}: poll failed: {failure!r}")
                await asyncio.sleep(1.0)
                continue
            arrived = time.perf_counter()
            self.results.polls += 1
            if status != 200:
                self.results.failures.append(f"{conversation}: poll answered {status} {body}")
                await asyncio.sleep(1.0)
                continue
            if body.get("unchanged") or not body.get("message_id"):
                continue
            after = str(body["message_id"])
            self.answered(conversation, body, arrived)

    def answered(self, conversation: str, body: Dict[str, Any], arrived: float) -> None:
        """Matches an answer to the customer message it is for and records the latency."""
        waiting = self.pending[conversation]
        text = body.get("text")
        if not any(sent.text == text for sent in waiting):
            return  # an answer for a message sent before the measured run
        while waiting:
            sent = waiting.popleft()
            if sent.text == text:
                break
            self.results.failures.append(
                f"{conversation} r{sent.round}: superseded before its suggestions arrived"
            )
        count = len(body.get("suggestions") or [])
        if count < MIN_SUGGESTIONS:
            self.results.failures.append(
                f"{conversation} r{sent.round}: {count} suggestions for {sent.text!r}"
            )
            return
        self.results.latencies_ms.append((sent.round, (arrived - sent.sent_at) * 1000))
        if sent.posted_at is not None:
            self.results.after_post_ms.append((sent.round, (arrived - sent.posted_at) * 1000))
        self.results.suggestion_counts.append((sent.round, count))

    async def send(self, sent: Sent) -> None:
        """The customer's POST; the message is waiting for suggestions from before it is sent."""
        sent.sent_at = time.perf_counter()
        self.pending[sent.conversation].append(sent)
        try:
            status = await self.customers.say(sent.conversation, sent.text)
        except (aiohttp.ClientError, asyncio.TimeoutError) as failure:
            status = repr(failure)
        sent.posted_at = time.perf_counter()
        self.results.post_ms.append((sent.round, (sent.posted_at - sent.sent_at) * 1000))
        if status != 200:
            self.pending[sent.conversation].remove(sent)
            self.results.failures.append(
                f"{sent.conversation} r{sent.round}: customer POST answered {status}"
            )

    async def run(
        self, rounds: int, interval: float, products: List[str], orders: List[str]
    ) -> Results:
        """Sends every round's messages on schedule, then waits for the last suggestions."""
        afters = await gather_limited([self.open(c) for c in self.conversations], limit=4)
        watchers = [
            asyncio.create_task(self.watch(c, after))
            for c, after in zip(self.conversations, afters, strict=True)
        ]
        await asyncio.sleep(0.5)  # every long-poll is open before the first message
        sends = []
        if self.probe is not None:
            self.probe.start()
        started = time.perf_counter()
        tick = 0
        for round_ in range(rounds):
            for index, conversation in enumerate(self.conversations):
                delay = started + tick * interval - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                text = question(index, round_, products, orders)
                sends.append(asyncio.create_task(self.send(Sent(conversation, text, round_))))
                tick += 1
        await asyncio.gather(*sends)
        deadline = time.perf_counter() + DRAIN_SECONDS
        while any(self.pending.values()) and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
        if self.probe is not None:
            self.results.busy = self.probe.busy()
        for conversation, waiting in self.pending.items():
            for sent in waiting:
                self.results.failures.append(
                    f"{conversation} r{sent.round}: no suggestions within {DRAIN_SECONDS:.0f}s"
                )
        self.stopping = True
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
        return self.results


async def gather_limited(calls: List[Any], limit: int) -> List[Any]:
    """Awaits the coroutines with at most `limit` running at once, answers in order."""
    gate = asyncio.Semaphore(limit)

    async def one(call: Any) -> Any:
        async with gate:
            return await call

    return await asyncio.gather(*(one(call) for call in calls))


async def time_pieces(
    settings: Settings,
    customers: Customers,
    console: Console,
    client: aiohttp.ClientSession,
    samples: int,
    products: List[str],
    orders: List[str],
) -> Tuple[Results, List[float]]:
    """One conversation, nothing else going on: each message end to end, then its draft alone.

    After a message's suggestions arrived, Rasa's `/webhooks/assist/suggestions` is called
    directly for the same message (signed like the web app's call), so the two compare.

    Returns:
        The single-conversation results and the milliseconds of each direct draft call.
    """
    conversation = f"bench-{uuid.uuid4().hex[:8]}-alone"
    alone = Bench(customers, console, [conversation])
    watcher = asyncio.create_task(alone.watch(conversation, await alone.open(conversation)))
    raw = json.dumps({"conversation_id": conversation, "authority_fen": AUTHORITY_FEN}).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign_body(raw, settings.signing_key),
    }
    draft_ms = []
    await asyncio.sleep(0.5)
    for round_ in range(samples + 1):  # the first is warm-up
        await alone.send(Sent(conversation, question(0, round_, products, orders), round_))
        deadline = time.perf_counter() + DRAIN_SECONDS
        while alone.pending[conversation] and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(PIECES_PAUSE)
        if round_ == 0:
            continue
        started = time.perf_counter()
        async with client.post(
            f"{settings.rasa_url}/webhooks/assist/suggestions", data=raw, headers=headers
        ) as answer:
            await answer.read()
            if answer.status == 200:
                draft_ms.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(PIECES_PAUSE)
    alone.stopping = True
    watcher.cancel()
    await asyncio.gather(watcher, return_exceptions=True)
    alone.results.failures += [
        f"{conversation} r{sent.round}: no suggestions within {DRAIN_SECONDS:.0f}s"
        for sent in alone.pending[conversation]
    ]
    return alone.results, draft_ms


def line(name: str, samples: List[float]) -> str:
    """One table row: count, p50, p95, max in milliseconds."""
    if not samples:
        return f"{name:<44} {0:>6}  {'-':>7}  {'-':>7}  {'-':>7}"
    return (
        f"{name:<44} {len(samples):>6}  {statistics.median(samples):>7.0f}  "
        f"{percentile(samples, 0.95):>7.0f}  {max(samples):>7.0f}"
    )


def report(
    results: Results,
    pieces: Tuple[Results, List[float]],
    args: argparse.Namespace,
    seconds: float,
) -> None:
    """Prints the figures as a plain text table."""

    def measured(pairs: List[Tuple[int, Any]]) -> List[Any]:
        return [value for round_, value in pairs if round_ > 0]

    def warm_up(pairs: List[Tuple[int, Any]]) -> List[Any]:
        return [value for round_, value in pairs if round_ == 0]

    latencies = measured(results.latencies_ms)
    counts = measured(results.suggestion_counts)
    sent = args.rounds * args.conversations
    print(
        f"\nagent assist: {args.conversations} conversations in assist mode, one message every "
        f"{args.interval * 1000:.0f} ms round-robin, {args.rounds} rounds ({sent} messages, "
        f"{seconds:.0f} s); Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"{platform.machine()}"
    )
    print(f"\n{'(ms)':<44} {'count':>6}  {'p50':>7}  {'p95':>7}  {'max':>7}")
    print(line("message sent -> suggestions on screen", latencies))
    print(line("  of which: customer POST answered", measured(results.post_ms)))
    print(line("  of which: POST answered -> suggestions", measured(results.after_post_ms)))
    print(line("warm-up (round 1, left out above)", warm_up(results.latencies_ms)))
    alone, draft_alone = pieces
    print(line("one conversation alone: sent -> on screen", measured(alone.latencies_ms)))
    print(line("  of which: customer POST answered", measured(alone.post_ms)))
    print(line("  Rasa /webhooks/assist/suggestions alone", draft_alone))
    thirds = [[] for _ in range(3)]
    for round_, value in results.latencies_ms:
        if round_ > 0:
            thirds[min(2, (round_ - 1) * 3 // (args.rounds - 1))].append(value)
    trend = " / ".join(f"{statistics.median(t):.0f}" if t else "-" for t in thirds)
    print(f"\np50 in the first / middle / last third of the rounds: {trend} ms")
    average = statistics.mean(counts) if counts else 0.0
    print(f"suggestions per message: {average:.2f} on average (min {min(counts, default=0)})")
    print(f"long-poll answers: {results.polls}")
    if results.busy:
        shares = ", ".join(f"{name} {share:.0%}" for name, share in results.busy.items())
        print(f"CPU while the customers wrote (100% = one core of {os.cpu_count()}): {shares}")
    if latencies:
        p95 = percentile(latencies, 0.95)
        verdict = "met" if p95 < TARGET_P95_MS else "NOT met"
        print(f"target p95 < {TARGET_P95_MS:.0f} ms: {verdict} (p95 {p95:.0f} ms)")
    failures = results.failures + [f"(alone) {f}" for f in alone.failures]
    print(f"failures: {len(failures)}")
    for failure in failures[:40]:
        print(f"  {failure}")
    if len(failures) > 40:
        print(f"  … {len(failures) - 40} more")


async def measure(settings: Settings, args: argparse.Namespace, pids: Dict[str, int]) -> None:
    """Runs the loaded bench and the pieces against the running stack; prints the figures."""
    products, orders = shop_facts(settings.var_dir)
    conversations = [f"bench-{uuid.uuid4().hex[:8]}-{n:02d}" for n in range(args.conversations)]
    timeout = aiohttp.ClientTimeout(total=POLL_WAIT_SECONDS + 40)
    async with (
        aiohttp.ClientSession(timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()) as rasa_client,
        aiohttp.ClientSession(timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()) as web_client,
    ):
        customers = Customers(rasa_client, settings)
        console = Console(web_client, settings.web_url)
        await console.sign_in(*AGENT)
        bench = Bench(customers, console, conversations, CpuProbe(pids))
        started = time.perf_counter()
        results = await bench.run(args.rounds, args.interval, products, orders)
        seconds = time.perf_counter() - started
        pieces = await time_pieces(
            settings, customers, console, rasa_client, args.pieces, products, orders
        )
    report(results, pieces, args, seconds)


def main() -> int:
    """Start the stack, measure, print, stop."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="messages per conversation")
    parser.add_argument("--conversations", type=int, default=20, help="conversations active")
    parser.add_argument(
        "--interval", type=float, default=0.15, help="seconds between customer messages"
    )
    parser.add_argument(
        "--pieces", type=int, default=15, help="messages of the one-conversation run afterwards"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temp dir (logs) and say where"
    )
    args = parser.parse_args()
    if args.rounds < 2 or args.conversations < 1:
        parser.error(
            "--rounds must be at least 2 (the first is warm-up), --conversations at least 1"
        )
    with processes.bench_stack("bench-assist-", keep=args.keep) as (settings, children):
        pids = {child.name: child.popen.pid for child in children if child.popen}
        try:
            asyncio.run(measure(settings, args, pids))
        except BenchError as failure:
            print(f"the benchmark could not run: {failure}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
