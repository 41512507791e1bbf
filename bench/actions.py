"""Action latency benchmark: p50/p95 of every shop lookup and of the actions that use them.

Seeds the deterministic demo shop into a temporary SQLite file (or uses BENCH_DATABASE_URL, e.g.
a seeded PostgreSQL: lookups are rolled back and the code-check action, which records the check,
is left out), then times each
repository function with a fresh session per call, as the actions open one, and each action's
whole `run` (session, queries, facts) without the HTTP hop. Prints a table; figures go to the
README.

    .venv/bin/python bench/actions.py            # BENCH_ITERATIONS=200 by default
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rasa_sdk import Tracker  # noqa: E402
from rasa_sdk.executor import CollectingDispatcher  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from actions.aftersale.price_protection import ActionPriceProtection  # noqa: E402
from actions.orders.logistics import ActionTrackLogistics  # noqa: E402
from actions.orders.status import ActionCheckOrderStatus, ActionCheckRefundStatus  # noqa: E402
from actions.presale.authenticity import ActionCheckAuthenticity  # noqa: E402
from actions.presale.catalog import ActionCheckStock, ActionProductInfo  # noqa: E402
from actions.presale.delivery import ActionCheckFreeShipping, ActionEstimateDelivery  # noqa: E402
from actions.presale.discounts import ActionCheckDiscount  # noqa: E402
from actions.presale.gifts import ActionSuggestGift  # noqa: E402
from actions.presale.installation import ActionInstallationInfo  # noqa: E402
from actions.presale.membership import ActionCheckMembership  # noqa: E402
from actions.presale.warranty import ActionCheckWarranty  # noqa: E402
from shop import clock, db  # noqa: E402
from shop import repository as repo  # noqa: E402
from shop.db.models import AntiCounterfeitCode, Customer, Order, Product  # noqa: E402
from shop.demo import seed  # noqa: E402
from shop.repository.installation import active_appointment_for_order  # noqa: E402
from shop.signing import proven_metadata  # noqa: E402

ITERATIONS = int(os.environ.get("BENCH_ITERATIONS", "200"))
KEY = "bench-signing-key"
SENDER = "bench"
Timing = Tuple[str, List[float]]


def percentile(samples: List[float], share: float) -> float:
    """The value below which `share` of the samples fall (nearest rank)."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))
    return ordered[rank]


def time_calls(call: Callable[[int], Any], iterations: int = ITERATIONS) -> List[float]:
    """Milliseconds of each of `iterations` calls (after two warm-up calls)."""
    call(0)
    call(1)
    samples = []
    for index in range(iterations):
        started = time.perf_counter()
        call(index)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def in_session(engine: Any, query: Callable[[Session, int], Any]) -> Callable[[int], Any]:
    """A call that opens a session, runs the query and rolls back (the shop is left as it was)."""

    def call(index: int) -> Any:
        with Session(engine, future=True) as session:
            try:
                return query(session, index)
            finally:
                session.rollback()

    return call


def sample_rows(engine: Any) -> Dict[str, Any]:
    """Ids, numbers and codes the lookups are asked about (taken from the shop)."""
    with Session(engine, future=True) as session:
        orders = session.execute(
            select(Order.id, Order.order_number, Customer.phone_tail)
            .join(Customer)
            .order_by(Order.id)
        ).all()
        return {
            "orders": orders,
            "customers": list(session.execute(select(Customer.id).order_by(Customer.id)).scalars()),
            "products": list(session.execute(select(Product.name).order_by(Product.id)).scalars()),
            "codes": list(
                session.execute(
                    select(AntiCounterfeitCode.code).order_by(AntiCounterfeitCode.id)
                ).scalars()
            ),
        }


def lookup_timings(engine: Any, rows: Dict[str, Any]) -> List[Timing]:
    """Time every repository function behind the actions."""
    now = clock.now()
    products, customers, orders = rows["products"], rows["customers"], rows["orders"]
    codes = rows["codes"]
    cities = ("杭州", "上海", "成都", "宁波", "拉萨")

    def pick(items: List[Any], index: int) -> Any:
        return items[index % len(items)]

    def product(session: Session, index: int) -> Product:
        return repo.find_product(session, pick(products, index))

    lookups: List[Tuple[str, Callable[[Session, int], Any]]] = [
        ("catalog.find_product", product),
        ("catalog.stock_for", lambda s, i: repo.stock_for(s, product(s, i))),
        ("catalog.active_promotions", lambda s, i: repo.active_promotions(s, product(s, i), now)),
        ("catalog.gifts_for", lambda s, i: repo.gifts_for(s, product(s, i).category, 100000)),
        (
            "catalog.verify_anti_counterfeit_code",
            lambda s, i: repo.verify_anti_counterfeit_code(s, pick(codes, i), now),
        ),
        (
            "customers.coupons_valid_now",
            lambda s, i: repo.coupons_valid_now(s, pick(customers, i), now),
        ),
        (
            "customers.customer_profile",
            lambda s, i: repo.customer_profile(s, pick(customers, i), now),
        ),
        (
            "orders.find_order (phone tail)",
            lambda s, i: repo.find_order(
                s, pick(orders, i).order_number, phone_tail=pick(orders, i).phone_tail
            ),
        ),
        (
            "installation.providers_for_city",
            lambda s, i: repo.providers_for_city(s, pick(cities, i)),
        ),
        (
            "installation.active_appointment_for_order",
            lambda s, i: active_appointment_for_order(s, pick(orders, i).id),
        ),
    ]
    return [(name, time_calls(in_session(engine, query))) for name, query in lookups]


