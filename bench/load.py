"""Load: this project's assistant beside Rasa's own `rasa init` bot, under the same Locust load.

`python bench/load.py` does everything, on loopback only:

1. The `rasa init` bot: built once per Rasa version with `rasa init --no-prompt` (which trains it,
   holding `/tmp/train.lock` as every training on this machine does; the output goes to
   `init-train.log`) and kept in `var/bench/rasa-init-<version>/`, so later runs start at once.
   It is served by `rasa run --enable-api` on a free port with the REST and socket.io channels
   (Rasa's own, no session persistence) and its defaults: in-memory tracker store, no actions.
2. This project's stack (web app, action server, Rasa server) on free ports with a freshly seeded
   demo shop in a temporary directory (`bot.processes.seeded_stack`, as `bench/assist.py` does).
3. For each channel (REST, then socket.io) and each bot: one conversation alone (`--messages`
   messages, one after the other), then `--conversations` conversations at once, each sending
   `--messages` messages, the next as soon as the previous one is answered (Locust, driven by
   `bench/load_users.py` in a process of its own). This project's customers ask about real
   seeded products: stock, free shipping, dispatch and delivery time, authenticity, product
   details (database actions and persona rendering); the init bot's say hello, how they feel, ask
   whether it is a bot and say goodbye, in its own training data's words.

Before measuring, each bot answers a few messages that are not counted (first-use costs). Printed:
messages a second (answered messages over the seconds from the first sent to the last answered),
p50 and p95 of the time to the answer, errors (a status other than 200, no reply, a time-out), the
Rasa server's CPU (100% = one core) and its memory (the most resident memory of the Rasa process
and its children sampled during the run, and its peak since start, VmHWM), for both bots; then
the ratios ours / init of messages a second and of p95, and the targets of issue 15. Last, a hint
of where one message's time goes: NLU alone (`/model/parse`) against the whole round trip.

    .venv/bin/python bench/load.py                       # 20 × 20, both channels: ~4 minutes
    .venv/bin/python bench/load.py --conversations 5 --messages 5 --channels rest --keep
    .venv/bin/python bench/load.py --replicas 2     # ours as `make run-scaled` starts it

The options can also be given as BENCH_LOAD_CONVERSATIONS, BENCH_LOAD_MESSAGES, BENCH_LOAD_CHANNELS.
Other engineers' load tests on the same cores distort the figures: run it under
`flock /tmp/load.lock` on a shared machine.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import fcntl
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import soak  # noqa: E402  (bench/soak.py: the seeded products, the scaled topology on loopback)

from bot import processes  # noqa: E402
from bot.processes import VENV_BIN, ManagedProcess  # noqa: E402
from bot.settings import Settings  # noqa: E402

TRAIN_LOCK = Path("/tmp/train.lock")
CACHE_DIR = ROOT / "var" / "bench"
USERS_SCRIPT = Path(__file__).resolve().parent / "load_users.py"
CHANNELS = ("rest", "socketio")
MESSAGE_TIMEOUT = 30.0  # seconds one message may take before it counts as an error
RUN_DEADLINE = 240.0  # seconds one measured run may take in all
WARM_UP_MESSAGES = 8
PARSE_SAMPLES = 20
SAMPLE_SECONDS = 0.2
TARGET_RATIO = 2.0
TARGET_RSS_BYTES = 1.3e9

# This project's customers, about a seeded product ({product}); each one is answered by an
# action that reads the shop database and a response rendered by the persona renderer.
OUR_MESSAGES = (
    "{product}还有货吗",
    "{product}包邮吗",
    "今天拍{product}什么时候发货",
    "{product}是正品吗",
    "{product}是什么材质的",
    "{product}现在有现货吗",
    "{product}几天能到",
    "{product}是官方授权的吗",
    "{product}运费多少",
    "{product}寄新疆包邮吗",
    "{product}今天能发货吗",
    "{product}是现货还是预售",
)

# The `rasa init` bot's customers, in the words of its own training data, in the turns its stories
# and rules answer (a mood right after a greeting, "yes" right after "did that help?"), so that
# every message gets a reply ("no" there is answered only when no "yes" came shortly before).
INIT_TURNS = (
    ("hello", "I am feeling very good"),
    ("are you a bot?",),
    ("hey there", "I am sad", "yes"),
    ("am I talking to a human?",),
    ("good morning", "I am great"),
    ("goodbye",),
    ("hi", "I am disappointed", "of course"),
    ("bye",),
)


class BenchError(RuntimeError):
    """The benchmark could not be set up."""


@dataclass
class Bot:
    """One Rasa server under test."""

    name: str
    url: str
    rasa: ManagedProcess
    scripts: List[List[str]]  # the messages of conversation n are scripts[n]
    token: Optional[str] = None  # the HTTP API token, when the server has one
    others: Dict[str, ManagedProcess] = field(default_factory=dict)


@dataclass
class Figures:
    """One measured run."""

    latencies_ms: List[float]
    indexes: List[int]  # each answered message's place in its conversation (0 = first)
    errors: List[str]
    seconds: float
    rss_max: int = 0
    hwm: int = 0
    cpu: Dict[str, float] = field(default_factory=dict)  # process -> share of one core

    @property
    def answered(self) -> int:
        return len(self.latencies_ms)

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds > 0 else 0.0

    def p(self, share: float) -> float:
        return percentile(self.latencies_ms, share) if self.latencies_ms else float("nan")

    def halves_p50(self, messages: int) -> Tuple[float, float]:
        """p50 of the first and of the second half of each conversation's messages."""
        first = [
            ms for ms, i in zip(self.latencies_ms, self.indexes, strict=True) if i < messages // 2
        ]
        second = [
            ms for ms, i in zip(self.latencies_ms, self.indexes, strict=True) if i >= messages // 2
        ]
        return (
            statistics.median(first) if first else float("nan"),
            statistics.median(second) if second else float("nan"),
        )

    def cpu_ms(self, process: str) -> float:
        """CPU milliseconds a process spent per answered message (about)."""
        share = self.cpu.get(process)
        if share is None or not self.answered:
            return float("nan")
        return share * self.seconds * 1000 / self.answered


