"""Trainer workbench benchmark: the inbox at 100,000 customer messages, and label-to-file writes.

Builds a tracker store in Rasa's SQL schema with 100,000 customer messages (about a third of
them near-duplicates of others, a tenth sent to the fallback), fills the workbench's inbox index
from it, then times the inbox's first page, a text search, an intent filter and a deep page, and
writing labelled examples into a copy of `data/nlu/` (round-trip YAML, duplicate checks, lock,
atomic replace). Prints p50/p95 of each.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.trainer import inbox, tokens  # noqa: E402
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


def main() -> int:
    """Runs the benchmark and prints its figures."""
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
        tokens.load_dictionaries(ROOT / "data" / "dicts")
        data = DataFiles(workspace, ROOT / "tests" / "nlu" / "heldout.yml")
        texts = iter(f"基准测试第{n}条问库存还有没有" for n in range(LABELS))
        samples = _timed(lambda: data.add(next(texts), "ask_stock"), LABELS)
        print(f"{'label to file (one example)':28s} {_percentiles(samples)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
