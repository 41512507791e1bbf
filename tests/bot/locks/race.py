"""Two OS processes racing on one conversation's lock (`python -m tests.bot.locks.race` prints both).

Each process runs rounds of a critical section under the store's `lock()`: read a counter, sleep
half a millisecond, write the counter plus one. Two holders at once lose an update; the section
also counts its holders, so an overlap is seen even when the writes happen to interleave
harmlessly. A round that cannot get the lock within two ticket lifetimes is given up and counted
as stuck (Rasa's own store can wait forever for a ticket that a concurrent write erased).
"""

import asyncio
import multiprocessing
import time
import uuid
from dataclasses import dataclass

import redis
from rasa.core.lock_store import LockError, RedisLockStore

from bot.locks.redis_atomic import AtomicRedisLockStore

HOST, PORT, DB = "127.0.0.1", 6379, 0
CONVERSATION = "race-conversation"


@dataclass
class Tally:
    """What racing processes saw."""

    done: int = 0  # critical sections completed (each wrote counter + 1)
    errors: int = 0  # LockError raised by the store
    stuck: int = 0  # rounds given up while waiting for the lock
    overlaps: int = 0  # critical sections entered while another process was inside
    counter: int = 0  # the counter at the end (set by `run_race`)
    seconds: float = 0.0

    @property
    def lost(self) -> int:
        """Updates lost: sections completed that the counter does not show."""
        return self.done - self.counter

    @property
    def defects(self) -> int:
        return self.lost + self.errors + self.stuck + self.overlaps

    def __str__(self) -> str:
        return (
            f"{self.done} sections, counter {self.counter}, {self.lost} lost updates, "
            f"{self.overlaps} overlaps, {self.errors} lock errors, {self.stuck} stuck, "
            f"{self.seconds:.1f} s"
        )


def make_store(kind, key_prefix):
    """Our atomic store or Rasa's own `RedisLockStore`."""
    if kind == "atomic":
        return AtomicRedisLockStore(host=HOST, port=PORT, db=DB, key_prefix=key_prefix)
    return RedisLockStore(host=HOST, port=PORT, db=DB, key_prefix=key_prefix)


def race(kind, key_prefix, rounds, lifetime, seconds, start, stop, results):
    """One racing process: `rounds` sections once `start` is set, its `Tally` put on `results`.

    It stops early after `seconds`, or when `stop` is set (by itself or the other process on a
    visible defect) if `stop` is given.
    """
    store = make_store(kind, key_prefix)
    red = redis.Redis(host=HOST, port=PORT, db=DB)
    counter, holders = f"{key_prefix}:counter", f"{key_prefix}:holders"
    tally = Tally()

    async def one_round():
        async with store.lock(CONVERSATION, lifetime, wait_time_in_seconds=0.005):
            if red.incr(holders) > 1:
                tally.overlaps += 1
            value = int(red.get(counter) or 0)
            time.sleep(0.0005)
            red.set(counter, value + 1)
            red.decr(holders)
            tally.done += 1

    async def rounds_under_lock():
        deadline = time.monotonic() + seconds
        for _ in range(rounds):
            if time.monotonic() > deadline or (stop is not None and stop.is_set()):
                break
            try:
                await asyncio.wait_for(one_round(), timeout=2 * lifetime)
            except LockError:
                tally.errors += 1
            except asyncio.TimeoutError:
                tally.stuck += 1
            if stop is not None and tally.errors + tally.stuck + tally.overlaps:
                stop.set()

    start.wait(120)
    asyncio.run(rounds_under_lock())
    results.put(tally)


def run_race(kind, rounds, lifetime=1.0, seconds=30.0, stop_on_defect=False) -> Tally:
    """Two spawned processes race `rounds` sections each on one conversation; the sum of both.

    Args:
        kind: "atomic" (ours) or "stock" (Rasa's `RedisLockStore`).
        rounds: Sections per process.
        lifetime: Ticket lifetime in seconds.
        seconds: Time limit per process.
        stop_on_defect: Stop both at the first overlap, lock error or stuck round.
    """
    context = multiprocessing.get_context("spawn")
    prefix = f"race{uuid.uuid4().hex[:12]}"  # Rasa's store takes letters and digits only
    start, results = context.Event(), context.Queue()
    stop = context.Event() if stop_on_defect else None
    processes = [
        context.Process(
            target=race, args=(kind, prefix, rounds, lifetime, seconds, start, stop, results)
        )
        for _ in range(2)
    ]
    red = redis.Redis(host=HOST, port=PORT, db=DB)
    try:
        for process in processes:
            process.start()
        time.sleep(0.2)
        began = time.monotonic()
        start.set()
        tallies = [results.get(timeout=seconds + 120) for _ in processes]
        total = Tally(seconds=time.monotonic() - began)
        for tally in tallies:
            total.done += tally.done
            total.errors += tally.errors
            total.stuck += tally.stuck
            total.overlaps += tally.overlaps
        total.counter = int(red.get(f"{prefix}:counter") or 0)
        return total
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
        for key in red.scan_iter(f"{prefix}:*"):
            red.delete(key)
        red.close()


def main() -> None:
    """Prints the race's figures for Rasa's store and ours (200 sections per process)."""
    for kind in ("stock", "atomic"):
        print(f"{kind:>6}: {run_race(kind, 200)}", flush=True)


if __name__ == "__main__":
    main()