def percentile(samples: List[float], share: float) -> float:
    """The value below which `share` of the samples fall (nearest rank)."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))
    return ordered[rank]


# --- the rasa init bot ----------------------------------------------------------------------


def init_bot(folder: Path) -> Path:
    """The trained `rasa init` project for this Rasa version, built and cached if needed."""
    cache = CACHE_DIR / f"rasa-init-{version('rasa')}"
    if list((cache / "models").glob("*.tar.gz")):
        return cache
    build = folder / "init-build"
    build.mkdir(parents=True)
    log_path = folder / "logs" / "init-train.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"building and training the rasa init bot (log: {log_path}) ...", flush=True)
    started = time.perf_counter()
    with TRAIN_LOCK.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"  waiting for {TRAIN_LOCK} (another training is running) ...", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        with log_path.open("wb") as log:
            done = subprocess.run(
                [str(VENV_BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(build)],
                cwd=build,
                env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
    if done.returncode != 0 or not list((build / "models").glob("*.tar.gz")):
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
        raise BenchError(f"rasa init failed (exit {done.returncode}):\n{tail}")
    shutil.copy(log_path, build / "init-train.log")
    print(f"  trained in {time.perf_counter() - started:.0f} s; cached in {cache}", flush=True)
    partial = cache.with_name(cache.name + f".partial-{os.getpid()}")
    shutil.copytree(build, partial, ignore=shutil.ignore_patterns(".rasa"))
    shutil.rmtree(cache, ignore_errors=True)
    partial.rename(cache)
    return cache


def init_server(project: Path, folder: Path) -> Tuple[ManagedProcess, str]:
    """The `rasa run` process of the init bot, with the REST and socket.io channels."""
    credentials = folder / "init-credentials.yml"
    credentials.write_text(
        "rest:\n"
        "socketio:\n"
        "  user_message_evt: user_uttered\n"
        "  bot_message_evt: bot_uttered\n"
        "  session_persistence: false\n",
        encoding="utf-8",
    )
    port = processes.free_port()
    url = f"http://127.0.0.1:{port}"
    process = ManagedProcess(
        name="rasa init bot",
        command=[
            str(VENV_BIN / "rasa"),
            "run",
            "--enable-api",
            "--model",
            str(project / "models"),
            "--endpoints",
            str(project / "endpoints.yml"),
            "--credentials",
            str(credentials),
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        health_url=f"{url}/status",
        log_path=folder / "logs" / "init-bot.log",
        env={"RASA_TELEMETRY_ENABLED": "false"},
    )
    return process, url


# --- scripts ---------------------------------------------------------------------------------


def our_scripts(products: List[str], conversations: int, messages: int) -> List[List[str]]:
    """One script per conversation: questions about seeded products, no two alike in a row."""
    return [
        [
            OUR_MESSAGES[(n * 3 + m) % len(OUR_MESSAGES)].format(
                product=products[(n * 7 + m // 2) % len(products)]
            )
            for m in range(messages)
        ]
        for n in range(conversations)
    ]


def init_scripts(conversations: int, messages: int) -> List[List[str]]:
    """One script per conversation for the init bot, each starting at another turn."""
    scripts = []
    for n in range(conversations):
        turns = itertools.cycle(
            INIT_TURNS[n % len(INIT_TURNS) :] + INIT_TURNS[: n % len(INIT_TURNS)]
        )
        script: List[str] = []
        while len(script) < messages:
            script.extend(next(turns))
        scripts.append(script[:messages])
    return scripts


# --- measuring -------------------------------------------------------------------------------


def tree(pid: int) -> List[psutil.Process]:
    """The process and its children, as far as they still run."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def rss(pid: int) -> int:
    """Resident memory of a process and its children, in bytes."""
    total = 0
    for member in tree(pid):
        try:
            total += member.memory_info().rss
        except psutil.Error:
            pass
    return total


