"""Realistic conversations: the share the assistant handles right, per topic.

Starts the real stack (web app, action server, Rasa server with the newest model) on free ports
with a freshly seeded demo shop in a temporary directory (the processes log there; `--keep`
keeps it) and plays every conversation of `tests/e2e/conversations/` over the REST channel,
one after the other, judged by the same runner and checks as `tests/e2e/test_conversations.py`:
facts in the replies against the database, rows written, nothing disclosed to the wrong
customer, nothing asked twice. A conversation is handled right when every check of every turn
passes; those marked `known_failure` count as failures (their cause is printed). Prints the
share per topic, then each failure with the turn, the reply, how it was read and the check.

    .venv/bin/python bench/conversations.py                  # about 3 minutes
    .venv/bin/python bench/conversations.py --topic orders --keep
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import processes  # noqa: E402
from tests.e2e.conftest import Assistant  # noqa: E402
from tests.e2e.conversations.runner import (  # noqa: E402
    ConversationRunner,
    Outcome,
    load_conversations,
    scores,
)
from tests.e2e.conversations.shop_facts import ShopFacts  # noqa: E402

TARGET_SHARE = 0.95


def report(outcomes: List[Outcome], not_run: List[str], seconds: float) -> None:
    """Prints the share per topic, then every failure."""
    turns = sum(len(o.turns) for o in outcomes)
    print(
        f"\nconversations: {len(outcomes)} played ({turns} customer messages, {seconds:.0f} s); "
        f"Python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}"
    )
    print(f"\n{'topic':<14} {'right':>5} {'total':>5} {'share':>6}  {'known failures':>14}")
    for topic, score in scores(outcomes).items():
        print(
            f"{topic:<14} {score.right:>5} {score.total:>5} {score.share:>6.0%}  {score.known:>14}"
        )
    overall = scores(outcomes)["all"] if outcomes else None
    if overall is not None:
        verdict = "met" if overall.share >= TARGET_SHARE else "NOT met"
        print(f"target: at least {TARGET_SHARE:.0%} handled right: {verdict}")
    if not_run:
        print(f"\nnot run (the seeded shop has no such order at this hour): {len(not_run)}")
        for line in not_run:
            print(f"  {line}")
    failed = [o for o in outcomes if not o.passed]
    newly = [o for o in outcomes if o.passed and o.conversation.known_failure]
    if newly:
        print("\nmarked known_failure but handled right now (remove the mark):")
        for outcome in newly:
            print(f"  {outcome.conversation.id}")
    print(f"\nfailures: {len(failed)}")
    for outcome in failed:
        print()
        print(outcome.report())


def main() -> int:
    """Start the stack, play the conversations, print, stop."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--topic", action="append", help="only this topic (repeatable)")
    parser.add_argument("--only", action="append", help="only this conversation id (repeatable)")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temp dir (logs, databases) and say where"
    )
    args = parser.parse_args()
    conversations = [
        c
        for c in load_conversations()
        if (not args.topic or c.topic in args.topic) and (not args.only or c.id in args.only)
    ]
    if not conversations:
        parser.error("no conversation matches")
    with processes.bench_stack("bench-conversations-", keep=args.keep) as (settings, children):
        shop = ShopFacts.for_var_dir(settings.var_dir)
        runner = ConversationRunner(Assistant(settings, children), shop)
        runner.prepare(conversations)
        not_run = [f"{cid}: {why}" for cid, why in runner.allocation_errors.items()]
        started = time.perf_counter()
        outcomes = [runner.run(c) for c in conversations if c.id not in runner.allocation_errors]
        seconds = time.perf_counter() - started
        shop.engine.dispose()
    report(outcomes, not_run, seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
