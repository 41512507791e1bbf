"""Trainer workbench benchmark: the inbox at 100,000 messages, label writes, train to deployed.

1. Builds a tracker store in Rasa's SQL schema with 100,000 customer messages (about a third of
   them near-duplicates of others, a tenth sent to the fallback), fills the workbench's inbox
   index from it, then times the inbox's first page, a text search, an intent filter and a deep
   page, and writing labelled examples into a copy of `data/nlu/` (round-trip YAML, duplicate
   checks, lock, atomic replace). Prints p50/p95 of each.
2. Train to deployed (`--runs`, 1 by default; `--runs 0` skips it): a copy of the workspace
   with a copy of Rasa's training cache is first trained as `make train` would (restored from
   the cache when `make train` has run on the same files; the time is printed), and that model
   is served by the real stack (web app, action server, Rasa server) on free ports, its
   workbench on the copy. A few customers' slang messages are labelled into the copy (the NLU
   data changes, the dialogue data does not), then, through the workbench's HTTP API as the
   page calls it: "train" pressed, the job polled until its evaluation is done, "deploy"
   pressed, polled until every Rasa server has loaded the model, and Rasa's parse asked until
   it reads the slang as labelled (answering with the new model). Then "rollback", until the
   old reading is back. Prints the times, the job's steps (checks, `rasa train`, evaluation) and
   what `rasa train` did with each component.

Part 2 holds `/tmp/train.lock` (`BENCH_TRAIN_LOCK`; empty: no lock) while it runs, as every
training on this machine does.

    .venv/bin/python bench/trainer.py             # inbox, labels, one train-to-deployed run
    .venv/bin/python bench/trainer.py --runs 0    # inbox and labels only: seconds
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import http.cookiejar
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import processes  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.trainer import inbox, tokens, training, workspace  # noqa: E402
from bot.trainer.labels import DataFiles  # noqa: E402
from bot.trainer.store import engine_for  # noqa: E402

MESSAGES = 100_000
ROUNDS = 20
LABELS = 20
SCHEMA = (
    "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
    "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
    "action_name VARCHAR(255), data TEXT)"
)
INTENTS = ["ask_stock", "track_logistics", "request_return", "ask_discount", "greet", "chitchat"]
STEMS = ["还有货吗", "快递到哪了", "我要退货", "能便宜点吗", "亲在吗", "今天好累", "帮我查下订单"]
T0 = 1_800_000_000.0


def _event(rng: random.Random, n: int) -> dict:
    text = f"{rng.choice(STEMS)}{n % 66_000}" if n % 3 else rng.choice(STEMS) + "呀"
    first = rng.random()
    ranking = [
        {"name": rng.choice(INTENTS), "confidence": first},
        {"name": rng.choice(INTENTS), "confidence": (1 - first) * rng.random()},
    ]
    intent = {"name": "nlu_fallback", "confidence": 0.4} if first < 0.1 else ranking[0]
    return {
        "event": "user",
        "timestamp": T0 + n,
        "text": text,
        "input_channel": "socketio",
        "metadata": {},
        "parse_data": {"intent": intent, "intent_ranking": ranking, "entities": [], "text": text},
    }


def _percentiles(samples: list) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms"


def _timed(work, rounds: int = ROUNDS) -> list:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return samples


def inbox_and_labels() -> None:
    """Part 1: the inbox at 100,000 messages and label writes."""
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        store = work / "tracker.db"
        with sqlite3.connect(store) as db:
            db.execute(SCHEMA)
            db.executemany(
                "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?,?,?,?)",
                (
                    (f"s{n % 20_000}", "user", T0 + n, json.dumps(_event(rng, n)))
                    for n in range(MESSAGES)
                ),
            )
        engine = engine_for(f"sqlite:///{work / 'trainer.db'}")
        started = time.perf_counter()
        read = inbox.sync(engine, f"sqlite:///{store}", most=MESSAGES)
        filled = time.perf_counter() - started
        _, groups = inbox.page(engine, inbox.Filters())
        print(
            f"inbox index filled from {read:,} tracker events in {filled:.1f} s ({groups:,} groups)"
        )
        started = time.perf_counter()
        inbox.sync(engine, f"sqlite:///{store}")
        print(f"sync with nothing new: {(time.perf_counter() - started) * 1000:.1f} ms")
        cases = {
            "first page (50 groups)": inbox.Filters(),
            "search 快递 (first page)": inbox.Filters(search="快递"),
            "intent filter ask_stock": inbox.Filters(intent="ask_stock"),
            "confidence <= 0.3": inbox.Filters(max_confidence=0.3),
        }
        for name, filters in cases.items():
            samples = _timed(lambda f=filters: inbox.page(engine, f))
            print(f"{name:28s} {_percentiles(samples)}")
        samples = _timed(lambda: inbox.page(engine, inbox.Filters(), offset=groups - 60))
        print(f"{'last page':28s} {_percentiles(samples)}")

        workspace = work / "nlu"
        shutil.copytree(ROOT / "data" / "nlu", workspace)
        tokens.load_user_dictionaries(ROOT / "data" / "dicts")
        data = DataFiles(workspace, ROOT / "tests" / "nlu" / "heldout.yml")
        texts = iter(f"基准测试第{n}条问库存还有没有" for n in range(LABELS))
        samples = _timed(lambda: data.add(next(texts), "ask_stock"), LABELS)
        print(f"{'label to file (one example)':28s} {_percentiles(samples)}")


# -- part 2: train to deployed --------------------------------------------------------------

SLANG_INTENT = "ask_discount"
SLANG = ["想薅点羊毛", "有没有羊毛可以薅", "这单还能薅羊毛吗", "店里最近有羊毛薅不"]
POLL_SECONDS = 0.5
TRAIN_TIMEOUT = 30 * 60
LOAD_TIMEOUT = 10 * 60


class BenchError(RuntimeError):
    """The loop did not complete."""


class Client:
    """The workbench's HTTP API as its page calls it (cookie, `X-Trainer` header), and Rasa's."""

    def __init__(self, settings: Settings) -> None:
        """Nobody is signed in yet."""
        self.settings = settings
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def sign_in(self, username: str, password: str) -> None:
        """Signs a staff member in at /trainer (the session cookie is kept)."""
        form = urllib.parse.urlencode({"username": username, "password": password}).encode()
        self.opener.open(f"{self.settings.web_url}/trainer/signin", form, timeout=60).read()

    def workbench(self, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Any:
        """Calls a workbench route and answers its JSON."""
        request = urllib.request.Request(
            f"{self.settings.web_url}{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Content-Type": "application/json", "X-Trainer": "1"},
        )
        with self.opener.open(request, timeout=120) as response:
            return json.loads(response.read())

    def rasa(self, path: str, body: Optional[Dict[str, Any]] = None) -> Any:
        """Calls the Rasa server's token-protected HTTP API."""
        url = f"{self.settings.rasa_url}{path}?token={self.settings.rasa_token}"
        request = urllib.request.Request(
            url,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def reading(self, text: str) -> str:
        """The intent the Rasa server reads a text as."""
        return self.rasa("/model/parse", {"text": text})["intent"]["name"]

    def until(self, check: Any, timeout: float, what: str) -> Any:
        """Polls `check()` until it answers something true; that answer."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            time.sleep(POLL_SECONDS)
        raise BenchError(f"{what} did not happen within {timeout:.0f} s")

    def deploy(self, name: str, rollback: bool) -> Dict[str, Any]:
        """Presses deploy (or rollback) and waits until the deployment ended."""
        verb = "rollback" if rollback else "deploy"
        self.workbench(
            "POST",
            f"/trainer/api/models/{urllib.parse.quote(name)}/{verb}",
            {"override_reason": "benchmark: deploy whatever the gate says"},
        )

        def ended() -> Optional[Dict[str, Any]]:
            deployment = self.workbench("GET", "/trainer/api/models")["deployment"]
            return deployment if deployment.get("state") not in (None, "running") else None

        deployment = self.until(ended, LOAD_TIMEOUT, f"{verb} of {name}")
        if deployment["state"] != "succeeded":
            raise BenchError(f"{verb} of {name} failed: {deployment.get('error')}")
        return deployment


@contextlib.contextmanager
def train_lock() -> Iterator[None]:
    """Holds the machine's training lock (`BENCH_TRAIN_LOCK`, default /tmp/train.lock)."""
    path = os.environ.get("BENCH_TRAIN_LOCK", "/tmp/train.lock")
    if not path:
        yield
        return
    with open(path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"  waiting for {path} (another training is running) ...", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def one_run(client: Client, served: str, jobs_dir: Path) -> Dict[str, Any]:
    """Train pressed → evaluated → deploy pressed → answering, then rollback; the times."""
    before = client.reading(SLANG[0])
    pressed = time.monotonic()
    job = client.workbench("POST", "/trainer/api/training")["job"]

    def finished() -> Optional[Dict[str, Any]]:
        found = client.workbench("GET", "/trainer/api/training")
        return found if found["job"]["state"] != "running" else None

    done = client.until(finished, TRAIN_TIMEOUT, "the training job")
    evaluated = time.monotonic()
    if done["job"]["state"] != "succeeded":
        raise BenchError(f"the training job {done['job']['state']}: {done['job']['error']}")
    name = Path(done["job"]["model_path"]).name
    client.deploy(name, rollback=False)
    loaded = time.monotonic()
    client.until(lambda: client.reading(SLANG[0]) == SLANG_INTENT, 60, "the new reading")
    answering = time.monotonic()
    rolled = time.monotonic()
    client.deploy(served, rollback=True)
    client.until(lambda: client.reading(SLANG[0]) == before, 60, "the old reading")
    return {
        "reading": (before, SLANG_INTENT),
        "evaluated": evaluated - pressed,
        "deployed": loaded - evaluated,
        "answering": answering - pressed,
        "rollback": time.monotonic() - rolled,
        "steps": done["job"]["seconds"],
        "components": training.component_seconds(jobs_dir / f"{job['id']}.log"),
        "gate": (done.get("gate") or {}).get("passed"),
        "heldout": (done.get("evaluation") or {}).get("heldout", {}),
    }


def serve_first(copy: Path, models: Path, logs: Path) -> Path:
    """Trains the copy as `make train` would (with its cache) into `models`: the served model.

    Raises:
        BenchError: when the training fails.
    """
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / "first-train.log"
    started = time.monotonic()
    with log.open("wb") as output:
        done = subprocess.run(
            [
                str(training.VENV_BIN / "rasa"),
                "train",
                "--out",
                str(models),
                "--fixed-model-name",
                "shop-assist-bench-served",
            ],
            cwd=copy,
            env={
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "RASA_CACHE_DIRECTORY": str((copy / ".rasa" / "cache").resolve()),
            },
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    model = models / "shop-assist-bench-served.tar.gz"
    if done.returncode != 0 or not model.exists():
        raise BenchError(f"the first training failed (exit {done.returncode}), see {log}")
    trained = [c["component"] for c in training.component_seconds(log) if not c["restored"]]
    print(
        f"the served model: trained from the copy in {time.monotonic() - started:.0f} s "
        + (f"(trained: {', '.join(trained)})" if trained else "(all restored from the cache)"),
        flush=True,
    )
    return model


def train_to_deployed(runs: int) -> None:
    """Part 2: the real stack, a workspace copy with new slang examples, `runs` loops."""
    folder = Path(tempfile.mkdtemp(prefix="bench-trainer-"))
    try:
        try:
            settings = processes.throwaway_settings(folder / "var", ROOT / "endpoints.yml")
        except FileNotFoundError as missing:
            print(f"train to deployed: skipped ({missing})")
            return
        models = folder / "models"
        settings = dataclasses.replace(settings, models_dir=models)
        settings.var_dir.mkdir(parents=True)
        copy = workspace.copy_workspace(ROOT, folder / "workspace", with_training_cache=True)
        os.environ.update(SHOP_TRAINER_WORKSPACE=str(copy), SHOP_MODELS_DIR=str(models))
        os.environ.pop("SHOP_RASA_REPLICAS", None)
        os.environ.pop("RASA_CACHE_DIRECTORY", None)
        results: List[Dict[str, Any]] = []
        with train_lock():
            served = serve_first(copy, models, folder / "logs")
            tokens.load_user_dictionaries(copy / "data" / "dicts")
            data = DataFiles(copy / "data" / "nlu", copy / "tests" / "nlu" / "heldout.yml")
            for text in SLANG:
                data.add(text, SLANG_INTENT)
            print(f"starting the stack (logs in {folder / 'logs'}) ...", flush=True)
            with processes.seeded_stack(settings, folder / "logs"):
                client = Client(settings)
                client.sign_in("supervisor", "supervisor-demo")
                jobs = settings.var_dir / "trainer" / "jobs"
                for number in range(runs):
                    if number:  # the next run trains something new again
                        data.add(f"店里还有羊毛吗{number}", SLANG_INTENT)
                    results.append(one_run(client, served.name, jobs))
        report(results)
    except (BenchError, processes.StartupError) as failure:
        print(f"train to deployed: did not complete: {failure}", file=sys.stderr)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def report(results: List[Dict[str, Any]]) -> None:
    """Prints the medians of the runs and the last run's breakdown."""

    def median(key: str) -> float:
        return statistics.median(r[key] for r in results)

    last = results[-1]
    before, after = last["reading"]
    print(
        f"train to deployed ({len(results)} run(s), median; {len(SLANG)} slang examples added, "
        f"{SLANG[0]} read {before} before, {after} after; load {os.getloadavg()[0]:.1f})"
    )
    print(f"  {'train pressed -> evaluated':40s} {median('evaluated'):6.0f} s")
    steps = last["steps"]
    print(
        "    "
        + ", ".join(
            f"{step} {steps[step]:.0f} s" for step in ("checking", "training", "evaluating")
        )
    )
    trained = [c for c in last["components"] if not c["restored"]]
    restored = [c["component"] for c in last["components"] if c["restored"]]
    rest = steps["training"] - sum(c["seconds"] or 0 for c in trained)
    print(
        "    rasa train: "
        + ", ".join(f"{c['component']} {c['seconds'] or 0:.0f} s" for c in trained)
        + f", start-up, reading the data and packing {rest:.0f} s"
        + (f"; restored from the cache: {', '.join(restored)}" if restored else "")
    )
    heldout = last["heldout"]
    print(
        f"    held-out macro-F1 new {heldout.get('new', {}).get('macro_f1')} "
        f"serving {heldout.get('serving', {}).get('macro_f1')}; gate passed: {last['gate']}"
    )
    print(f"  {'deploy pressed -> loaded everywhere':40s} {median('deployed'):6.0f} s")
    print(f"  {'train pressed -> answering, new model':40s} {median('answering'):6.0f} s")
    print(f"  {'rollback pressed -> old reading back':40s} {median('rollback'):6.0f} s")


def main() -> int:
    """Runs the benchmark and prints its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=1, help="train-to-deployed loops (0: skip them)"
    )
    args = parser.parse_args()
    inbox_and_labels()
    if args.runs > 0:
        train_to_deployed(args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