def action_tracker(slots: Dict[str, Any], customer_id: Any = None) -> Tracker:
    """A tracker with the slots, signed in as the customer when one is given."""
    metadata = {} if customer_id is None else proven_metadata(customer_id, SENDER, KEY)
    latest = {"text": "", "intent": {"name": "inform"}, "entities": [], "metadata": metadata}
    return Tracker(SENDER, slots, latest, [], False, None, {}, "action_listen")


def action_timings(rows: Dict[str, Any], writes: bool) -> List[Timing]:
    """Time each action's whole run (session, queries and facts; no HTTP).

    The code check records the check, so it runs only when `writes` is allowed.
    """
    products, customers, codes = rows["products"], rows["customers"], rows["codes"]
    orders = rows["orders"]
    n = len(products)

    def order(i: int) -> Tuple[Dict[str, Any], None]:
        row = orders[(i * 7) % len(orders)]
        return {"order_id": row.order_number, "phone_tail": row.phone_tail}, None

    cases = [
        ("action_check_order_status", ActionCheckOrderStatus(), order),
        ("action_track_logistics (writes chase tickets)", ActionTrackLogistics(), order),
        ("action_check_refund_status", ActionCheckRefundStatus(), order),
        ("action_price_protection (writes tickets)", ActionPriceProtection(), order),
        ("action_estimate_delivery", ActionEstimateDelivery(), lambda i: ({"city": "成都"}, None)),
        (
            "action_check_free_shipping",
            ActionCheckFreeShipping(),
            lambda i: ({"city": "拉萨", "product": products[i % n]}, None),
        ),
        ("action_check_stock", ActionCheckStock(), lambda i: ({"product": products[i % n]}, None)),
        (
            "action_product_info",
            ActionProductInfo(),
            lambda i: ({"product": products[i % n]}, None),
        ),
        (
            "action_check_authenticity (code)",
            ActionCheckAuthenticity(),
            lambda i: ({"auth_code": codes[i % len(codes)]}, None),
        ),
        (
            "action_check_discount (signed in)",
            ActionCheckDiscount(),
            lambda i: ({"product": products[i % n]}, customers[i % len(customers)]),
        ),
        (
            "action_suggest_gift (signed in)",
            ActionSuggestGift(),
            lambda i: ({"product": products[i % n]}, customers[i % len(customers)]),
        ),
        (
            "action_check_warranty",
            ActionCheckWarranty(),
            lambda i: ({"product": products[i % 20], "city": "杭州"}, None),
        ),
        (
            "action_check_membership (signed in)",
            ActionCheckMembership(),
            lambda i: ({}, customers[i % len(customers)]),
        ),
        (
            "action_installation_info",
            ActionInstallationInfo(),
            lambda i: ({"product": products[i % 20]}, None),
        ),
    ]
    if not writes:
        cases = [case for case in cases if "code" not in case[0] and "writes" not in case[0]]
    timings = []
    for name, action, arguments in cases:

        def call(index: int, action: Any = action, arguments: Any = arguments) -> None:
            slots, customer_id = arguments(index)
            tracker = action_tracker(slots, customer_id)
            asyncio.run(action.run(CollectingDispatcher(), tracker, {}))

        timings.append((name, time_calls(call)))
    return timings


def print_table(title: str, timings: List[Timing]) -> None:
    """One line per lookup: calls, p50 and p95 in milliseconds."""
    width = max(len(name) for name, _ in timings)
    print(f"\n{title}")
    print(f"{'':<{width}}  {'calls':>5}  {'p50 ms':>7}  {'p95 ms':>7}")
    for name, samples in timings:
        p50, p95 = statistics.median(samples), percentile(samples, 0.95)
        print(f"{name:<{width}}  {len(samples):>5}  {p50:>7.2f}  {p95:>7.2f}")


def main() -> int:
    """Seed (or open) the shop, time the lookups and the actions, print the tables."""
    given = os.environ.get("BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as folder:
        url = given or f"sqlite:///{Path(folder) / 'shop.db'}"
        if not given:
            seed.run(url, seed.DEMO_NOW, demo=True, accounts=False)
        os.environ["SHOP_DATABASE_URL"] = url
        os.environ["SHOP_SIGNING_KEY"] = KEY
        if not given:  # the demo shop's promotions and coupons run around its seeding time
            clock.now = lambda: seed.DEMO_NOW
        db.reset()
        engine = db.make_engine(url)
        try:
            rows = sample_rows(engine)
            print(
                f"shop lookups on {engine.dialect.name} ({len(rows['products'])} products, "
                f"{len(rows['customers'])} customers, {len(rows['orders'])} orders); "
                f"{ITERATIONS} calls each; Python {platform.python_version()}, "
                f"{os.cpu_count()} cores"
            )
            print_table(
                "repository functions (session per call, rolled back)", lookup_timings(engine, rows)
            )
            print_table("actions (whole run; no HTTP)", action_timings(rows, writes=not given))
        finally:
            engine.dispose()
            db.reset()
    return 0


if __name__ == "__main__":
    sys.exit(main())