def high_water_mark(pid: int) -> int:
    """The peak resident memory of a process since it started (VmHWM), in bytes."""
    try:
        for row in Path(f"/proc/{pid}/status").read_text().splitlines():
            if row.startswith("VmHWM:"):
                return int(row.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children so far."""
    total = 0.0
    for member in tree(pid):
        try:
            times = member.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


class Probe:
    """Samples the Rasa server's memory and every process's CPU time while a run goes on."""

    def __init__(self, rasa_pid: int, pids: Dict[str, int]) -> None:
        self.rasa_pid = rasa_pid
        self.pids = pids
        self.rss_max = 0
        self.samples: List[Tuple[float, Dict[str, float]]] = []  # (monotonic, CPU seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _take(self) -> None:
        self.samples.append(
            (time.monotonic(), {name: cpu_seconds(pid) for name, pid in self.pids.items()})
        )
        self.rss_max = max(self.rss_max, rss(self.rasa_pid))

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._take()
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self) -> "Probe":
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join()
        self._take()

    def cpu(self, start: float, end: float) -> Dict[str, float]:
        """Share of one core each process was busy between two monotonic moments (about)."""
        before = [s for s in self.samples if s[0] <= start] or self.samples[:1]
        after = [s for s in self.samples if s[0] >= end] or self.samples[-1:]
        (t0, used0), (t1, used1) = before[-1], after[0]
        if t1 <= t0:
            return {}
        return {name: (used1[name] - used0[name]) / (t1 - t0) for name in self.pids}


def drive(bot: Bot, channel: str, scripts: List[List[str]], folder: Path, tag: str) -> Figures:
    """Runs one Locust plan against a bot (in its own process) and measures the Rasa server."""
    plan_path = folder / f"plan-{tag}.json"
    result_path = folder / f"result-{tag}.json"
    plan = {
        "url": bot.url,
        "channel": channel,
        "scripts": scripts,
        "timeout": MESSAGE_TIMEOUT,
        "deadline": RUN_DEADLINE,
    }
    plan_path.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    assert bot.rasa.popen is not None
    pids = {"rasa": bot.rasa.popen.pid}
    pids.update({name: p.popen.pid for name, p in bot.others.items() if p.popen})
    with (folder / "logs" / f"locust-{tag}.log").open("wb") as log:
        with Probe(bot.rasa.popen.pid, pids) as probe:
            done = subprocess.run(
                [sys.executable, str(USERS_SCRIPT), str(plan_path), str(result_path)],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=RUN_DEADLINE + 60,
            )
    if done.returncode != 0 or not result_path.exists():
        raise BenchError(f"the load driver failed (exit {done.returncode}); see {log.name}")
    result = json.loads(result_path.read_text(encoding="utf-8"))
    return Figures(
        latencies_ms=result["latencies_ms"],
        indexes=result["indexes"],
        errors=result["errors"],
        seconds=result["seconds"],
        rss_max=probe.rss_max,
        hwm=high_water_mark(bot.rasa.popen.pid),
        cpu=probe.cpu(result["first_sent"], result["last_answered"]),
    )


def post_json(url: str, body: Dict[str, Any], timeout: float = MESSAGE_TIMEOUT) -> Any:
    """POSTs JSON and returns the decoded answer (raises on a status other than 200)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return json.loads(answer.read() or b"null")


def warm_up(bot: Bot) -> None:
    """A few messages that are not counted: the first uses of each code path."""
    sender = f"warm-up-{uuid.uuid4().hex[:8]}"
    for text in [t for script in bot.scripts[:2] for t in script][:WARM_UP_MESSAGES]:
        try:
            post_json(f"{bot.url}/webhooks/rest/webhook", {"sender": sender, "message": text})
        except (OSError, ValueError) as failure:
            raise BenchError(f"{bot.name} did not answer while warming up: {failure!r}") from None


def parse_times(bot: Bot) -> Tuple[List[float], Counter]:
    """Times Rasa's NLU alone (`/model/parse`) on the bot's messages; what they were read as."""
    query = f"?token={bot.token}" if bot.token else ""
    texts = list(dict.fromkeys(t for script in bot.scripts for t in script))[:PARSE_SAMPLES]
    times: List[float] = []
    intents: Counter = Counter()
    for text in texts:
        started = time.perf_counter()
        try:
            parsed = post_json(f"{bot.url}/model/parse{query}", {"text": text})
        except (OSError, ValueError):
            continue  # the URL holds the token: the error is not printed
        times.append((time.perf_counter() - started) * 1000)
        intents[(parsed.get("intent") or {}).get("name")] += 1
    return times, intents


# --- the run ---------------------------------------------------------------------------------


def measure(
    bots: List[Bot], channels: List[str], conversations: int, folder: Path
) -> Dict[Tuple[str, str], Dict[str, Figures]]:
    """Every channel, every bot: one conversation alone, then all at once."""
    figures: Dict[Tuple[str, str], Dict[str, Figures]] = {}
    for bot in bots:
        print(f"warming up {bot.name} ...", flush=True)
        warm_up(bot)
    for channel in channels:
        for bot in bots:
            runs = {}
            for mode, scripts in (
                ("alone", bot.scripts[:1]),
                ("loaded", bot.scripts[:conversations]),
            ):
                tag = f"{bot.name.split()[0]}-{channel}-{mode}"
                print(f"  {bot.name}, {channel}, {len(scripts)} conversation(s) ...", flush=True)
                runs[mode] = drive(bot, channel, scripts, folder, tag)
                print(
                    f"    {runs[mode].answered} answered in {runs[mode].seconds:.1f} s, "
                    f"{len(runs[mode].errors)} errors",
                    flush=True,
                )
            figures[(channel, bot.name)] = runs
    return figures


def gigabytes(value: int) -> str:
    return f"{value / 1e9:.2f} GB"


def report(
    figures: Dict[Tuple[str, str], Dict[str, Figures]],
    bots: List[Bot],
    channels: List[str],
    args: argparse.Namespace,
    context: Dict[str, Any],
) -> None:
    """Prints the table, the ratios and the targets."""
    ours, init = bots[0].name, bots[1].name
    print(
        f"\nload: {args.conversations} conversations × {args.messages} messages at once, and one "
        f"conversation alone; {context['date']}; Rasa {version('rasa')}, Python "
        f"{platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}; load average "
        f"{context['load_before']:.2f} before, {context['load_after']:.2f} after"
    )
    if context.get("replicas", 1) > 1:
        print(
            f"this project: {context['replicas']} Rasa replicas behind HAProxy (PostgreSQL, Redis, "
            "RabbitMQ); its Rasa CPU and RSS are one replica's, the others are listed below"
        )
    header = (
        f"\n{'channel':<9} {'bot':<15} {'msgs/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} "
        f"{'errors':>6} {'alone p50':>9} {'alone p95':>9} {'Rasa CPU':>8} {'Rasa RSS':>9} "
        f"{'VmHWM':>8}"
    )
    print(header)
    for channel in channels:
        for name in (ours, init):
            loaded = figures[(channel, name)]["loaded"]
            alone = figures[(channel, name)]["alone"]
            errors = len(loaded.errors) + len(alone.errors)
            top = max(loaded.latencies_ms) if loaded.latencies_ms else float("nan")
            print(
                f"{channel:<9} {name:<15} {loaded.rate:>7.1f} {loaded.p(0.5):>7.0f} "
                f"{loaded.p(0.95):>7.0f} {top:>7.0f} {errors:>6} {alone.p(0.5):>9.0f} "
                f"{alone.p(0.95):>9.0f} {loaded.cpu.get('rasa', 0):>8.0%} "
                f"{gigabytes(max(loaded.rss_max, alone.rss_max)):>9} {gigabytes(loaded.hwm):>8}"
            )
    print("\nours / init (target: msgs/s ≥ 2.0×, p95 ≤ 1.0×, no errors, alone p50 ≤ 1.0×):")
    for channel in channels:
        mine, theirs = figures[(channel, ours)], figures[(channel, init)]
        rate = mine["loaded"].rate / theirs["loaded"].rate if theirs["loaded"].rate else 0.0
        p95 = mine["loaded"].p(0.95) / theirs["loaded"].p(0.95)
        p50_alone = mine["alone"].p(0.5) / theirs["alone"].p(0.5)
        errors = len(mine["loaded"].errors) + len(mine["alone"].errors)
        verdict = (
            rate >= TARGET_RATIO
            and p95 <= 1.0
            and errors == 0
            and p50_alone <= 1.0
            and mine["loaded"].rss_max <= TARGET_RSS_BYTES
        )
        print(
            f"  {channel:<9} msgs/s {rate:.2f}×, p95 {p95:.2f}×, alone p50 {p50_alone:.2f}×, "
            f"errors {errors}, Rasa RSS {gigabytes(mine['loaded'].rss_max)}: "
            f"{'met' if verdict else 'NOT met'}"
        )
    for channel in channels:
        cpu = figures[(channel, ours)]["loaded"].cpu
        shares = ", ".join(f"{name} {share:.0%}" for name, share in cpu.items())
        print(f"CPU of our stack while loaded over {channel} (100% = one core): {shares}")
    print(
        "p50 of each conversation's first / second half of messages (ms), alone; loaded: a "
        "reply that slows down as the conversation grows shows here"
    )
    for channel in channels:
        for bot in bots:
            runs = figures[(channel, bot.name)]
            alone = "{:.0f} / {:.0f}".format(*runs["alone"].halves_p50(args.messages))
            loaded = "{:.0f} / {:.0f}".format(*runs["loaded"].halves_p50(args.messages))
            print(f"  {channel:<9} {bot.name:<15} {alone}; {loaded}")
    print("CPU per answered message (ms), alone / loaded:")
    for channel in channels:
        for bot in bots:
            runs = figures[(channel, bot.name)]
            used = ", ".join(
                f"{process} {runs['alone'].cpu_ms(process):.0f} / {runs['loaded'].cpu_ms(process):.0f}"
                for process in runs["loaded"].cpu
            )
            print(f"  {channel:<9} {bot.name:<15} {used}")
    for bot in bots:
        times, intents = context["parse"][bot.name]
        if not times:
            continue
        alone = figures[(channels[0], bot.name)]["alone"]
        read_as = ", ".join(f"{name} {count}" for name, count in intents.most_common())
        print(
            f"{bot.name}: one message alone {alone.p(0.5):.0f} ms over {channels[0]} (p50), of "
            f"which NLU (/model/parse) {statistics.median(times):.0f} ms; its messages read as: "
            f"{read_as}"
        )
    errors = [
        f"{channel} {name} {mode}: {error}"
        for (channel, name), runs in figures.items()
        for mode, run in runs.items()
        for error in run.errors
    ]
    for error, count in Counter(errors).most_common(10):
        print(f"  error ×{count}: {error}")


def options() -> argparse.Namespace:
    """The command line, with defaults from the environment."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--conversations",
        type=int,
        default=int(os.environ.get("BENCH_LOAD_CONVERSATIONS", "20")),
        help="conversations at once (20)",
    )
    parser.add_argument(
        "--messages",
        type=int,
        default=int(os.environ.get("BENCH_LOAD_MESSAGES", "20")),
        help="messages per conversation (20)",
    )
    parser.add_argument(
        "--channels",
        default=os.environ.get("BENCH_LOAD_CHANNELS", ",".join(CHANNELS)),
        help="rest, socketio or both, comma-separated",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        default=int(os.environ.get("BENCH_LOAD_REPLICAS", "1")),
        help="1: this project as `make run` starts it (default); 2 or more: the scaled topology "
        "of `make run-scaled` (Rasa replicas behind HAProxy, PostgreSQL, Redis, RabbitMQ)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temp dir (logs, Locust plans) and say where"
    )
    args = parser.parse_args()
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    args.channel_list = [c.strip() for c in args.channels.split(",") if c.strip()]
    if not args.channel_list or set(args.channel_list) - set(CHANNELS):
        parser.error(f"--channels takes {', '.join(CHANNELS)}")
    if args.conversations < 1 or args.messages < 1:
        parser.error("--conversations and --messages must be at least 1")
    return args


def wait_healthy(process: ManagedProcess, timeout: float = 300.0) -> None:
    """Waits until the process answers its health check."""
    deadline = time.monotonic() + timeout
    while not process.healthy():
        if not process.alive():
            raise BenchError(f"{process.name} exited during start-up:\n{process.log_tail()}")
        if time.monotonic() > deadline:
            raise BenchError(f"{process.name} not healthy after {timeout:.0f} s")
        time.sleep(0.5)


@contextlib.contextmanager
def single_stack(args: argparse.Namespace, folder: Path) -> Iterator[Bot]:
    """This project as `make run` starts it: one process each, SQLite."""
    try:
        settings: Settings = processes.throwaway_settings(folder / "var", ROOT / "endpoints.yml")
    except FileNotFoundError as missing:
        raise BenchError(str(missing)) from None
    settings.var_dir.mkdir(parents=True)
    with processes.seeded_stack(settings, folder / "logs") as children:
        named = {child.name: child for child in children}
        products = soak.seeded_products(f"sqlite:///{settings.var_dir / 'shop.db'}")
        yield Bot(
            name="this project",
            url=settings.rasa_url,
            rasa=named["rasa server"],
            scripts=our_scripts(products, max(args.conversations, 2), args.messages),
            token=settings.rasa_token,
            others={"action server": named["action server"], "web app": named["web app"]},
        )


@contextlib.contextmanager
def scaled_stack(args: argparse.Namespace, folder: Path) -> Iterator[Bot]:
    """This project as `make run-scaled` starts it, with databases and a broker queue of its own.

    The Rasa figures (RSS, CPU) are the first replica's; the others are listed beside the action
    server and the web app.
    """
    try:
        with soak.scaled_on_loopback(folder, args.replicas, "load") as (running, shared, _):
            first, *more = running.rasa
            yield Bot(
                name="this project",
                url=running.public_url,
                rasa=first,
                scripts=our_scripts(
                    soak.seeded_products(shared.shop_database_url),
                    max(args.conversations, 2),
                    args.messages,
                ),
                token=running.settings.rasa_token,
                others={
                    **{process.name: process for process in more},
                    "action server": running.actions,
                    "web app": running.web,
                },
            )
    except soak.Unavailable as missing:
        raise BenchError(f"the scaled topology cannot run: {missing}") from None


def run(args: argparse.Namespace, folder: Path) -> None:
    """Builds and starts both bots, measures, prints."""
    context: Dict[str, Any] = {
        "date": datetime.date.today().isoformat(),
        "load_before": os.getloadavg()[0],
        "parse": {},
    }
    project = init_bot(folder)
    init_process, init_url = init_server(project, folder)
    print(f"starting the rasa init bot and our stack (logs in {folder / 'logs'}) ...", flush=True)
    init_process.start()
    ours_stack = scaled_stack if args.replicas > 1 else single_stack
    try:
        with ours_stack(args, folder) as ours:
            wait_healthy(init_process)
            init = Bot(
                name="rasa init bot",
                url=init_url,
                rasa=init_process,
                scripts=init_scripts(max(args.conversations, 2), args.messages),
            )
            bots = [ours, init]
            figures = measure(bots, args.channel_list, args.conversations, folder)
            for bot in bots:
                context["parse"][bot.name] = parse_times(bot)
            context["load_after"] = os.getloadavg()[0]
            context["replicas"] = args.replicas
            report(figures, bots, args.channel_list, args, context)
    finally:
        init_process.stop()


def main() -> int:
    """Set up, measure, print, stop."""
    args = options()
    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    try:
        run(args, folder)
    except processes.StartupError as failure:
        print(f"our stack did not start: {failure}", file=sys.stderr)
        return 1
    except BenchError as failure:
        print(f"the benchmark could not run: {failure}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
